import { afterAll } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import postgres from "postgres";
import { createApp } from "../../src/app";
import { type Config, loadConfig } from "../../src/config";
import { type Database, openDatabase } from "../../src/db/client";
import { MIGRATIONS_FOLDER, migrate } from "../../src/db/migrate";
import { createLogger } from "../../src/http/logger";
import { buildSystem, type System } from "../../src/modules";

/**
 * Each test file gets its own migrated database: a fresh Postgres database cloned from a migrated
 * template when DATABASE_URL is set, else an in-memory PGlite restored from a migrated snapshot.
 * Nothing is shared between files and nothing depends on leftovers.
 */

const adminUrl = process.env.DATABASE_URL;

function migrationsHash(): string {
  const hash = createHash("sha256");
  for (const file of readdirSync(MIGRATIONS_FOLDER).sort())
    if (file.endsWith(".sql")) hash.update(file).update(readFileSync(join(MIGRATIONS_FOLDER, file)));
  return hash.digest("hex").slice(0, 12);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function ensureTemplate(admin: postgres.Sql): Promise<string> {
  const template = `keshless_tpl_${migrationsHash()}`;
  await admin`select pg_advisory_lock(7264002)`;
  try {
    const [exists] = await admin`select 1 from pg_database where datname = ${template}`;
    if (!exists) {
      await admin.unsafe(`create database ${template}`);
      const database = await openDatabase({ databaseUrl: withDatabase(adminUrl!, template), poolMax: 1 });
      try {
        await migrate(database);
      } finally {
        await database.close();
      }
    }
  } finally {
    await admin`select pg_advisory_unlock(7264002)`;
  }
  return template;
}

let pgliteSnapshot: Promise<Blob> | undefined;

async function snapshot(): Promise<Blob> {
  const { PGlite } = await import("@electric-sql/pglite");
  const database = await openDatabase({});
  await migrate(database);
  const blob = await (database.pglite as PGlite).dumpDataDir("none");
  await database.close();
  void PGlite;
  return blob;
}

export interface TestDatabase {
  database: Database;
  url?: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  if (adminUrl) {
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    const template = await ensureTemplate(admin);
    const name = `keshless_t_${randomBytes(6).toString("hex")}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await admin.unsafe(`create database ${name} template ${template}`);
        break;
      } catch (error) {
        if (attempt > 20) throw error;
        await Bun.sleep(50 + Math.random() * 100);
      }
    }
    const url = withDatabase(adminUrl, name);
    const database = await openDatabase({ databaseUrl: url, poolMax: 20 });
    return {
      database,
      url,
      drop: async () => {
        await database.close();
        await admin.unsafe(`drop database if exists ${name} with (force)`);
        await admin.end();
      },
    };
  }
  pgliteSnapshot ??= snapshot();
  const blob = await pgliteSnapshot;
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const pglite = new PGlite({ loadDataDir: blob });
  await pglite.exec("SET default_transaction_isolation = 'serializable'");
  const db = drizzle({ client: pglite, casing: "snake_case" }) as unknown as Database["db"];
  const database: Database = { kind: "pglite", db, pglite, close: () => pglite.close() };
  return { database, drop: () => database.close() };
}

export interface TestContext {
  deps: System;
  config: Config;
  app: ReturnType<typeof createApp>;
  logs: string[];
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
}

export interface RequestOptions {
  body?: unknown;
  rawBody?: string;
  token?: string;
  headers?: Record<string, string>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

export const TEST_SECRETS = {
  KESHLESS_JOB_SECRET: "test-job-secret-0123456789",
  KESHLESS_JWT_SECRET: "test-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz",
  KESHLESS_PIN_PEPPER: "test-pin-pepper-0123456789abcdefghijklmnopqrstuvwxyz",
};

/** Builds the real app over a fresh database; the database is dropped after the file's tests. */
export async function createTestContext(env: Record<string, string> = {}): Promise<TestContext> {
  const testDb = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "keshless-test-"));
  const config = loadConfig({
    KESHLESS_ENV: "test",
    KESHLESS_DATA_DIR: dataDir,
    LOG_LEVEL: "info",
    // app.request has no socket: the tests stand in for Cloud Run's front end and name the client in
    // X-Forwarded-For, as the deployment (cloudbuild.yaml) trusts one hop. The default, 0, is tested in
    // tests/http/client-address.test.ts against a real server.
    KESHLESS_TRUSTED_PROXY_HOPS: "1",
    ...TEST_SECRETS,
    ...(testDb.url ? { DATABASE_URL: testDb.url } : {}),
    ...env,
  });
  const logs: string[] = [];
  const logger = createLogger(config, { write: (line: string) => void logs.push(line) });
  const deps = await buildSystem(config, { logger, database: testDb.database });
  const app = createApp(deps);
  afterAll(async () => {
    await testDb.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<TestResponse> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    let body: string | undefined = options.rawBody;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers["content-type"] ??= "application/json";
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    const res = await app.request(path, { method, headers, body });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, text, json };
  }

  return { deps, config, app, logs, request };
}
