import { z } from "@hono/zod-openapi";
import { defineModule } from "../module";
import type { Storage } from "../storage";
import { createBackups } from "./backups";
import { operationsCommands } from "./cli";
import { createSecretsBackup } from "./secrets";

const HOUR = 3_600_000;

/** `?dryRun=true` on the cleanup endpoint. */
const cleanupQuery = z.object({
  dryRun: z
    .enum(["true", "false"])
    .optional()
    .openapi({ description: "true: list what would be deleted, delete nothing" }),
});

/**
 * Operations: the encrypted database and secrets backups in the backups bucket, their cleanup, and the
 * operator's commands to list, verify and restore them (README "Disaster recovery").
 */
export const operationsModule = defineModule({
  name: "operations",
  create: (core, peers: { storage: Storage }) => {
    const backups = createBackups({ ...core, store: peers.storage.backups });
    const secrets = createSecretsBackup({ config: core.config, now: core.now, backups });
    return { backups, secrets };
  },
  jobs: ({ backups, secrets }, core) => {
    /** The newest backup of a kind is older than `hours` (or there is none): the in-process loop's test. */
    const olderThan = (kind: "database" | "secrets", hours: number) => async () => {
      const [newest] = await backups.list(kind);
      return !newest || core.now().getTime() - newest.createdAt.getTime() > hours * HOUR;
    };
    return [
      {
        name: "backup",
        path: "/backup-jobs/backup",
        // Nightly, in the quietest hour; the recovery point of this copy is therefore 24 h (Cloud SQL's PITR is minutes).
        schedule: "30 1 * * *",
        summary:
          "pg_dump (custom format; PGlite's own pg_dump in the embedded default) streamed through chunked AES-256-GCM " +
          "into the backups bucket under database/, then read back and verified; summary {object, bytes, sha256}",
        async run() {
          return { summary: { ...(await backups.backupDatabase()) }, ok: true };
        },
        // Where no scheduler calls (the embedded default): once a day. Where one does, its run makes this false.
        loop: { due: olderThan("database", 20) },
      },
      {
        name: "backup-secrets",
        path: "/backup-jobs/secrets",
        // Weekly (Sunday), and whenever a secret is rotated: run it by hand then.
        schedule: "0 2 * * 0",
        summary:
          "Every KESHLESS_* secret (Secret Manager in production, the environment and dev-secrets.json in development), " +
          "encrypted like the database backups into the backups bucket under secrets/",
        async run() {
          return { summary: { ...(await secrets.backup()) }, ok: true };
        },
        loop: { due: olderThan("secrets", 6 * 24) },
      },
      {
        name: "backup-cleanup",
        path: "/backup-jobs/cleanup",
        // After the nightly backup has finished.
        schedule: "30 3 * * *",
        summary:
          "Delete backups past retention: keeps every backup of the last KESHLESS_BACKUP_KEEP_DAYS days, the first of each " +
          "month for KESHLESS_BACKUP_KEEP_MONTHS months and of each year for KESHLESS_BACKUP_KEEP_YEARS years, the newest " +
          "that verifies, and any a restore is reading; ?dryRun=true lists without deleting. Summary {kept, deleted:[…]}",
        query: cleanupQuery,
        async run({ query }) {
          return backups.cleanup({ dryRun: query?.dryRun === "true" });
        },
        loop: { due: backups.cleanupDue },
      },
    ];
  },
  commands: operationsCommands,
});
