import { randomToken } from "../lib/crypto";

/**
 * How backups are named in the backups bucket. The name carries everything listing needs — the kind, the time
 * it was taken, the format of what is inside — so the bucket alone describes itself when the database is gone.
 *
 *   database/20261203T013000.123Z-<random>.pgc.kbk   pg_dump custom format (Postgres), encrypted
 *   database/20261203T013000.123Z-<random>.sql.kbk   PGlite's pg_dump, plain SQL (the embedded default)
 *   secrets/20261207T020000.000Z-<random>.json.kbk   the secrets, a JSON object by variable name
 *   leases/<random>                                  a restore or verify reading an object (cleanup skips it)
 *
 * Reports live beside them under reports/ (not a backup: listing and cleanup never look there).
 */

export type BackupKind = "database" | "secrets";
/** pgc: pg_dump -Fc, restored by pg_restore; sql: a plain script, restored by executing it; json: secrets. */
export type BackupFormat = "pgc" | "sql" | "json";

export const BACKUP_PREFIXES: Record<BackupKind, string> = { database: "database/", secrets: "secrets/" };
export const LEASE_PREFIX = "leases/";
export const BACKUP_CONTENT_TYPE = "application/vnd.keshless.backup";

const NAME = /^(database|secrets)\/(\d{8})T(\d{6})\.(\d{3})Z-[A-Za-z0-9_-]+\.(pgc|sql|json)\.kbk$/;

export interface BackupName {
  object: string;
  kind: BackupKind;
  format: BackupFormat;
  createdAt: Date;
}

const compact = (at: Date) => {
  const iso = at.toISOString(); // 2026-12-03T01:30:00.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}.${iso.slice(20, 23)}Z`;
};

export function backupObjectName(kind: BackupKind, format: BackupFormat, at: Date): string {
  return `${BACKUP_PREFIXES[kind]}${compact(at)}-${randomToken(9)}.${format}.kbk`;
}

/** The parts of a backup's name, or null for anything else in the bucket. */
export function parseBackupName(object: string): BackupName | null {
  const m = NAME.exec(object);
  if (!m) return null;
  const [, kind, date, time, ms, format] = m as unknown as [string, BackupKind, string, string, string, BackupFormat];
  const createdAt = new Date(
    `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}.${ms}Z`,
  );
  if (Number.isNaN(createdAt.getTime())) return null;
  return { object, kind, format, createdAt };
}
