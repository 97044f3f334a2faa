/**
 * `bun run openapi:lint`: builds the app in-process (test configuration, an in-memory PGlite, no server,
 * no network), writes the document GET /openapi.json serves to a temporary file and runs `redocly lint`
 * on it with redocly.yaml (`extends: [recommended]`). Any error or warning fails it; CI runs it as a stage.
 *
 *   bun run openapi:lint            # lint
 *   bun run openapi:lint -- --out openapi.json   # also keep the document
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createApp } from "../app";
import { loadConfig } from "../config";
import { openDatabase } from "../db/client";
import { createLogger } from "../http/logger";
import { buildSystem } from "../modules";

/** The document as GET /openapi.json serves it from an app built with the test configuration. */
export async function buildOpenApiDocument(): Promise<unknown> {
  const dataDir = mkdtempSync(join(tmpdir(), "keshless-openapi-"));
  const database = await openDatabase({});
  try {
    const config = loadConfig({
      KESHLESS_ENV: "test",
      KESHLESS_DATA_DIR: dataDir,
      LOG_LEVEL: "silent",
      KESHLESS_JOB_SECRET: "openapi-lint-job-secret-0123456789",
      KESHLESS_JWT_SECRET: "openapi-lint-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
      KESHLESS_PIN_PEPPER: "openapi-lint-pin-pepper-0123456789abcdefghijklmnopqrstuvwxyz",
    });
    const logger = createLogger(config, { write: () => {} });
    const app = createApp(await buildSystem(config, { logger, database }));
    const res = await app.request("/openapi.json");
    if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}`);
    return await res.json();
  } finally {
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const outIndex = args.indexOf("--out");
  const dir = mkdtempSync(join(tmpdir(), "keshless-openapi-lint-"));
  const file = outIndex >= 0 && args[outIndex + 1] ? resolve(args[outIndex + 1]!) : join(dir, "openapi.json");
  writeFileSync(file, `${JSON.stringify(await buildOpenApiDocument(), null, 2)}\n`);
  const root = resolve(import.meta.dir, "../..");
  const cli = join(root, "node_modules/@redocly/cli/bin/cli.js");
  // Offline: no telemetry, no update check. JSON output, so a warning fails the run as an error does.
  const lint = Bun.spawn(
    [
      process.execPath,
      cli,
      "lint",
      file,
      "--config",
      join(root, "redocly.yaml"),
      "--format",
      "json",
      "--max-problems",
      "10000",
    ],
    {
      cwd: root,
      stdio: ["ignore", "pipe", "inherit"],
      env: {
        ...process.env,
        REDOCLY_TELEMETRY: "off",
        REDOCLY_SUPPRESS_UPDATE_NOTICE: "true",
        NO_UPDATE_NOTIFIER: "1",
      },
    },
  );
  const [output, code] = await Promise.all([new Response(lint.stdout).text(), lint.exited]);
  rmSync(dir, { recursive: true, force: true });
  let report: { problems: { ruleId: string; severity: string; message: string; location: { pointer: string }[] }[] };
  try {
    report = JSON.parse(output);
  } catch {
    console.error(`redocly lint exited ${code} without a JSON report:\n${output}`);
    process.exit(code || 1);
  }
  for (const p of report.problems)
    console.log(`${p.severity.padEnd(5)} ${p.ruleId}  ${p.location[0]?.pointer ?? ""}  ${p.message}`);
  const count = (severity: string) => report.problems.filter((p) => p.severity === severity).length;
  console.log(`openapi lint: ${count("error")} errors, ${count("warn")} warnings (redocly.yaml: extends recommended)`);
  process.exit(report.problems.length === 0 && code === 0 ? 0 : 1);
}
