import { asc, eq } from "drizzle-orm";
import type { Audit, RequestMeta } from "../audit";
import type { Database, Executor } from "../db/client";
import { withTransaction } from "../db/transaction";
import { AppError } from "../http/errors";
import { DEFAULT_RULES, parseParams, RULE_TYPES, type Rule, type RuleType } from "./aml-rules";
import { amlRules } from "./schema";

/**
 * The rules as stored: the defaults are written by the first read of a process (a rule already stored is never
 * touched, so an admin's change survives every deploy), and an admin's change is validated against its type and
 * audited with its before and after in the transaction that makes it.
 */

export interface RulesDeps {
  database: Pick<Database, "db">;
  config: { serializableMaxRetries: number; aml: { cashThreshold: number } };
  now: () => Date;
  audit: Pick<Audit, "record">;
}

export interface RuleView {
  id: string;
  type: RuleType;
  name: string;
  enabled: boolean;
  priority: number;
  params: Record<string, unknown>;
  updatedBy: string | null;
  updatedAt: string;
}

type Row = typeof amlRules.$inferSelect;

const viewOf = (r: Row): RuleView => ({
  id: r.id,
  type: r.type as RuleType,
  name: r.name,
  enabled: r.enabled,
  priority: r.priority,
  params: r.params,
  updatedBy: r.updatedBy,
  updatedAt: r.updatedAt.toISOString(),
});

export const ruleOf = (r: Pick<Row, "id" | "type" | "name" | "enabled" | "priority" | "params">): Rule =>
  ({ id: r.id, type: r.type, name: r.name, enabled: r.enabled, priority: r.priority, params: r.params }) as Rule;

/** Writes the default rules missing from the table; a stored rule is left as it is. */
export async function insertDefaultRules(executor: Pick<Executor, "insert">, now: Date): Promise<void> {
  await executor
    .insert(amlRules)
    .values(DEFAULT_RULES.map((r) => ({ ...r, enabled: true, updatedAt: now })))
    .onConflictDoNothing();
}

export async function listRules(executor: Pick<Executor, "select">): Promise<RuleView[]> {
  const rows = await executor.select().from(amlRules).orderBy(asc(amlRules.id));
  // A type this code no longer knows (a newer deploy's rule during a rollback) is left alone, not evaluated.
  return rows.filter((r) => (RULE_TYPES as readonly string[]).includes(r.type)).map(viewOf);
}

export async function ruleById(executor: Pick<Executor, "select">, id: string): Promise<RuleView | undefined> {
  const [row] = await executor.select().from(amlRules).where(eq(amlRules.id, id));
  return row ? viewOf(row) : undefined;
}

export interface RuleChange {
  enabled?: boolean;
  priority?: number;
  /** Merged over the stored parameters, then validated whole against the rule's type. */
  params?: Record<string, unknown>;
}

export async function updateRule(
  deps: RulesDeps,
  id: string,
  change: RuleChange,
  admin: { id: string },
  meta: RequestMeta,
): Promise<RuleView> {
  return withTransaction(
    deps,
    async (tx) => {
      const [row] = await tx.select().from(amlRules).where(eq(amlRules.id, id)).for("update");
      if (!row) throw new AppError("NOT_FOUND", "No such AML rule.");
      const parsed = parseParams(
        row.type as RuleType,
        { ...row.params, ...(change.params ?? {}) },
        deps.config.aml.cashThreshold,
      );
      if (!parsed.ok) throw new AppError("VALIDATION_FAILED", "The rule's parameters are not valid.", parsed.issues);
      const set = {
        enabled: change.enabled ?? row.enabled,
        priority: change.priority ?? row.priority,
        params: parsed.params,
        updatedBy: admin.id,
        updatedAt: deps.now(),
      };
      const [after] = await tx.update(amlRules).set(set).where(eq(amlRules.id, id)).returning();
      const pick = (r: Pick<Row, "enabled" | "priority" | "params">) => ({
        enabled: r.enabled,
        priority: r.priority,
        params: r.params,
      });
      await deps.audit.record(
        {
          action: "aml.rule.updated",
          actor: { type: "admin", id: admin.id },
          target: { type: "aml_rule", id },
          details: { type: row.type, before: pick(row), after: pick(set) },
        },
        meta,
        tx,
      );
      return viewOf(after!);
    },
    { label: "aml.rule.update" },
  );
}
