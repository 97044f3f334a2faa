import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type postgres from "postgres";
import { type FakeProvider, startFakeEneza, startFakeYeboLink } from "../support/fake-messaging";
import { createTestDatabase, TEST_SECRETS, type TestDatabase } from "../support/harness";
import {
  api,
  codeIn,
  type HttpUser,
  runCli,
  type ServerProcess,
  signInOverHttp,
  startServer,
} from "../support/server-process";

/**
 * The real server process (`bun src/index.ts`) on real Postgres, killed with SIGKILL in the middle of a
 * payment load and started again on the same database. Clients retry what got no answer with the same
 * Idempotency-Key, as the app does. Then: every acknowledged payment is in the ledger exactly once, no
 * retried one twice, nothing is half-applied, `bun run cli ledger:verify` is ok, and the notification
 * outbox delivers every message — through wire-level fakes of Eneza and YeboLink that record what they got.
 */

const CLIENTS = 8;
const KILL_AFTER_OK = 150;
const FUNDING = 1_000_000;
const PIN = "4729";

let testDb: TestDatabase | undefined;
let server: ServerProcess | undefined;
const fakes: FakeProvider[] = [];
const stops: (() => Promise<void>)[] = [];
const dataDir = mkdtempSync(join(tmpdir(), "keshless-crash-"));
afterAll(async () => {
  await server?.kill9();
  for (const fake of fakes) await fake.stop();
  for (const stop of stops) await stop();
  await testDb?.drop();
  rmSync(dataDir, { recursive: true, force: true });
});

interface Sent {
  key: string;
  user: HttpUser;
  body: { vendorCode: string; amount: number; currency: "SZL"; pin: string; reference: string };
  /** ok: a 2xx (with the transaction); failed: another answer; none: no answer at all. */
  outcome: "ok" | "failed" | "none";
  status?: number;
  error?: string;
  transaction?: { id: string; amount: number; fee: number };
  retry?: { status: number; replayed: boolean; transaction?: { id: string; amount: number; fee: number } };
}

/** Writes to a socket, keeping what it could not take until it drains. */
function writer(socket: { write(data: Uint8Array): number }) {
  const queue: Uint8Array[] = [];
  return {
    write(data: Uint8Array) {
      if (queue.length) return void queue.push(data);
      const n = socket.write(data);
      if (n < data.length) queue.push(data.subarray(n));
    },
    drain() {
      while (queue.length) {
        const n = socket.write(queue[0]!);
        if (n < queue[0]!.length) {
          queue[0] = queue[0]!.subarray(n);
          return;
        }
        queue.shift();
      }
    },
  };
}

/**
 * A slow network between the clients and the server: the server's bytes reach the client `delayMs` late.
 * When the server dies, the answers still on the way are lost with the connection — the payment committed,
 * the client never heard — which is what a phone on a mobile network lives through, and what makes a retry
 * with the same Idempotency-Key meet a payment that already happened.
 */
function slowNetwork(port: number, delayMs: number) {
  interface Hop {
    toServer?: ReturnType<typeof writer>;
    toClient?: ReturnType<typeof writer>;
    early: Uint8Array[];
    upstream?: { end(): void };
    timers: Set<ReturnType<typeof setTimeout>>;
    gone: boolean;
  }
  const listener = Bun.listen<Hop>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const hop: Hop = { early: [], timers: new Set(), gone: false };
        client.data = hop;
        hop.toClient = writer(client);
        const drop = () => {
          hop.gone = true;
          for (const timer of hop.timers) clearTimeout(timer);
          client.end();
        };
        Bun.connect({
          hostname: "127.0.0.1",
          port,
          socket: {
            data(_upstream, chunk) {
              const bytes = new Uint8Array(chunk);
              const timer = setTimeout(() => {
                hop.timers.delete(timer);
                if (!hop.gone) hop.toClient!.write(bytes);
              }, delayMs);
              hop.timers.add(timer);
            },
            drain: () => hop.toServer?.drain(),
            close: drop,
            error: drop,
          },
        }).then((upstream) => {
          hop.upstream = upstream;
          hop.toServer = writer(upstream);
          for (const chunk of hop.early.splice(0)) hop.toServer.write(chunk);
        }, drop);
      },
      data(client, chunk) {
        const bytes = new Uint8Array(chunk);
        if (client.data.toServer) client.data.toServer.write(bytes);
        else client.data.early.push(bytes);
      },
      drain: (client) => client.data.toClient?.drain(),
      close: (client) => client.data.upstream?.end(),
    },
  });
  return { url: `http://127.0.0.1:${listener.port}`, stop: () => listener.stop(true) };
}

