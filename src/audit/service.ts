import { and, desc, eq, gte, like, lte, type SQL } from "drizzle-orm";
import type { Database, Executor } from "../db/client";
import { retrySerializable } from "../db/serializable";
import type { Actor, RequestMeta } from "../http/context";
import { scrub } from "../http/logger";
import { after, encodeCursor } from "../http/pagination";
import { newId } from "../lib/ids";
import { auditLog } from "./schema";

// Defined by the platform, which builds them from each request (src/http/context.ts).
export type { Actor, ActorType, RequestMeta } from "../http/context";

export interface AuditEntry {
  action: string;
  actor?: Actor;
  target?: { type: string; id: string | null | undefined };
  details?: Record<string, unknown>;
}

export interface AuditRecord {
  id: string;
  at: string;
  actorType: string;
  actorId: string | null;
  action: string;
  targetType: string | null;
  targetId: string | null;
  ip: string | null;
  requestId: string | null;
  details: Record<string, unknown>;
}

export interface AuditFilter {
  actorType?: string;
  actorId?: string;
  /** Exact, or a prefix when it ends with `.*` (`vendor.login.*`). */
  action?: string;
  targetType?: string;
  targetId?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

/**
 * The audit trail. `record` takes the caller's transaction so the row commits or rolls back with the
 * change it describes. Details pass through the log scrubber: no secret-named field, no full phone.
 */
export function createAudit(deps: { database: Database; now: () => Date; config: { serializableMaxRetries: number } }) {
  async function record(entry: AuditEntry, meta: RequestMeta = {}, tx?: Executor): Promise<void> {
    const actor = entry.actor ?? meta.actor ?? { type: "anonymous" };
    const insert = (executor: Executor) =>
      executor.insert(auditLog).values({
        id: newId("aud"),
        at: deps.now(),
        actorType: actor.type,
        actorId: actor.id ?? null,
        action: entry.action,
        targetType: entry.target?.type ?? null,
        targetId: entry.target?.id ?? null,
        ip: meta.ip ?? null,
        requestId: meta.requestId ?? null,
        details: (scrub(entry.details ?? {}) as Record<string, unknown>) ?? {},
      });
    // On its own (a refused login: nothing else changed) it is a one-statement transaction of its own.
    if (tx) await insert(tx);
    else await retrySerializable(() => insert(deps.database.db), { maxRetries: deps.config.serializableMaxRetries });
  }

  async function list(filter: AuditFilter): Promise<{ data: AuditRecord[]; nextCursor: string | null }> {
    const where: (SQL | undefined)[] = [];
    if (filter.actorType) where.push(eq(auditLog.actorType, filter.actorType));
    if (filter.actorId) where.push(eq(auditLog.actorId, filter.actorId));
    if (filter.action) {
      where.push(
        filter.action.endsWith(".*")
          ? like(auditLog.action, `${filter.action.slice(0, -2).replace(/[\\%_]/g, "\\$&")}.%`)
          : eq(auditLog.action, filter.action),
      );
    }
    if (filter.targetType) where.push(eq(auditLog.targetType, filter.targetType));
    if (filter.targetId) where.push(eq(auditLog.targetId, filter.targetId));
    if (filter.from) where.push(gte(auditLog.at, filter.from));
    if (filter.to) where.push(lte(auditLog.at, filter.to));
    if (filter.cursor) {
      where.push(after(filter.cursor, auditLog.at, auditLog.id));
    }
    const rows = await deps.database.db
      .select()
      .from(auditLog)
      .where(and(...where))
      .orderBy(desc(auditLog.at), desc(auditLog.id))
      .limit(filter.limit + 1);
    const page = rows.slice(0, filter.limit);
    const last = page[page.length - 1];
    return {
      data: page.map((r) => ({
        id: r.id,
        at: r.at.toISOString(),
        actorType: r.actorType,
        actorId: r.actorId,
        action: r.action,
        targetType: r.targetType,
        targetId: r.targetId,
        ip: r.ip,
        requestId: r.requestId,
        details: r.details ?? {},
      })),
      nextCursor: rows.length > filter.limit && last ? encodeCursor(last.at, last.id) : null,
    };
  }

  return { record, list };
}

export type Audit = ReturnType<typeof createAudit>;
