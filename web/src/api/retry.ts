// When a failed query is tried again. Shared by every query (main.tsx's QueryClient defaults).
import { ApiProblem } from "./problem.ts";

/**
 * No answer at all: fetch itself failed (a TypeError), so the request may never have left the
 * browser. Chromium fails every request in flight with ERR_NETWORK_CHANGED whenever a network
 * interface comes or goes, and Docker adds and removes one for each container and network it
 * creates: on a machine that runs containers (a developer's laptop, Pier's own test machine) such
 * failures come in bursts and pass in a moment.
 */
export const noAnswer = (err: unknown): boolean => err instanceof TypeError;

/** Tries after no answer: with `queryRetryDelay`, they cover about 20 s of interface changes. */
const NO_ANSWER_RETRIES = 8;

/** Server errors and rate limiting (429) are worth three more tries; other 4xx are answers. */
export function retryQuery(failures: number, err: unknown): boolean {
  if (noAnswer(err)) return failures < NO_ANSWER_RETRIES;
  return failures < 3 && !(err instanceof ApiProblem && err.status < 500 && err.status !== 429);
}

/** Quick tries after no answer (0.25 s, doubling up to 4 s); TanStack Query's own back-off otherwise. */
export function queryRetryDelay(failures: number, err: unknown): number {
  return noAnswer(err) ? Math.min(250 * 2 ** failures, 4_000) : Math.min(1_000 * 2 ** failures, 30_000);
}