function payment(url: string, s: Sent) {
  return api(url, "POST", "/v1/payments", {
    token: s.user.accessToken,
    headers: { "idempotency-key": s.key },
    body: s.body,
  });
}

/** A payment message's dedupe key from what the provider received: "<txn id>:payer" or "<txn id>:payee". */
function dedupeKeyOf(text: string): string | undefined {
  const ref = /Ref (txn_[a-z0-9]+)\./.exec(text)?.[1];
  if (!ref) return undefined;
  if (text.startsWith("Keshless: you paid")) return `${ref}:payer`;
  if (text.startsWith("Keshless: you received")) return `${ref}:payee`;
  return undefined;
}

test.skipIf(!process.env.DATABASE_URL)(
  "kill -9 mid-load, restart, retry unanswered requests: every 2xx once in the ledger, none half-applied, ledger:verify ok, every notification delivered (needs DATABASE_URL: skipped on PGlite)",
  async () => {
    testDb = await createTestDatabase();
    const sql = testDb.database.sql as postgres.Sql;
    const eneza = startFakeEneza();
    const yebolink = startFakeYeboLink();
    fakes.push(eneza, yebolink);
    // A provider takes a while to answer, as real ones do: a message it has accepted stays sent even if we die
    // before reading its answer. That is the window in which a crash can lead to a second delivery.
    eneza.mode = "slow";
    eneza.slowMs = 40;
    const env: Record<string, string> = {
      ...TEST_SECRETS,
      DATABASE_URL: testDb.url!,
      KESHLESS_ENV: "development",
      KESHLESS_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      KESHLESS_NOTIFICATIONS: "providers",
      KESHLESS_ENEZA_URL: eneza.url,
      KESHLESS_ENEZA_API_KEY: "test-eneza-key",
      KESHLESS_YEBOLINK_URL: yebolink.url,
      KESHLESS_YEBOLINK_API_KEY: "test-yebolink-key",
      KESHLESS_OUTBOX_INTERVAL_MS: "100",
      KESHLESS_ARGON2_MEMORY_KIB: "1024",
      KESHLESS_ARGON2_TIME_COST: "1",
      KESHLESS_OTP_IP_PER_HOUR: "100000",
      KESHLESS_AUTH_IP_PER_HOUR: "100000",
      KESHLESS_KYC_LIMITS: JSON.stringify({
        "0": { perTransaction: 100_000, daily: 100_000_000, monthly: 100_000_000, maxBalance: 100_000_000 },
      }),
    };
    server = await startServer({ env });

    // ── setup through the CLI and the API, as an operator and the apps would ──
    const [partner, ...vendorResults] = await Promise.all([
      runCli(["partner:create", "--name", "Crash Bank"], env),
      ...[1, 2, 3].map((i) =>
        runCli(
          [
            "vendor:create",
            "--name",
            `Crash Stall ${i}`,
            "--email",
            `crash-stall-${i}@example.com`,
            "--password",
            "Crash!pw-0123456789",
            "--phone",
            `+2687810000${i}`,
          ],
          env,
        ),
      ),
    ]);
    expect(partner!.code).toBe(0);
    for (const v of vendorResults) expect(v.code).toBe(0);
    const vendorCodes = vendorResults.map((v) => v.json.code as string);
    const readCode = async (phone: string) =>
      codeIn(eneza.requests.findLast((r) => r.body?.to === phone)?.body?.message as string | undefined);
    const users = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => signInOverHttp(server!.url, `+2687610000${i}`, PIN, readCode)),
    );
    for (const user of users) {
      const funded = await api(server.url, "POST", "/partner/v1/deposits", {
        headers: { "x-api-key": partner!.json.apiKey, "idempotency-key": `fund-${user.id}` },
        body: { phone: user.phone, amount: FUNDING, currency: "SZL", externalReference: `fund-${user.id}` },
      });
      expect(funded.status).toBe(201);
    }

    // ── load, then kill -9 in the middle of it ──
    const sent: Sent[] = [];
    let ok = 0;
    let killed = false;
    let killing: Promise<void> | undefined;
    const first = server;
    const network = slowNetwork(first.port, 30);
    stops.push(async () => network.stop());
    // The kill comes right after Eneza has taken a message (it answers 40 ms later), so the crash always lands
    // in the outbox's window too: a message the provider has accepted and our outbox has not yet marked sent.
    const kill = () => {
      killing ??= (async () => {
        const seen = eneza.requests.length;
        for (let i = 0; i < 2000 && eneza.requests.length === seen; i++) await Bun.sleep(1);
        killed = true;
        await first.kill9();
      })();
      return killing;
    };
    await Promise.all(
      users.map(async (user, c) => {
        for (let n = 0; !killed; n++) {
          const key = `crash-${c}-${n}`;
          const s: Sent = {
            key,
            user,
            body: {
              vendorCode: vendorCodes[(c + n) % vendorCodes.length]!,
              amount: 100 + ((c * 7919 + n * 104_729) % 1900),
              currency: "SZL",
              pin: PIN,
              reference: key,
            },
            outcome: "none",
          };
          sent.push(s);
          try {
            const res = await payment(network.url, s);
            s.status = res.status;
            if (res.status >= 200 && res.status < 300) {
              s.outcome = "ok";
              s.transaction = res.json;
              if (++ok === KILL_AFTER_OK) void kill();
            } else {
              s.outcome = "failed";
              s.error = res.json?.error?.code;
            }
          } catch {
            s.outcome = "none";
          }
        }
      }),
    );
    const firstOutput = first.output();
    await kill();
    const unanswered = sent.filter((s) => s.outcome === "none");
    // What the dead worker had claimed and not marked sent: its lease (60 s) must pass before anyone retries it.
    const leased = await sql<{ dedupe_key: string }[]>`
      select dedupe_key from notification_outbox where status = 'pending' and attempts > 0`;
    expect(ok).toBeGreaterThanOrEqual(KILL_AFTER_OK);
    expect(unanswered.length).toBeGreaterThan(0);

    // ── restart on the same database; retry every unanswered request with its Idempotency-Key ──
    // What the providers got from the dead process: everything recorded before the restart (a send the worker put
    // on the wire just before it died may be read by the fake a moment after the kill).
    await Bun.sleep(100);
    const deliveredBeforeKill = { eneza: eneza.requests.length, yebolink: yebolink.requests.length };
    server = await startServer({ env });
    for (const s of unanswered) {
      let res = await payment(server.url, s);
      for (let i = 0; i < 20 && res.status === 409; i++) {
        await Bun.sleep(50);
        res = await payment(server.url, s);
      }
      s.retry = {
        status: res.status,
        replayed: res.headers.get("idempotent-replayed") === "true",
        ...(res.status === 201 ? { transaction: res.json } : {}),
      };
    }
    for (const s of unanswered) expect(s.retry?.status).toBe(201);

    // ── the ledger: every acknowledged payment exactly once, nothing else, nothing half-applied ──
    const acknowledged = new Map<string, { id: string; amount: number; fee: number }>();
    for (const s of sent) {
      const t = s.transaction ?? s.retry?.transaction;
      if (t) acknowledged.set(s.key, t);
    }
    const rows = await sql<{ id: string; reference: string; amount: string; fee: string; journals: number }[]>`
      select t.id, t.reference, t.amount::text, t.fee::text,
             (select count(*)::int from ledger_journals j where j.id = t.id) as journals
        from transactions t where t.reference like 'crash-%'`;
    const byReference = new Map<string, (typeof rows)[number][]>();
    for (const r of rows) byReference.set(r.reference, [...(byReference.get(r.reference) ?? []), r]);
    for (const s of sent) {
      const applied = byReference.get(s.key) ?? [];
      const answer = acknowledged.get(s.key);
      if (answer) {
        expect({ key: s.key, applied: applied.map((r) => [r.id, r.journals]) }).toEqual({
          key: s.key,
          applied: [[answer.id, 1]],
        });
      } else expect({ key: s.key, applied: applied.length }).toEqual({ key: s.key, applied: 0 });
    }
    // A retry that found its payment already committed replays the first answer; one that did not, applies it now.
    const replayed = unanswered.filter((s) => s.retry?.replayed).length;
    const halfOpen = await sql<{ journals_without_rows: number; rows_without_journals: number; keys: number }[]>`
      select (select count(*)::int from ledger_journals j where not exists (select 1 from transactions t where t.id = j.id)) as journals_without_rows,
             (select count(*)::int from transactions t where not exists (select 1 from ledger_journals j where j.id = t.id)) as rows_without_journals,
             (select count(*)::int from idempotency_keys where key like 'crash-%') as keys`;
    expect(halfOpen[0]).toEqual({ journals_without_rows: 0, rows_without_journals: 0, keys: acknowledged.size });

    // Each payer's balance is what the answers they got say they spent.
    for (const user of users) {
      const spent = sent
        .filter((s) => s.user === user && acknowledged.has(s.key))
        .reduce((sum, s) => sum + acknowledged.get(s.key)!.amount + acknowledged.get(s.key)!.fee, 0);
      const wallet = await api(server.url, "GET", "/v1/wallet", { token: user.accessToken });
      expect(wallet.json.balance).toBe(FUNDING - spent);
    }

    const verify = await runCli(["ledger:verify"], env);
    expect(verify.json?.ok).toBe(true);
    expect(verify.code).toBe(0);

    // ── notifications: the outbox drains and every message reaches a provider ──
    // Fast-forward the dead worker's leases instead of waiting 60 s for them: the same state the clock would reach.
    await sql`update notification_outbox set next_attempt_at = now() where status = 'pending' and attempts > 0`;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const [left] = await sql<{ n: number }[]>`
        select count(*)::int as n from notification_outbox where status not in ('sent', 'expired')`;
      if (left!.n === 0) break;
      if (Date.now() > deadline) throw new Error(`${left!.n} notifications still undelivered`);
      await Bun.sleep(100);
    }
    const received = [
      ...eneza.requests.map((r) => r.body?.message),
      ...yebolink.requests.map((r) => r.body?.content?.text),
    ];
    const beforeKill = new Set([
      ...eneza.requests.slice(0, deliveredBeforeKill.eneza).map((r) => dedupeKeyOf(String(r.body?.message))),
      ...yebolink.requests
        .slice(0, deliveredBeforeKill.yebolink)
        .map((r) => dedupeKeyOf(String(r.body?.content?.text))),
    ]);
    const deliveries = new Map<string, number>();
    for (const text of received) {
      const key = dedupeKeyOf(String(text));
      if (key) deliveries.set(key, (deliveries.get(key) ?? 0) + 1);
    }
    const expected = [...acknowledged.values()].flatMap((t) => [`${t.id}:payer`, `${t.id}:payee`]);
    const missing = expected.filter((k) => !deliveries.has(k));
    expect(missing).toEqual([]);
    const extra = [...deliveries.keys()].filter((k) => !expected.includes(k));
    expect(extra).toEqual([]);

    // A message the provider accepted just before the kill, whose "sent" the dead worker never recorded, is sent
    // again when its lease passes: the outbox is at-least-once across a crash (the providers take no key we could
    // dedupe on). Any other second delivery would be a bug.
    const leasedKeys = new Set(leased.map((r) => r.dedupe_key));
    const twice = [...deliveries].filter(([, n]) => n > 1).map(([k]) => k);
    const unexplained = twice.filter((k) => !(leasedKeys.has(k) && beforeKill.has(k)));
    // Another way to deliver twice, without a crash: Eneza takes the message but answers after our timeout, and the
    // SMS fallback sends it again. Not seen on this machine (the fake answers in 40 ms; the timeout is 5 s), and
    // printed rather than failed if it happens. A second delivery by the same provider outside the crash window
    // would be a bug. (Before the providers' records were read after the dead process's last bytes, sends in its
    // last milliseconds were miscounted as outside the window.)
    const viaEneza = new Set(eneza.requests.map((r) => dedupeKeyOf(String(r.body?.message))));
    const viaSms = new Set(yebolink.requests.map((r) => dedupeKeyOf(String(r.body?.content?.text))));
    const fallback = unexplained.filter((k) => viaEneza.has(k) && viaSms.has(k));
    expect(unexplained.filter((k) => !fallback.includes(k))).toEqual([]);
    if (fallback.length) console.info(`Outbox: ${fallback.length} sent by WhatsApp and again by the SMS fallback`);
    expect(Math.max(...deliveries.values())).toBeLessThanOrEqual(2);

    const failed = sent.filter((s) => s.outcome === "failed");
    if (failed.length)
      console.info(
        firstOutput
          .split("\n")
          .filter((l) => /exhausted|UNAVAILABLE|busy/.test(l))
          .join("\n"),
      );
    console.info(
      `[crash] ${sent.length} payments sent by ${CLIENTS} clients; ${ok} answered 2xx before the kill, ` +
        `${failed.length} other answers${failed.length ? ` (${failed.map((s) => `${s.status} ${s.error}`).join(", ")})` : ""}, ${unanswered.length} unanswered — retried: ` +
        `${replayed} had committed (replayed), ${unanswered.length - replayed} applied on retry. ` +
        `Outbox: ${leased.length} messages leased by the dead worker, ${twice.length} of them delivered twice ` +
        `(accepted by the provider before the kill, never marked sent); ${expected.length} messages expected, all delivered.`,
    );
  },
  90_000,
);
