// The one polling helper of the test suites (Node, end-to-end and Worker tests alike): wait on a
// condition, never for a fixed time. Built on vitest's own `vi.waitFor`.
import { vi } from "vitest";

export interface WaitOptions {
  /** A guard against hanging, not a timing assertion: generous, because the machine may be loaded. */
  timeout?: number;
  interval?: number;
}

type Probe<T> = () => T | undefined | null | false | Promise<T | undefined | null | false>;

/**
 * Calls `probe` until it returns a value (anything but `undefined`, `null` or `false`) and returns
 * that value. A probe that throws is retried too, and its last error is the one reported.
 */
export function waitFor<T>(what: string, probe: Probe<T>, options: WaitOptions = {}): Promise<T> {
  return vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined || value === null || value === false) throw new Error(`timed out waiting for ${what}`);
      return value;
    },
    { timeout: options.timeout ?? 30_000, interval: options.interval ?? 50 },
  );
}
