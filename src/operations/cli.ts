import { resolve } from "node:path";
import { CliError, type Command, requireFlag } from "../lib/command";
import type { Backups } from "./backups";
import type { SecretsBackup } from "./secrets";

export interface OperationsServices {
  backups: Backups;
  secrets: SecretsBackup;
}

/** The operator's side of backups (API.md "Operations"), each one JSON object on stdout; a failure exits 1. */
export const operationsCommands: Record<string, Command<OperationsServices>> = {
  "backup:list": {
    describe: "every backup in the backups bucket, newest first: {data:[{object, createdAt, bytes, kind}]}",
    run: async ({ backups }) => ({
      result: {
        data: (await backups.list()).map((b) => ({
          object: b.object,
          createdAt: b.createdAt.toISOString(),
          bytes: b.bytes,
          kind: b.kind,
        })),
      },
    }),
  },
  "backup:verify": {
    describe: "--object KEY: decrypt and check every chunk, restoring nothing; exit 1 when damaged or the key is wrong",
    flags: ["object"],
    run: async ({ backups }, flags) => {
      const result = await backups.verify(requireFlag(flags, "object"));
      return { result, ok: result.ok };
    },
  },
  "backup:restore": {
    describe:
      "--object KEY --database-url URL (Postgres) | --data-dir DIR (embedded): verify the whole backup, then restore it " +
      "into an empty target; refuses a non-empty target or a backup that does not verify, changing nothing",
    flags: ["object", "database-url", "data-dir"],
    run: async ({ backups }, flags) => {
      const object = requireFlag(flags, "object");
      const url = flags["database-url"];
      const dir = flags["data-dir"];
      if (!url === !dir) throw new CliError("give exactly one of --database-url URL or --data-dir DIR");
      if (url && !/^postgres(ql)?:\/\//.test(url)) throw new CliError("--database-url must be a postgres:// URL");
      const result = await backups.restoreDatabase(object, url ? { databaseUrl: url } : { dataDir: resolve(dir!) });
      return { result, ok: result.ok };
    },
  },
  "backup:restore-secrets": {
    describe:
      "--object KEY --out PATH [--to file|gcloud]: decrypt a secrets backup into a new JSON file (development) or a " +
      "new folder of one file per secret with the `gcloud secrets versions add` commands to run (production)",
    flags: ["object", "out", "to"],
    run: async ({ secrets, backups }, flags) => {
      const to = flags.to ?? (backups.secretsSource === "secret-manager" ? "gcloud" : "file");
      if (to !== "file" && to !== "gcloud") throw new CliError("--to is file or gcloud");
      const result = await secrets.restore(requireFlag(flags, "object"), resolve(requireFlag(flags, "out")), to);
      return { result, ok: result.ok };
    },
  },
};
