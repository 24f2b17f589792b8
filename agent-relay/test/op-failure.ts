import { toRelayError } from "../src/errors.ts";

/** The relay error an op's promise fails with, as the agent would send it; a success fails the test. */
export async function failure(promise: Promise<unknown>) {
  try {
    await promise;
  } catch (error) {
    return toRelayError(error);
  }
  throw new Error("expected the operation to fail");
}
