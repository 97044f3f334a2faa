import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { createTestContext } from "../support/harness";

/**
 * Rotating KESHLESS_BACKUP_KEY: a deployment given the new key (and a new id) with the old pair in
 * KESHLESS_BACKUP_PREVIOUS_KEYS still verifies and restores what the old key sealed, and seals new backups under
 * the new one; a deployment without the old pair refuses the old backups, naming the key id they need.
 */

const oldKey = randomBytes(32).toString("base64");
const newKey = randomBytes(32).toString("base64");
const before = await createTestContext({ KESHLESS_BACKUP_KEY: oldKey, KESHLESS_BACKUP_KEY_ID: "2025-01" });
const after = await createTestContext({
  KESHLESS_BACKUP_KEY: newKey,
  KESHLESS_BACKUP_KEY_ID: "2026-06",
  KESHLESS_BACKUP_PREVIOUS_KEYS: `2025-01:${oldKey}`,
});
const forgotten = await createTestContext({ KESHLESS_BACKUP_KEY: newKey, KESHLESS_BACKUP_KEY_ID: "2026-06" });
const backup = async (t: typeof before) =>
  (await t.request("POST", "/backup-jobs/backup", { headers: { "x-job-secret": t.config.secrets.job } })).json.summary;

/** The same bucket seen by another deployment: the object copied across. */
async function copy(object: string, from: typeof before, to: typeof before) {
  await to.deps.storage.backups.write(object, await from.deps.storage.backups.read(object), "application/octet-stream");
}

describe("key rotation", () => {
  test("an old backup still verifies under the new key with the old one as previous; new ones use the new key", async () => {
    const old = await backup(before);
    expect(old.keyId).toBe("2025-01");
    await copy(old.object, before, after);
    const verified = await after.deps.runCommand("backup:verify", { object: old.object });
    expect(verified.result).toMatchObject({ ok: true, keyId: "2025-01" });
    const fresh = await backup(after);
    expect(fresh.keyId).toBe("2026-06");
  }, 60_000);

  test("without the old key the old backup is refused, naming its key id; the old deployment cannot read new ones", async () => {
    const old = await backup(before);
    await copy(old.object, before, forgotten);
    const refused = await forgotten.deps.runCommand("backup:verify", { object: old.object });
    expect(refused.ok).toBe(false);
    expect(refused.result).toMatchObject({ ok: false, reason: "unknown_key", keyId: "2025-01" });
    const fresh = await backup(forgotten);
    await copy(fresh.object, forgotten, before);
    expect((await before.deps.runCommand("backup:verify", { object: fresh.object })).result).toMatchObject({
      ok: false,
      reason: "unknown_key",
    });
  }, 60_000);
});
