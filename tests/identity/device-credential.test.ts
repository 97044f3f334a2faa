import { describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { createVendor, latestCode, signInVendor, type TestVendor } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * A vendor's trusted device (issue 11, item 5): before, the password plus any `deviceId` string the vendor had
 * once verified — an install id an attacker could know or guess — skipped the one-time code. Now verification
 * hands the app a high-entropy device credential, shown once and stored only as a hash; only that, sent as
 * `deviceId`, is a trusted device, and revoking the device voids it.
 */
const t = await createTestContext();
const login = (vendor: TestVendor, deviceId: string) =>
  t.request("POST", "/v1/vendor/auth/login", { body: { email: vendor.email, password: vendor.password, deviceId } });
const later = (ms: number) => {
  t.deps.now = () => new Date(Date.now() + ms);
};

describe("device credentials", () => {
  test("the device's name is not a credential: password + a known deviceId still needs the code", async () => {
    const vendor = await createVendor(t);
    const { deviceCredential } = await signInVendor(t, vendor, "pos-terminal-7");
    expect(deviceCredential).toMatch(/^kdc_[\w-]{43}$/);
    later(61_000); // past the code cooldown
    try {
      const named = await login(vendor, "pos-terminal-7");
      expect(named.status).toBe(403);
      expect(named.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
      const trusted = await login(vendor, deviceCredential);
      expect(trusted.status).toBe(200);
      // The session and the device list know the device by its name, never by its credential.
      const list = await t.request("GET", "/v1/vendor/devices", { token: trusted.json.accessToken });
      expect(list.json.data.map((d: { deviceId: string }) => d.deviceId)).toEqual(["pos-terminal-7"]);
      expect(list.text).not.toContain(deviceCredential);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("stored only as a hash; shown once", async () => {
    const vendor = await createVendor(t);
    const { deviceCredential } = await signInVendor(t, vendor, "tablet");
    const rows = await queryRows<{ row: string }>(
      t.deps.database.db,
      sql`select row_to_json(d)::text as row from vendor_devices d where vendor_id = ${vendor.id}`,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.row).not.toContain(deviceCredential);
    const sessions = await queryRows<{ row: string }>(
      t.deps.database.db,
      sql`select row_to_json(s)::text as row from auth_sessions s where principal_id = ${vendor.id}`,
    );
    for (const s of sessions) expect(s.row).not.toContain(deviceCredential);
    expect(t.logs.join("\n")).not.toContain(deviceCredential);
    const audit = await t.deps.audit.list({ targetId: vendor.id, limit: 50 });
    expect(JSON.stringify(audit.data)).not.toContain(deviceCredential);
  });

  test("one vendor's credential is nothing to another vendor", async () => {
    const a = await createVendor(t);
    const b = await createVendor(t);
    const { deviceCredential } = await signInVendor(t, a, "shared-phone");
    const res = await login(b, deviceCredential);
    expect(res.status).toBe(403);
    expect(res.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
  });

  test("verifying the device again issues a new credential and voids the old; revoking voids it too", async () => {
    const vendor = await createVendor(t);
    const first = await signInVendor(t, vendor, "phone");
    later(61_000);
    let second: string;
    try {
      const challenged = await login(vendor, "phone");
      const code = await latestCode(t, vendor.phone);
      const verified = await t.request("POST", "/v1/vendor/auth/device/verify", {
        body: { challengeId: challenged.json.error.details.challengeId, code },
      });
      expect(verified.status).toBe(200);
      second = verified.json.deviceCredential;
      expect(second).not.toBe(first.deviceCredential);
      later(122_000); // each new code waits out the cooldown of the one before
      const stale = await login(vendor, first.deviceCredential);
      expect(stale.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
      const signedIn = await login(vendor, second);
      expect(signedIn.status).toBe(200);
      const [device] = (await t.request("GET", "/v1/vendor/devices", { token: signedIn.json.accessToken })).json.data;
      const revoked = await t.request("DELETE", `/v1/vendor/devices/${device.id}`, {
        token: signedIn.json.accessToken,
      });
      expect(revoked.status).toBe(204);
      later(183_000);
      const after = await login(vendor, second);
      expect(after.status).toBe(403);
      expect(after.json.error.code).toBe("DEVICE_VERIFICATION_REQUIRED");
    } finally {
      t.deps.now = () => new Date();
    }
  });
});
