import { randomBytes } from "node:crypto";
import { and, desc, eq, isNull, sql } from "drizzle-orm";
import type { RequestMeta } from "../audit";
import { type Executor, queryRows } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { newId } from "../lib/ids";
import { nonPublicHostname } from "../lib/net-guard";
import { auditChange, type WebhookContext } from "./context";
import { webhookEndpoints } from "./schema";

/** A partner's webhook endpoints: registration, changes, deletion and secret rotation. */

export interface WebhookEndpoint {
  id: string;
  partnerId: string;
  url: string;
  description: string | null;
  active: boolean;
  secretPrefix: string;
  createdAt: string;
  updatedAt: string;
}

type EndpointDeps = Pick<WebhookContext, "database" | "config" | "logger" | "audit" | "now" | "sealer">;

/** Endpoints a partner may have at once: enough for a primary and a standby, few enough to bound fan-out. */
const MAX_ENDPOINTS = 5;

type EndpointRow = typeof webhookEndpoints.$inferSelect;

const toEndpoint = (r: EndpointRow): WebhookEndpoint => ({
  id: r.id,
  partnerId: r.partnerId,
  url: r.url,
  description: r.description,
  active: r.active,
  secretPrefix: r.secretPrefix,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

const newSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

/** The sealed secret and the prefix shown to the partner, for a new or rotated secret. */
const secretColumns = (sealer: EndpointDeps["sealer"], secret: string) => ({
  secret: sealer.seal(secret),
  secretPrefix: secret.slice(0, 12),
});

function checkUrl(config: EndpointDeps["config"], url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalidUrl("is not a URL");
  }
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && config.env !== "production"))
    throw invalidUrl(config.env === "production" ? "must be https" : "must be http or https");
  if (parsed.username || parsed.password) throw invalidUrl("must not carry credentials");
  // A partner must not be able to make our servers call our own network (the metadata server above all).
  // Only what the text itself shows is refused here; where a name resolves is checked at every delivery.
  const internal = config.webhooks.allowPrivateNetworks ? null : nonPublicHostname(parsed.hostname);
  if (internal) throw invalidUrl(`must be a public address (the host is ${internal})`);
  return parsed.toString();
}

function invalidUrl(message: string) {
  return new AppError("VALIDATION_FAILED", `The webhook URL ${message}.`, [{ path: "url", message }]);
}

/** The partner's own live endpoint, or NOT_FOUND (another partner's endpoint is not found either). */
export async function endpointRow(executor: Executor, partnerId: string, endpointId: string) {
  const [row] = await executor
    .select()
    .from(webhookEndpoints)
    .where(
      and(
        eq(webhookEndpoints.id, endpointId),
        eq(webhookEndpoints.partnerId, partnerId),
        isNull(webhookEndpoints.deletedAt),
      ),
    );
  if (!row) throw new AppError("NOT_FOUND", "No such webhook endpoint.");
  return row;
}

export async function listEndpoints(c: Pick<EndpointDeps, "database">, partnerId: string): Promise<WebhookEndpoint[]> {
  const rows = await c.database.db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.partnerId, partnerId), isNull(webhookEndpoints.deletedAt)))
    .orderBy(desc(webhookEndpoints.createdAt));
  return rows.map(toEndpoint);
}

/** The signing secret is returned here and on rotation only; we keep it sealed. */
export async function createEndpoint(
  c: EndpointDeps,
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: { partnerId: string; url: string; description?: string | undefined };
  },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const url = checkUrl(c.config, input.url);
  const secret = newSecret();
  const endpoint = await withTransaction(
    c,
    async (tx) => {
      const [{ count } = { count: 0 }] = await queryRows<{ count: number }>(
        tx,
        sql`select count(*)::int as count from webhook_endpoints
             where partner_id = ${input.partnerId} and deleted_at is null`,
      );
      if (count >= MAX_ENDPOINTS)
        throw new AppError("CONFLICT", `A partner may have at most ${MAX_ENDPOINTS} webhook endpoints.`);
      const now = c.now();
      const [row] = await tx
        .insert(webhookEndpoints)
        .values({
          id: newId("whk"),
          partnerId: input.partnerId,
          url,
          description: input.description ?? null,
          ...secretColumns(c.sealer, secret),
          createdBy: ctx.actor?.id ?? null,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      await auditChange(
        c.audit,
        { action: "webhook.endpoint.create", partnerId: input.partnerId, details: { endpointId: row!.id, url } },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    },
    { label: "webhooks.createEndpoint" },
  );
  return { endpoint, secret };
}

export async function updateEndpoint(
  c: EndpointDeps,
  {
    ctx,
    input,
  }: {
    ctx: RequestMeta;
    input: {
      partnerId: string;
      endpointId: string;
      url?: string | undefined;
      description?: string | null | undefined;
      active?: boolean | undefined;
    };
  },
): Promise<WebhookEndpoint> {
  const url = input.url === undefined ? undefined : checkUrl(c.config, input.url);
  return withTransaction(
    c,
    async (tx) => {
      await endpointRow(tx, input.partnerId, input.endpointId);
      const changes = {
        ...(url !== undefined ? { url } : {}),
        ...(input.description !== undefined ? { description: input.description } : {}),
        ...(input.active !== undefined ? { active: input.active } : {}),
      };
      const [row] = await tx
        .update(webhookEndpoints)
        .set({ ...changes, updatedAt: c.now() })
        .where(eq(webhookEndpoints.id, input.endpointId))
        .returning();
      await auditChange(
        c.audit,
        {
          action: "webhook.endpoint.update",
          partnerId: input.partnerId,
          details: { endpointId: input.endpointId, ...changes },
        },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    },
    { label: "webhooks.updateEndpoint" },
  );
}

/** Gone from the list and sent nothing more; its delivery log stays. */
export async function deleteEndpoint(
  c: EndpointDeps,
  { ctx, input }: { ctx: RequestMeta; input: { partnerId: string; endpointId: string } },
): Promise<void> {
  await withTransaction(
    c,
    async (tx) => {
      await endpointRow(tx, input.partnerId, input.endpointId);
      const now = c.now();
      await tx
        .update(webhookEndpoints)
        .set({ active: false, deletedAt: now, updatedAt: now })
        .where(eq(webhookEndpoints.id, input.endpointId));
      await auditChange(
        c.audit,
        { action: "webhook.endpoint.delete", partnerId: input.partnerId, details: { endpointId: input.endpointId } },
        ctx,
        tx,
      );
    },
    { label: "webhooks.deleteEndpoint" },
  );
}

/** A new secret at once: deliveries from now on are signed with it only. */
export async function rotateSecret(
  c: EndpointDeps,
  { ctx, input }: { ctx: RequestMeta; input: { partnerId: string; endpointId: string } },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const secret = newSecret();
  const endpoint = await withTransaction(
    c,
    async (tx) => {
      await endpointRow(tx, input.partnerId, input.endpointId);
      const [row] = await tx
        .update(webhookEndpoints)
        .set({ ...secretColumns(c.sealer, secret), updatedAt: c.now() })
        .where(eq(webhookEndpoints.id, input.endpointId))
        .returning();
      await auditChange(
        c.audit,
        {
          action: "webhook.endpoint.rotate_secret",
          partnerId: input.partnerId,
          details: { endpointId: input.endpointId },
        },
        ctx,
        tx,
      );
      return toEndpoint(row!);
    },
    { label: "webhooks.rotateSecret" },
  );
  return { endpoint, secret };
}
