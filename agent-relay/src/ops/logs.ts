import { LineSplitter } from "../docker/streams.ts";
import { InvalidArgsError } from "../errors.ts";
import type { LogLine, OpArgs } from "../protocol.ts";
import type { OpContext } from "./context.ts";

/** A non-following log answer holds at most this much text; older lines are dropped first. */
export const LOG_RESULT_MAX_CHARS = 2 * 1024 * 1024;

export async function containerLogs(args: OpArgs<"container.logs">, ctx: OpContext) {
  const query = {
    follow: args.follow,
    stdout: args.stdout ?? true,
    stderr: args.stderr ?? true,
    since: toEpochSeconds(args.since),
    timestamps: args.timestamps,
    tail: args.tail,
  };
  const pieces = ctx.docker.logs(args.id, query, ctx.signal);

  if (args.follow) {
    for await (const piece of pieces) await ctx.output.write(piece.text, piece.stream);
    return undefined;
  }

  const splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  const lines: LogLine[] = [];
  let chars = 0;
  let dropped = 0;
  const keep = (stream: LogLine["stream"], texts: string[]) => {
    for (const text of texts) {
      lines.push({ stream, text });
      chars += text.length;
    }
    while (chars > LOG_RESULT_MAX_CHARS && dropped < lines.length) chars -= lines[dropped++]!.text.length;
  };
  for await (const piece of pieces) keep(piece.stream, splitters[piece.stream].push(piece.text));
  keep("stdout", splitters.stdout.end());
  keep("stderr", splitters.stderr.end());
  return { lines: lines.slice(dropped), truncated: dropped > 0 };
}

function toEpochSeconds(since: number | string | undefined): number | undefined {
  if (since === undefined || typeof since === "number") return since;
  const ms = Date.parse(since);
  if (Number.isNaN(ms)) throw new InvalidArgsError(`since: ${since} is not a time`);
  return ms / 1000;
}
