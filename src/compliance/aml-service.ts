import type { Audit, RequestMeta } from "../audit";
import type { Config } from "../config";
import type { Database, Executor } from "../db/client";
import type { Logger } from "../http/logger";
import {
  type AlertFilter,
  type AlertOutcome,
  type AlertStatus,
  type AlertsDeps,
  assignAlert,
  getAlert,
  listAlerts,
  type RaiseInput,
  raiseAlert,
  setAlertStatus,
} from "./aml-alerts";
import { countDueAlerts, type EscalationNotices, escalateDue } from "./aml-escalation";
import { createMonitor, insertMonitorState } from "./aml-monitor";
import { strCsv } from "./aml-report";
import type { Rule } from "./aml-rules";
import { insertDefaultRules, listRules, type RuleChange, ruleById, ruleOf, updateRule } from "./aml-rules-store";
import type { SanctionsMatch } from "./sanctions-matches";

/**
 * AML monitoring (issue 14, COMPLIANCE.md §3–4): the rules, the monitor that applies them to committed
 * transactions, the alerts analysts work, their escalation, and the STR export. Wiring only.
 */
export interface AmlDeps {
  database: Database;
  logger: Logger;
  now: () => Date;
  config: Pick<Config, "aml" | "serializableMaxRetries">;
  audit: Audit;
  admins: AlertsDeps["admins"];
  /** Staff notices: an escalated alert e-mails the admins of the role it went to. */
  notifications: EscalationNotices;
}

export const SANCTIONS_RULE_ID = "sanctions_match";

export function createAml(deps: AmlDeps) {
  const { db } = deps.database;
  let seeded: Promise<void> | undefined;
  /** The default rules and the monitor's cursor row, written by the first use in each process. */
  const ready = (): Promise<void> => {
    seeded ??= (async () => {
      await insertDefaultRules(db, deps.now());
      await insertMonitorState(db, deps.now());
    })().catch((error) => {
      seeded = undefined;
      throw error;
    });
    return seeded;
  };
  const monitor = createMonitor({ ...deps, ready });

  /**
   * A sanctions match on a subject (recorded, or confirmed by an analyst) raises the sanctions rule's alert, in
   * the match's own transaction. Reads the rule through `tx`: PGlite's one connection is busy with it.
   */
  async function sanctionsHit(match: SanctionsMatch, tx: Executor, meta: RequestMeta): Promise<void> {
    let view = await ruleById(tx, SANCTIONS_RULE_ID);
    if (!view) {
      await insertDefaultRules(tx, deps.now());
      view = await ruleById(tx, SANCTIONS_RULE_ID);
    }
    if (!view?.enabled) return;
    const hit: RaiseInput = {
      rule: ruleOf(view) as Rule,
      subject: match.subject,
      evidence: { kind: "sanctions_match", ids: [match.id] },
      details: {
        matchId: match.id,
        matchStatus: match.status,
        dataid: match.dataid,
        referenceNumber: match.referenceNumber,
        listedName: match.listedName,
        score: match.score,
      },
    };
    await raiseAlert(deps, tx, hit, { ...meta, actor: meta.actor ?? { type: "system", id: "sanctions-screening" } });
  }

  return {
    monitor,
    sanctionsHit,
    rules: {
      /** Every rule, and the cash threshold a rule without its own amount uses. */
      list: async () => {
        await ready();
        return { data: await listRules(db), cashThreshold: deps.config.aml.cashThreshold };
      },
      update: async (id: string, change: RuleChange, admin: { id: string }, meta: RequestMeta) => {
        await ready();
        return updateRule(deps, id, change, admin, meta);
      },
    },
    alerts: {
      list: (filter: AlertFilter) => listAlerts(deps, filter),
      get: (id: string) => getAlert(deps, id),
      assign: (input: { id: string; adminId: string; by: string }, meta: RequestMeta) => assignAlert(deps, input, meta),
      setStatus: (
        input: { id: string; status: AlertStatus; outcome?: AlertOutcome | undefined; note: string; by: string },
        meta: RequestMeta,
      ) => setAlertStatus(deps, input, meta),
    },
    escalateDue: (now: Date, meta?: RequestMeta) => escalateDue(deps, now, meta),
    countDueAlerts: (now: Date) => countDueAlerts(deps, now),
    strCsv: (range: { from: Date; to: Date }) => strCsv(deps.database, range),
  };
}

export type Aml = ReturnType<typeof createAml>;
