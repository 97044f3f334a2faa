import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { queryRows } from "../../src/db/client";
import { buildSystem } from "../../src/modules";
import { createPartner } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { startReceiver } from "./receiver";

/**
 * Rotating KESHLESS_WEBHOOK_KEY: endpoints registered under the old key keep signing with their
 * stored secret once the app restarts with the new key and the old one in KESHLESS_WEBHOOK_KEY_PREVIOUS.
 * Two app instances over one database stand in for the restart.
 */
const OLD_KEY = "old-webhook-sealing-key-0123456789abcdefghij";
const NEW_KEY = "new-webhook-sealing-key-0123456789abcdefghij";
const receiver = startReceiver();
const before = await createTestContext({
  KESHLESS_WEBHOOK_ALLOW_PRIVATE_NETWORKS: "true",
  KESHLESS_WEBHOOK_KEY: OLD_KEY,
});
afterAll(() => receiver.stop());
beforeEach(() => receiver.reset());

/** The same deployment restarted with other webhook keys, over the same database. */
async function restartWith(env: Record<string, string>) {
  const config = { ...before.config, secrets: { ...before.config.secrets, ...loadConfig(env).secrets } };
  const deps = await buildSystem(config, { database: before.deps.database, logger: before.deps.logger });
  const app = createApp(deps);
  const request = async (method: string, path: string, apiKey: string, body?: unknown) => {
    const res = await app.request(path, {
      method,
      headers: { "x-api-key": apiKey, ...(body ? { "content-type": "application/json" } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json().catch(() => undefined)) as any };
  };
  return { config, deps, request };
}

const ENV = { KESHLESS_ENV: "test", ...TEST_SECRETS };

describe("KESHLESS_WEBHOOK_KEY rotation", () => {
  test("KESHLESS_WEBHOOK_KEY_PREVIOUS is a comma-separated list, empty by default", () => {
    expect(loadConfig(ENV).secrets.webhookPrevious).toEqual([]);
    const config = loadConfig({ ...ENV, KESHLESS_WEBHOOK_KEY_PREVIOUS: ` ${OLD_KEY} , older-key ` });
    expect(config.secrets.webhookPrevious).toEqual([OLD_KEY, "older-key"]);
  });

  test("an endpoint registered under the old key still signs with its secret after the restart; new secrets seal under the new key", async () => {
    const partner = await createPartner(before, { scopes: ["webhooks:manage"] });
    const created = await before.request("POST", "/partner/v1/webhooks", {
      headers: { "x-api-key": partner.apiKey },
      body: { url: receiver.url },
    });
    expect(created.status).toBe(201);
    const endpointId = created.json.endpoint.id as string;
    receiver.secret = created.json.secret;
    const storedSecret = async () =>
      (
        await queryRows<{ secret: string }>(
          before.deps.database.db,
          sql`select secret from webhook_endpoints where id = ${endpointId}`,
        )
      )[0]!.secret;
    const sealedBefore = await storedSecret();
    expect(sealedBefore).not.toContain(created.json.secret);

    // Restarted with the new key only: the stored secret cannot be read, the attempt fails (no wrong signature).
    const forgot = await restartWith({ ...ENV, KESHLESS_WEBHOOK_KEY: NEW_KEY });
    const lost = await forgot.request("POST", `/partner/v1/webhooks/${endpointId}/test`, partner.apiKey);
    expect(lost.status).toBe(200);
    expect(lost.json.attemptLog[0].error).toContain("secret cannot be read");
    expect(receiver.received).toHaveLength(0);

    // Restarted with the new key and the old one as previous: delivered, signed with the secret from creation.
    const after = await restartWith({
      ...ENV,
      KESHLESS_WEBHOOK_KEY: NEW_KEY,
      KESHLESS_WEBHOOK_KEY_PREVIOUS: OLD_KEY,
    });
    expect(after.config.secrets.webhookPrevious).toEqual([OLD_KEY]);
    const sent = await after.request("POST", `/partner/v1/webhooks/${endpointId}/test`, partner.apiKey);
    expect(sent.status).toBe(200);
    expect(sent.json.attemptLog[0]).toMatchObject({ statusCode: 200, error: null });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.signatureValid).toBe(true);
    expect(await storedSecret()).toBe(sealedBefore);

    // A secret rotated now is sealed under the new key: the new-key-only instance reads it, the old one cannot.
    const rotated = await after.request("POST", `/partner/v1/webhooks/${endpointId}/rotate-secret`, partner.apiKey);
    expect(rotated.status).toBe(200);
    receiver.secret = rotated.json.secret;
    receiver.reset();
    const fresh = await forgot.request("POST", `/partner/v1/webhooks/${endpointId}/test`, partner.apiKey);
    expect(fresh.json.attemptLog[0]).toMatchObject({ statusCode: 200, error: null });
    expect(receiver.received[0]!.signatureValid).toBe(true);
    const stale = await before.request("POST", `/partner/v1/webhooks/${endpointId}/test`, {
      headers: { "x-api-key": partner.apiKey },
    });
    expect(stale.json.attemptLog[0].error).toContain("secret cannot be read");
  });
});
