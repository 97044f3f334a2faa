import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { createVendor, signInUser, signInVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * Two refreshes racing with one refresh token (issue 11, item 9) — an app resuming on two threads, a request
 * retried after a timeout — used to count the second as reuse and sign the user out. Within the grace window
 * the same token gets the same new pair; after it, presenting it is still reuse and ends the session.
 */
const t = await createTestContext();
const GRACE = t.config.auth.refreshGraceSeconds;
const refresh = (path: string, refreshToken: string) => t.request("POST", path, { body: { refreshToken } });

describe("refresh grace window", () => {
  test("ten concurrent refreshes with one token: all 200 with the same pair, and the user stays signed in", async () => {
    const user = await signInUser(t);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh("/v1/auth/refresh", user.refreshToken)));
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((r) => r.json.refreshToken)).size).toBe(1);
    expect(new Set(answers.map((r) => r.json.accessToken)).size).toBe(1);
    const { accessToken, refreshToken } = answers[0]!.json;
    expect((await t.request("GET", "/v1/me", { token: accessToken })).status).toBe(200);
    // The new refresh token is the live one of the family.
    const next = await refresh("/v1/auth/refresh", refreshToken);
    expect(next.status).toBe(200);
    expect(next.json.refreshToken).not.toBe(refreshToken);
    const audit = await t.deps.audit.list({ action: "auth.refresh.reuse", limit: 50 });
    expect(audit.data.filter((r) => r.actorId === user.id)).toHaveLength(0);
  });

  test("after the window, the old token is reuse: 401 and the whole session ends", async () => {
    const user = await signInUser(t);
    const first = await refresh("/v1/auth/refresh", user.refreshToken);
    expect(first.status).toBe(200);
    const now = t.deps.now;
    t.deps.now = () => new Date(Date.now() + (GRACE + 1) * 1000);
    try {
      const replay = await refresh("/v1/auth/refresh", user.refreshToken);
      expect(replay.status).toBe(401);
      expect((await refresh("/v1/auth/refresh", first.json.refreshToken)).status).toBe(401);
      expect((await t.request("GET", "/v1/me", { token: first.json.accessToken })).status).toBe(401);
    } finally {
      t.deps.now = now;
    }
  });

  test("vendors get the same grace", async () => {
    const vendor = await createVendor(t);
    const session = await signInVendor(t, vendor);
    const [a, b] = await Promise.all([
      refresh("/v1/vendor/auth/refresh", session.refreshToken),
      refresh("/v1/vendor/auth/refresh", session.refreshToken),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.json.refreshToken).toBe(b.json.refreshToken);
  });

  test("the issued pair is stored sealed, never in the clear", async () => {
    const user = await signInUser(t);
    const res = await refresh("/v1/auth/refresh", user.refreshToken);
    const rows = await queryRows(
      t.deps.database.db,
      sql`select successor_sealed from refresh_tokens where successor_sealed is not null`,
    );
    const all = JSON.stringify(rows);
    expect(all).not.toContain(res.json.refreshToken);
    expect(all).not.toContain(res.json.accessToken);
  });
});
