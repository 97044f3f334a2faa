import { afterAll } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import type { OpenAPIHono } from "@hono/zod-openapi";
import postgres from "postgres";
import type { z } from "zod";
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
  const database: Database = { kind: "pglite", db, reads: db, pglite, close: () => pglite.close() };
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

  // Every 2xx body a test receives is held to its route's declared schema, so /openapi.json cannot drift.
  const checkResponse = responseSchemaChecker(app);
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
    if (method.toUpperCase() !== "HEAD")
      checkResponse({ method, path, status: res.status, contentType: res.headers.get("content-type"), text, json });
    return { status: res.status, headers: res.headers, text, json };
  }

  return { deps, config, app, logs, request };
}

/** What the checker needs of a response: the request line, the status and the body as received. */
export interface ReceivedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  text: string;
  json: unknown;
}

interface DeclaredRoute {
  method: string;
  path: string;
  pattern: RegExp;
  responses: Record<string, { content?: Record<string, { schema?: unknown }> } | undefined>;
}

/** Served but deliberately not in /openapi.json: the document itself, and the page that renders it. */
const UNDOCUMENTED = new Set(["GET /openapi.json", "GET /docs"]);

const isJsonMediaType = (type: string) => /^application\/(?:[\w.-]+\+)?json$/i.test(type.split(";")[0]!.trim());

/** A path template as a whole-path regex: OpenAPI's `{id}` and Hono's `:id` are one segment, `*` anything. */
function pathPattern(template: string): RegExp {
  const source = template
    .split("/")
    .map((segment) =>
      /^\{.+\}$|^:/.test(segment) ? "[^/]+" : segment === "*" ? ".*" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("/");
  return new RegExp(`^${source}$`);
}

/**
 * Checks every 2xx body against the response schema its route declares — the zod schemas registered on
 * the app, which /openapi.json is generated from — so the document the dashboard generates its client
 * from cannot drift from what the code sends. Throws, naming the route, the status and the zod issues.
 * Also fails: a 2xx status the route does not declare, a JSON schema answered with another media type,
 * and a 2xx from a route the app serves but the document leaves out. Skipped: a status declared without
 * JSON content (CSV, plain text, XML, 204), which has no JSON schema to hold it to; and routes a test
 * adds to the app itself after this is built (probes standing in for a guarded route), which no client uses.
 */
export function responseSchemaChecker(app: Pick<OpenAPIHono<any, any, any>, "openAPIRegistry" | "routes">) {
  const declared = (): DeclaredRoute[] =>
    app.openAPIRegistry.definitions.flatMap((definition) =>
      definition.type === "route"
        ? [
            {
              method: definition.route.method.toUpperCase(),
              path: definition.route.path,
              pattern: pathPattern(definition.route.path),
              responses: definition.route.responses as DeclaredRoute["responses"],
            },
          ]
        : [],
    );
  // Taken now, before any test adds a probe: what the app itself serves outside the document.
  const documented = new Set(declared().map((route) => `${route.method} ${route.pattern}`));
  const undocumented = app.routes
    .filter((route) => route.method !== "ALL" && !documented.has(`${route.method} ${pathPattern(route.path)}`))
    .filter((route) => !UNDOCUMENTED.has(`${route.method} ${route.path}`))
    .map((route) => ({ method: route.method, path: route.path, pattern: pathPattern(route.path) }));
  // Rebuilt when a test registers a route of its own (those are checked too).
  let routes = declared();

  return function checkResponse(response: ReceivedResponse): void {
    if (response.status < 200 || response.status > 299) return;
    const method = response.method.toUpperCase();
    const pathname = new URL(response.path, "http://test.invalid").pathname;
    // The first that matches, in registration order: the one Hono dispatched to.
    const matches = (route: { method: string; pattern: RegExp }) =>
      route.method === method && route.pattern.test(pathname);
    if (routes.length !== app.openAPIRegistry.definitions.length) routes = declared();
    const route = routes.find(matches);
    if (!route) {
      const served = undocumented.find(matches);
      if (served)
        throw new Error(
          `${method} ${served.path} answered ${response.status}, but /openapi.json does not list the route.`,
        );
      return;
    }
    const where = `${method} ${route.path} → ${response.status}`;
    const declaration =
      route.responses[response.status] ??
      route.responses[`${Math.floor(response.status / 100)}XX`] ??
      route.responses.default;
    if (!declaration) throw new Error(`${where}: the route does not declare this status.`);
    const declaredTypes = Object.keys(declaration.content ?? {});
    const mediaType = response.contentType?.split(";")[0]?.trim().toLowerCase();
    // A route may answer one of several declared types (a report as JSON, or as CSV when asked): a declared
    // non-JSON one has no schema to hold it to.
    if (mediaType && !isJsonMediaType(mediaType) && declaredTypes.includes(mediaType)) return;
    const jsonType = declaredTypes.find(isJsonMediaType);
    if (!jsonType) return;
    if (!response.contentType || !isJsonMediaType(response.contentType))
      throw new Error(`${where}: declared ${jsonType}, but the response is ${response.contentType ?? "untyped"}.`);
    const schema = declaration.content![jsonType]!.schema as z.ZodType | undefined;
    if (!schema || typeof (schema as { safeParse?: unknown }).safeParse !== "function")
      throw new Error(`${where}: the declared ${jsonType} schema is not a zod schema, so it cannot be checked.`);
    const parsed = schema.safeParse(response.json);
    const problems = parsed.success
      ? undeclaredKeys(response.json, parsed.data).map((path) => `${path}: not in the schema`)
      : parsed.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message} [${issue.code}]`);
    if (problems.length)
      throw new Error(
        `${where}: the body does not match the declared response schema:\n  ${problems.join("\n  ")}\nbody: ${response.text.slice(0, 2000)}`,
      );
  };
}

/**
 * Keys the body has and the parsed value lost. Zod objects strip unknown keys silently, so a field the
 * code sends and the schema forgot would pass a plain parse — yet it is drift just the same: a client
 * generated from /openapi.json cannot see it, and a field nobody declared is how internal data leaks.
 * So an extra key fails; a schema that means to allow any keys (z.record, z.looseObject, z.unknown)
 * keeps them in its output and passes.
 */
function undeclaredKeys(input: unknown, output: unknown, at = ""): string[] {
  const below = (key: string | number) => (at ? `${at}.${key}` : String(key));
  if (Array.isArray(input) && Array.isArray(output))
    return input.flatMap((item, i) => undeclaredKeys(item, output[i], below(i)));
  const isRecord = (value: unknown): value is Record<string, unknown> =>
    typeof value === "object" && value !== null && !Array.isArray(value);
  if (!isRecord(input) || !isRecord(output)) return [];
  return Object.keys(input).flatMap((key) =>
    key in output ? undeclaredKeys(input[key], output[key], below(key)) : [below(key)],
  );
}
