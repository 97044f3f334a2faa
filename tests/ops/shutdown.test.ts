import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { createTestDatabase, type TestDatabase } from "../support/harness";

/**
 * The real boot (`bun src/index.ts`), stopped the way Cloud Run stops it: SIGTERM while requests are in
 * flight. They must complete, new connections must be refused, and the process must exit 0.
 */

const dataDir = mkdtempSync(join(tmpdir(), "keshless-shutdown-"));
let testDb: TestDatabase | undefined;
let server: ReturnType<typeof Bun.spawn> | undefined;
afterAll(async () => {
  server?.kill("SIGKILL");
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const s = createServer().once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

async function waitForReady(url: string, output: () => string) {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const status = await fetch(`${url}/ready`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    await Bun.sleep(100);
  }
  throw new Error(`no GET /ready 200 within 30 s:\n${output()}`);
}

/** A request whose body arrives in two parts, so it is still in flight for as long as we hold the second back. */
function slowUpload(url: string) {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      c.enqueue(new TextEncoder().encode('{"amount":'));
    },
  });
  const response = fetch(`${url}/v1/shutdown-probe`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    duplex: "half",
  } as RequestInit);
  return {
    response,
    finish() {
      controller.enqueue(new TextEncoder().encode("150}"));
      controller.close();
    },
  };
}

/** Holds an ACCESS EXCLUSIVE lock on the migrations table (which /ready reads) until released. */
async function lockMigrationsTable(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const locked = Promise.withResolvers<void>();
  const release = Promise.withResolvers<void>();
  const transaction = sql.begin(async (tx) => {
    await tx`lock table drizzle.__drizzle_migrations in access exclusive mode`;
    locked.resolve();
    await release.promise;
  });
  await locked.promise;
  return {
    async release() {
      release.resolve();
      await transaction;
      await sql.end();
    },
  };
}

const settledWithin = (promises: Promise<unknown>[], ms: number) =>
  Promise.race([Promise.any(promises).then(() => true), Bun.sleep(ms).then(() => false)]);

test("SIGTERM drains in-flight requests, refuses new ones and exits 0", async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    HOME: process.env.HOME ?? "",
    PORT: String(port),
    KESHLESS_ENV: "development",
    KESHLESS_DATA_DIR: dataDir,
    LOG_LEVEL: "info",
  };
  if (process.env.DATABASE_URL) {
    testDb = await createTestDatabase();
    env.DATABASE_URL = testDb.url!;
  }
  const proc = Bun.spawn(["bun", "src/index.ts"], { env, stdout: "pipe", stderr: "pipe" });
  server = proc;
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const reader = stream.getReader();
    const decoder = new TextDecoder();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      output += decoder.decode(chunk.value, { stream: true });
  };
  const drained = Promise.all([collect(proc.stdout as ReadableStream), collect(proc.stderr as ReadableStream)]);
  await waitForReady(url, () => output);

  // On Postgres, also a request stuck inside its handler: /ready waits on a table another session has locked.
  const lock = testDb ? await lockMigrationsTable(testDb.url!) : undefined;
  const slowReady = lock ? fetch(`${url}/ready`) : undefined;
  const upload = slowUpload(url);
  const inFlight = [upload.response, ...(slowReady ? [slowReady] : [])];
  expect(await settledWithin(inFlight, 300)).toBe(false);

  proc.kill("SIGTERM");
  await Bun.sleep(500);
  expect(proc.exitCode).toBeNull(); // still draining
  expect(output).toContain("shutting down");
  const refused = await fetch(`${url}/health`).then(
    () => false,
    () => true,
  );
  expect(refused).toBe(true);

  upload.finish();
  await lock?.release();
  const uploaded = await upload.response;
  expect(uploaded.status).toBe(404); // no such route: what matters is that it was answered in full
  expect(((await uploaded.json()) as any).error.code).toBe("NOT_FOUND");
  if (slowReady) expect((await slowReady).status).toBe(200);

  const code = await Promise.race([proc.exited, Bun.sleep(10_000).then(() => "timeout")]);
  await drained;
  expect(code).toBe(0);
  expect(output).toContain("shutdown complete");
  server = undefined;
}, 45_000);
