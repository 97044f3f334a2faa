import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Config } from "../config";
import { readProjectSecrets } from "../integrations/secret-manager";
import type { Backups } from "./backups";
import { backupObjectName, parseBackupName } from "./objects";

/**
 * The secrets backup: every KESHLESS_* secret, sealed like a database backup under secrets/. In production they
 * are read from Secret Manager (each KESHLESS_* secret of the project, its latest version); in development from
 * this environment and the data dir's dev-secrets.json. Restoring writes them to a file (development) or to one
 * file per secret with the `gcloud secrets versions add` commands that put them back (production) — never to
 * stdout or a log line.
 */

const SECRET_ID = /^[A-Za-z0-9_-]{1,255}$/;
/** A shell word: the folder is the operator's, and may hold spaces. */
const shellQuote = (text: string) => (/^[\w./-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`);

type SecretsConfig = Pick<Config, "backups" | "dataDir" | "gcpProject">;

interface SecretsDocument {
  source: "environment" | "secret-manager";
  takenAt: string;
  secrets: Record<string, string>;
}

/** Every secret by name, from where this deployment keeps them. */
export async function collectSecrets(config: SecretsConfig): Promise<Record<string, string>> {
  const { source, secretManagerEndpoint } = config.backups.secrets;
  if (source === "secret-manager") {
    if (!config.gcpProject) throw new Error("KESHLESS_GCP_PROJECT is required to read Secret Manager.");
    return readProjectSecrets({
      projectId: config.gcpProject,
      prefix: "KESHLESS_",
      ...(secretManagerEndpoint ? { apiEndpoint: secretManagerEndpoint } : {}),
    });
  }
  const file = join(config.dataDir, "dev-secrets.json");
  const generated: Record<string, unknown> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const fromFile = Object.entries(generated).filter((e): e is [string, string] => typeof e[1] === "string");
  return { ...Object.fromEntries(fromFile), ...config.backups.secrets.environment() };
}

export function createSecretsBackup(deps: { config: SecretsConfig; now: () => Date; backups: Backups }) {
  const { config, backups } = deps;

  async function backup() {
    const secrets = await collectSecrets(config);
    const document: SecretsDocument = {
      source: config.backups.secrets.source,
      takenAt: deps.now().toISOString(),
      secrets,
    };
    const object = backupObjectName("secrets", "json", deps.now());
    const plain = new Blob([JSON.stringify(document)]).stream();
    const sealed = await backups.seal(object, plain);
    const verified = await backups.check(object);
    if (!verified.ok) throw new Error(`The stored secrets backup did not verify: ${verified.error}`);
    return {
      object: sealed.object,
      bytes: sealed.bytes,
      sha256: sealed.sha256,
      keyId: sealed.keyId,
      source: document.source,
      secrets: Object.keys(secrets).length,
    };
  }

  /**
   * Decrypts a secrets backup (verified whole first) into `out`: a JSON file of the dev-secrets.json shape
   * (`file`), or a folder of one file per secret plus the gcloud commands that add each as a new version
   * (`gcloud`). Refuses a path that exists (a file) or is not empty (a folder): nothing is overwritten.
   */
  async function restore(object: string, out: string, to: "file" | "gcloud") {
    const name = parseBackupName(object);
    if (name?.kind !== "secrets") return { ok: false, error: `${object} is not a secrets backup.` };
    return backups.leased(object, "restore-secrets", async () => {
      const verified = await backups.check(object);
      if (!verified.ok)
        return { ok: false, error: `The backup does not verify, so nothing was written: ${verified.error}` };
      const { plain } = await backups.open(object);
      const document = JSON.parse(await new Response(plain).text()) as SecretsDocument;
      const names = Object.keys(document.secrets).sort();
      // Secret Manager's ids; anything else could name a path outside `out` or break the printed commands.
      const odd = names.find((secret) => !SECRET_ID.test(secret));
      if (odd !== undefined)
        return { ok: false, error: `The backup names a secret ${JSON.stringify(odd)} that is not an id.` };
      if (to === "file") {
        if (existsSync(out)) return { ok: false, error: `${out} exists: name a new file.` };
        await writeFile(out, JSON.stringify(document.secrets, null, 2), { mode: 0o600, flag: "wx" });
        return { ok: true, secrets: names.length, names, file: out, takenAt: document.takenAt };
      }
      if (existsSync(out) && (await readdir(out)).length)
        return { ok: false, error: `${out} is not empty: name a new folder.` };
      await mkdir(out, { recursive: true, mode: 0o700 });
      await chmod(out, 0o700);
      const project = config.gcpProject ?? "$PROJECT";
      const commands: string[] = [];
      for (const secret of names) {
        const file = join(out, secret);
        await writeFile(file, document.secrets[secret]!, { mode: 0o600, flag: "wx" });
        commands.push(
          `gcloud secrets describe ${secret} --project=${project} >/dev/null 2>&1 || gcloud secrets create ${secret} --project=${project} --replication-policy=automatic`,
          `gcloud secrets versions add ${secret} --project=${project} --data-file=${shellQuote(file)}`,
        );
      }
      commands.push(`rm -r ${shellQuote(out)}`);
      return { ok: true, secrets: names.length, names, dir: out, takenAt: document.takenAt, commands };
    });
  }

  return { backup, restore };
}

export type SecretsBackup = ReturnType<typeof createSecretsBackup>;
