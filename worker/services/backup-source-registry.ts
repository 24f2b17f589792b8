import type { BackupTargetKind } from "../db/schema.ts";
import { ApiError } from "../errors.ts";
import { type BackupSource, type BackupTarget, volumeSource } from "./backup-sources.ts";
import { containerSource, databaseSource } from "./database-backups.ts";
import { serverSource } from "./server-backup-source.ts";

/**
 * Every target kind's source (databases' and containers' are in database-backups.ts, servers' in
 * server-backup-source.ts). A kind without one is refused with a 422 rather than failing later in its
 * task. In its own module, so that backup-sources.ts, which the sources build on, imports none of them.
 */
const sources = (): Partial<{ [K in BackupTargetKind]: BackupSource<Extract<BackupTarget, { kind: K }>> }> => ({
  volume: volumeSource,
  database: databaseSource,
  container: containerSource,
  server: serverSource,
});

export function sourceFor<T extends BackupTarget>(kind: T["kind"]): BackupSource<T> {
  const source = sources()[kind] as BackupSource<T> | undefined;
  if (!source) throw new ApiError(422, `Backups of ${kind} targets are not supported by this Pier yet.`);
  return source;
}
