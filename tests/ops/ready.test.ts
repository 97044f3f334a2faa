import { afterAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { type Database, openDatabase } from "../../src/db/client";
import { createLogger } from "../../src/http/logger";
import { buildSystem } from "../../src/modules";
import { TEST_SECRETS } from "../support/harness";

/** /ready over databases the harness never hands out: closed, missing, unmigrated. */

const dataDir = mkdtempSync(join(tmpdir(), "keshless-ready-"));
const opened: Database[] = [];
afterAll(async () => {
  for (const database of opened) await database.close().catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

async function readyOver(database: Database) {
  const config = loadConfig({ KESHLESS_ENV: "test", KESHLESS_DATA_DIR: dataDir, LOG_LEVEL: "silent", ...TEST_SECRETS });
  const deps = await buildSystem(config, { database, logger: createLogger(config) });
  const res = await createApp(deps).request("/ready");
  return { status: res.status, body: (await res.json()) as any, requestId: res.headers.get("x-request-id") };
}

describe("GET /ready is 503 when the database cannot serve", () => {
  // One embedded database for both cases: starting PGlite costs about a second.
  const empty = openDatabase({});

  test("a reachable database with no migrations applied", async () => {
    const { status, body } = await readyOver(await empty);
    expect(status).toBe(503);
    expect(body.database).toBe("ok");
    expect(body.migrations.applied).toBe(0);
    expect(body.migrations.expected).toBeGreaterThan(0);
  });

  test("a closed database", async () => {
    const database = await empty;
    await database.close();
    const { status, body, requestId } = await readyOver(database);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: "not_ready", database: "unreachable" });
    expect(requestId).toBeTruthy();
  });

  test("a Postgres server that refuses the connection", async () => {
    const database = await openDatabase({ databaseUrl: "postgres://keshless@127.0.0.1:1/keshless", poolMax: 1 });
    opened.push(database);
    const { status, body } = await readyOver(database);
    expect(status).toBe(503);
    expect(body.database).toBe("unreachable");
  });

  test.skipIf(!process.env.DATABASE_URL)("a Postgres URL naming a database that does not exist", async () => {
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/keshless_missing_${randomBytes(4).toString("hex")}`;
    const database = await openDatabase({ databaseUrl: url.toString(), poolMax: 1 });
    opened.push(database);
    const { status, body } = await readyOver(database);
    expect(status).toBe(503);
    expect(body.database).toBe("unreachable");
  });
});
