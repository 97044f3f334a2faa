import { createHash } from "node:crypto";
import { z } from "zod";
import type { CoreEnv } from "./core";
import { int, list } from "./shared";

/**
 * Backups (issue 15): the key that encrypts them (KESHLESS_BACKUP_KEY, required in production, generated per
 * data dir in development; previous keys still decrypt), how long they are kept, the dump tools, and where the
 * secrets backup reads the secrets from.
 */

const KEY_TEXT = /^[A-Za-z0-9+/_-]{43}=?$/;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** base64 (or base64url) of exactly 32 bytes. */
const backupKey = z
  .string()
  .refine((v) => KEY_TEXT.test(v) && Buffer.from(v, "base64").length === 32, "must be base64 of exactly 32 bytes");

export const backupsEnv = z.object({
  KESHLESS_BACKUP_KEY: backupKey.optional(),
  KESHLESS_BACKUP_KEY_ID: z.string().regex(KEY_ID, "1–64 letters, digits, '.', '_' or '-'").optional(),
  // id:base64 pairs, comma-separated: keys that sealed earlier backups, kept to open them.
  KESHLESS_BACKUP_PREVIOUS_KEYS: z
    .string()
    .refine(
      (v) =>
        list(v).every((pair) => {
          const [id, key, extra] = pair.split(":");
          return extra === undefined && !!id && KEY_ID.test(id) && !!key && backupKey.safeParse(key).success;
        }),
      "must be id:base64 pairs (32-byte keys), comma-separated",
    )
    .optional(),
  KESHLESS_BACKUP_KEEP_DAYS: int(1, 3650).default(30),
  KESHLESS_BACKUP_KEEP_MONTHS: int(0, 1200).default(24),
  KESHLESS_BACKUP_KEEP_YEARS: int(0, 100).default(2),
  KESHLESS_BACKUP_CHUNK_BYTES: int(1024, 8 * 1024 * 1024).default(64 * 1024),
  KESHLESS_PG_DUMP: z.string().min(1).default("pg_dump"),
  KESHLESS_PG_RESTORE: z.string().min(1).default("pg_restore"),
  KESHLESS_SECRETS_SOURCE: z.enum(["environment", "secret-manager"]).optional(),
  KESHLESS_SECRET_MANAGER_ENDPOINT: z.url().optional(),
});
export type BackupsEnv = z.infer<typeof backupsEnv>;

/**
 * The variables that hold secrets, by name: every KESHLESS_* ending in a secret's word (…_SECRET, …_KEY,
 * …_PASSWORD, …_PEPPER, their plurals and _PREVIOUS, a gateway's _MTN/_AT). Ids (…_KEY_ID) are not secrets.
 */
export const SECRET_NAME = /^KESHLESS_[A-Z0-9_]*(SECRET|SECRETS|PASSWORD|PEPPER|KEY|KEYS)(_PREVIOUS|_MTN|_AT)?$/;

/** A key's id when none is configured: derived from the key, so the same key always has the same id. */
const derivedKeyId = (key: string) =>
  `k${createHash("sha256")
    .update(`keshless-backup-key:${Buffer.from(key, "base64").toString("base64")}`)
    .digest("hex")
    .slice(0, 8)}`;

export function backupsSettings(
  e: BackupsEnv & Pick<CoreEnv, "KESHLESS_ENV">,
  all: Record<string, unknown>,
  key: string,
) {
  const current = { id: e.KESHLESS_BACKUP_KEY_ID ?? derivedKeyId(key), key: Buffer.from(key, "base64") };
  const previous = list(e.KESHLESS_BACKUP_PREVIOUS_KEYS).map((pair) => {
    const [id, value] = pair.split(":") as [string, string];
    return { id, key: Buffer.from(value, "base64") };
  });
  const environmentSecrets = Object.fromEntries(
    Object.entries(all).filter(
      (entry): entry is [string, string] => SECRET_NAME.test(entry[0]) && typeof entry[1] === "string",
    ),
  );
  return {
    backups: {
      /** Seals new backups; `previous` still open older ones (a rotation keeps the old key here). */
      keys: { current, previous: previous.filter((k) => k.id !== current.id) },
      /** Plaintext bytes per encrypted chunk. */
      chunkBytes: e.KESHLESS_BACKUP_CHUNK_BYTES,
      retention: {
        /** Every backup of the last `days` local days (today included). */
        days: e.KESHLESS_BACKUP_KEEP_DAYS,
        /** The first backup of each of the last `months` local calendar months (this one included). */
        months: e.KESHLESS_BACKUP_KEEP_MONTHS,
        /** The first backup of each of the last `years` local calendar years (this one included). */
        years: e.KESHLESS_BACKUP_KEEP_YEARS,
      },
      pgDump: e.KESHLESS_PG_DUMP,
      pgRestore: e.KESHLESS_PG_RESTORE,
      secrets: {
        /** Production reads Secret Manager (the project's KESHLESS_* secrets); development this environment. */
        source: e.KESHLESS_SECRETS_SOURCE ?? (e.KESHLESS_ENV === "production" ? "secret-manager" : "environment"),
        /** A fake or emulator speaking Secret Manager's REST API, instead of Google's. */
        secretManagerEndpoint: e.KESHLESS_SECRET_MANAGER_ENDPOINT,
        /**
         * The configured secrets by variable name (a function, so the values stay out of anything that
         * serialises the configuration). The development secrets file is read beside it when the job runs.
         */
        environment: () => ({ ...environmentSecrets }),
      },
    },
  };
}
export type BackupsSlice = ReturnType<typeof backupsSettings>;

/** Production's refusals for this slice. */
export function backupsProblems(e: BackupsEnv & { KESHLESS_GCP_PROJECT?: string | undefined }): string[] {
  const problems: string[] = [];
  if (!e.KESHLESS_BACKUP_KEY) problems.push("KESHLESS_BACKUP_KEY: required in production (encrypts backups)");
  if ((e.KESHLESS_SECRETS_SOURCE ?? "secret-manager") === "secret-manager" && !e.KESHLESS_GCP_PROJECT)
    problems.push("KESHLESS_GCP_PROJECT: required in production (the secrets backup reads its Secret Manager)");
  return problems;
}
