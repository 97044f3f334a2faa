import type { Audit, RequestMeta } from "../audit";
import type { Config } from "../config";
import type { Database, Executor } from "../db/client";
import type { Logger } from "../http/logger";
import { createSealer, type Sealer } from "../lib/sealer";

/** What the webhooks service is built from. */
export interface WebhookDeps {
  database: Database;
  logger: Logger;
  config: Pick<Config, "env" | "webhooks" | "secrets" | "serializableMaxRetries">;
  audit: Audit;
  now: () => Date;
}

/**
 * What the endpoint, delivery and delivery-log functions share, built once per service. It satisfies
 * withTransaction's deps, so the retry log lines carry the webhooks component.
 */
export interface WebhookContext extends WebhookDeps {
  /** Seals endpoint secrets at rest; opens those sealed under a previous key too. */
  sealer: Sealer;
  /** How long a claimed delivery stays leased to the worker attempting it. */
  leaseMs: number;
}

export function webhookContext(deps: WebhookDeps): WebhookContext {
  return {
    database: deps.database,
    logger: deps.logger.child({ component: "webhooks" }),
    config: deps.config,
    audit: deps.audit,
    now: deps.now,
    sealer: createSealer(deps.config.secrets.webhook, deps.config.secrets.webhookPrevious),
    // Longer than one attempt can take, so a live worker never loses its row to another.
    leaseMs: deps.config.webhooks.timeoutMs + 30_000,
  };
}

/** Every change to a partner's webhooks is audited against the partner, in the change's own transaction. */
export function auditChange(
  audit: Audit,
  change: { action: string; partnerId: string; details: Record<string, unknown> },
  ctx: RequestMeta,
  tx: Executor,
): Promise<void> {
  return audit.record(
    { action: change.action, target: { type: "partner", id: change.partnerId }, details: change.details },
    ctx,
    tx,
  );
}
