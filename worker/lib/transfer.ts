// The Worker's side of byte transfers (protocol/transfer.ts): a download as a response body, an
// upload's body as the relay reads it. The relay paces the agent; these keep the Worker's part
// bounded too (a download reads ahead by at most DOWNLOAD_READ_AHEAD_BYTES) and make sure the
// host stops when the client goes away.

/**
 * How far each hop after the relay's Durable Object reads a download ahead of the next one (the
 * stream that crosses the RPC boundary, and the response body here). At 0 each piece waited for
 * the client's read to travel back through every process before the next was asked for, so the
 * relay's queue stayed full and the agent waited for credit; 2 MiB keeps them busy.
 */
export const DOWNLOAD_READ_AHEAD_BYTES = 2 * 1024 * 1024;

/** The one RPC a download body needs from its relay. */
export interface TransferCanceller {
  cancelTransfer(id: string): Promise<void>;
}

/**
 * The download's bytes for a response body. Cancelling it (the client went away) also calls
 * `cancelTransfer`: a cancel across the RPC boundary may not reach the relay promptly, and the
 * host must stop reading the engine now, not at the deadline.
 */
export function downloadBody(
  relay: TransferCanceller,
  opened: { id: string; stream: ReadableStream<Uint8Array> },
): ReadableStream<Uint8Array> {
  const reader = opened.stream.getReader();
  let finished = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await reader.read();
        if (done) {
          finished = true;
          controller.close();
        } else controller.enqueue(value);
      },
      async cancel(reason) {
        if (finished) return;
        await Promise.allSettled([relay.cancelTransfer(opened.id), reader.cancel(reason)]);
      },
    },
    { highWaterMark: DOWNLOAD_READ_AHEAD_BYTES, size: (chunk) => chunk.byteLength },
  );
}
