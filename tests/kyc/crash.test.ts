import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { createAwsSimulator, type SimMarker, simImage } from "../../src/integrations/aws-simulator";
import { serveGeminiSimulator } from "../../src/integrations/gemini-simulator";
import { createTestDatabase, TEST_SECRETS, type TestDatabase } from "../support/harness";
import {
  api,
  codeIn,
  freePort,
  type HttpUser,
  type ServerProcess,
  signInOverHttp,
  startServer,
} from "../support/server-process";

/**
 * The real server process (`bun src/index.ts`) on real Postgres, killed with SIGKILL while its verification
 * worker waits for Textract's answer, and started again on the same database and data dir. The fake AWS holds
 * AnalyzeID until the test lets it go, so the check is provably in progress when the process dies. Then the
 * restarted worker takes the submission once the dead one's lease (2 s) passes and finishes it: one verdict,
 * one audit row, one notification, the same outcome as a check nobody interrupted.
 */

const PIN = "4729";
const PERSON = { name: "Thandi Nkosi", idNumber: "9805151100123", dob: "1998-05-15" };
const FRONT: SimMarker = { textract: "read", ...PERSON };
const SELFIE: SimMarker = { face: 99.3 };

let testDb: TestDatabase | undefined;
let server: ServerProcess | undefined;
const stops: (() => void | Promise<void>)[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "keshless-kyc-crash-"));
afterAll(async () => {
  await server?.kill9();
  for (const stop of stops) await stop();
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The AWS simulator behind a gate: AnalyzeID requests wait until `release()`; everything else answers at once. */
function heldAws() {
  const simulator = createAwsSimulator();
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let arrived!: () => void;
  const firstAnalyzeId = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const counts = { analyzeId: 0, compareFaces: 0 };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    maxRequestBodySize: 64 * 1024 * 1024,
    async fetch(request) {
      const target = request.headers.get("x-amz-target");
      if (target === "Textract.AnalyzeID") {
        counts.analyzeId++;
        arrived();
        await gate;
      }
      if (target === "RekognitionService.CompareFaces") counts.compareFaces++;
      return simulator.fetch(request);
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    counts,
    firstAnalyzeId,
    release: () => release(),
    stop: () => server.stop(true),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** Declare → PUT to the signed URL → complete, as the app does. */
async function upload(url: string, user: HttpUser, type: string, bytes: Uint8Array): Promise<string> {
  const declared = await api(url, "POST", "/v1/kyc/documents", {
    token: user.accessToken,
    body: { type, contentType: "image/jpeg", sizeBytes: bytes.length },
  });
  expect(declared.status).toBe(201);
  const put = await fetch(declared.json.upload.url, {
    method: "PUT",
    headers: declared.json.upload.headers,
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  expect(put.status).toBeLessThan(300);
  const done = await api(url, "POST", `/v1/kyc/documents/${declared.json.id}/complete`, { token: user.accessToken });
  expect(done.status).toBe(200);
  return declared.json.id;
}

async function submit(url: string, user: HttpUser): Promise<string> {
  const ids = [
    await upload(url, user, "id_front", await simImage(FRONT)),
    await upload(url, user, "selfie", await simImage(SELFIE)),
  ];
  const res = await api(url, "POST", "/v1/kyc/submissions", {
    token: user.accessToken,
    body: { idNumber: PERSON.idNumber, documentIds: ids },
  });
  expect(res.status).toBe(202);
  return res.json.id;
}

/** The submission once it has left `processing`, as GET /v1/kyc shows it. */
const finalStatus = (url: string, user: HttpUser) =>
  until("a final status", async () => {
    const res = await api(url, "GET", "/v1/kyc", { token: user.accessToken });
    return res.json?.submission?.status && res.json.submission.status !== "processing" ? res.json : undefined;
  });

test.skipIf(!process.env.DATABASE_URL)(
  "kill -9 while AnalyzeID is in flight, restart: the submission is finished after the lease, recorded once, as an uninterrupted check would (needs DATABASE_URL: skipped on PGlite)",
  async () => {
    testDb = await createTestDatabase();
    const sql = testDb.database.sql as postgres.Sql;
    const aws = heldAws();
    const gemini = serveGeminiSimulator();
    stops.push(aws.stop, gemini.stop);
    const port = await freePort();
    const env: Record<string, string> = {
      ...TEST_SECRETS,
      DATABASE_URL: testDb.url!,
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      KESHLESS_NOTIFICATIONS: "outbox",
      KESHLESS_OUTBOX_INTERVAL_MS: "100",
      KESHLESS_ARGON2_MEMORY_KIB: "1024",
      KESHLESS_ARGON2_TIME_COST: "1",
      KESHLESS_OTP_IP_PER_HOUR: "100000",
      KESHLESS_AUTH_IP_PER_HOUR: "100000",
      // Signed upload URLs name the server, which comes back on the same port.
      KESHLESS_PUBLIC_URL: `http://127.0.0.1:${port}`,
      KESHLESS_AWS_ENDPOINT: aws.url,
      KESHLESS_AWS_ACCESS_KEY_ID: "AKIDTEST",
      KESHLESS_AWS_SECRET_ACCESS_KEY: "test-secret",
      KESHLESS_GEMINI_BASE_URL: gemini.url,
      KESHLESS_GEMINI_API_KEY: "test-gemini-key",
      KESHLESS_KYC_WORKER_INTERVAL_MS: "100",
      KESHLESS_KYC_LEASE_SECONDS: "2",
    };
    server = await startServer({ env, port });
    const readCode = async (phone: string) => {
      const outbox = await api(server!.url, "GET", `/dev/outbox?to=${encodeURIComponent(phone)}`);
      return codeIn(outbox.json?.data?.find((m: { kind: string }) => m.kind === "otp")?.body);
    };
    const user = await signInOverHttp(server.url, "+26876200001", PIN, readCode);
    const control = await signInOverHttp(server.url, "+26876200002", PIN, readCode);

    // ── submit; the worker sends AnalyzeID, which the fake holds; kill -9 while it waits ──
    const id = await submit(server.url, user);
    await Promise.race([
      aws.firstAnalyzeId,
      Bun.sleep(20_000).then(() => Promise.reject(new Error("AnalyzeID never reached the fake"))),
    ]);
    await server.kill9();
    const [dead] = await sql<{ status: string; attempts: number }[]>`
      select status, attempts from kyc_submissions where id = ${id}`;
    expect(dead).toEqual({ status: "processing", attempts: 1 });

    // ── a new process on the same database and data dir; the fake lets Textract answer ──
    server = await startServer({ env, port });
    aws.release();
    const outcome = await finalStatus(server.url, user);
    expect(outcome.submission.id).toBe(id);

    // A check nobody interrupted, on the same server with the same documents' markers: the outcome to expect.
    const controlId = await submit(server.url, control);
    const expected = await finalStatus(server.url, control);
    expect(expected.submission.id).toBe(controlId);

    const rows = await sql<{ id: string; status: string; attempts: number; reasons: { code: string }[] }[]>`
      select id, status, attempts, reasons from kyc_submissions where id in (${id}, ${controlId})`;
    const crashed = rows.find((r) => r.id === id)!;
    const uninterrupted = rows.find((r) => r.id === controlId)!;
    expect(crashed.status).toBe(uninterrupted.status);
    expect(crashed.reasons.map((r) => r.code)).toEqual(uninterrupted.reasons.map((r) => r.code));
    // Whatever sanctions screening says (it may not be wired yet), nothing else is in doubt.
    expect(crashed.reasons.map((r) => r.code).filter((c) => !c.startsWith("SANCTIONS_"))).toEqual([]);
    expect(crashed.status).toBe(crashed.reasons.length ? "in_review" : "approved");
    // Taken twice (the dead worker's lease, then the new one), decided once.
    expect(crashed.attempts).toBe(2);
    expect(outcome).toMatchObject({
      tier: crashed.status === "approved" ? 2 : 0,
      submission: { status: crashed.status },
    });

    const audits = await sql<{ action: string }[]>`
      select action from audit_log
       where action in ('kyc.approve', 'kyc.review') and details ->> 'submissionId' = ${id}`;
    expect(audits.map((a) => a.action)).toEqual([crashed.status === "approved" ? "kyc.approve" : "kyc.review"]);
    const told = await sql<{ kind: string; dedupe_key: string }[]>`
      select kind, dedupe_key from notification_outbox where to_phone = ${user.phone} and kind like 'kyc_%'`;
    expect([...told]).toEqual([
      {
        kind: crashed.status === "approved" ? "kyc_approved" : "kyc_in_review",
        dedupe_key: `kyc:${id}:${crashed.status}`,
      },
    ]);

    // The dead process's AnalyzeID, the new one's, the control's; faces compared only by checks that finished.
    expect(aws.counts).toEqual({ analyzeId: 3, compareFaces: 2 });
  },
  90_000,
);
