import { z } from "zod";
import { ADMIN_ROLES, type AdminRole, can } from "../http/permissions";
import { int, list } from "./shared";

/**
 * Sanctions screening (issue 14, COMPLIANCE.md §1–2): where the UN list is downloaded from, and every weight of
 * the name matcher. The defaults were measured on the 2024-09-26 list (README "Compliance"). AML monitoring
 * (COMPLIANCE.md §3–4): the cash-threshold amount, the escalation of unresolved alerts, the monitor's pace.
 */

/** The UN Security Council Consolidated List; it answers 302 to the file itself. */
export const UN_SANCTIONS_URL = "https://scsanctions.un.org/resources/xml/en/consolidated.xml";

/**
 * Words of business names, common among our vendors and on the list's entities: like common given names, none of
 * them carries a match alone ("Shop 3f2a1b" is not "Haji Abdul Basir Exchange Shop"). Listed entities still match
 * on their distinctive words, or whole.
 */
export const DEFAULT_SANCTIONS_GENERIC_WORDS = [
  "shop",
  "store",
  "stores",
  "supermarket",
  "market",
  "spaza",
  "tuckshop",
  "butchery",
  "bakery",
  "restaurant",
  "takeaway",
  "takeaways",
  "salon",
  "hardware",
  "pharmacy",
  "garage",
  "taxi",
  "general",
  "dealer",
  "dealers",
  "trading",
  "traders",
  "company",
  "co",
  "corp",
  "corporation",
  "limited",
  "ltd",
  "pty",
  "inc",
  "llc",
  "enterprise",
  "enterprises",
  "group",
  "holdings",
  "services",
  "exchange",
  "centre",
  "center",
];

/** Given names common on the list and among our users: none of them carries a match alone. */
export const DEFAULT_SANCTIONS_COMMON_NAMES = [
  "mohammed",
  "muhammad",
  "mohammad",
  "mohamed",
  "muhammed",
  "mohamad",
  "muhamad",
  "ahmed",
  "ahmad",
  "ali",
  "abdul",
  "abd",
  "abdel",
  "abdallah",
  "abdullah",
  "musa",
  "moussa",
  "mousa",
  "john",
  "joseph",
  "peter",
  "mary",
  "samuel",
  "david",
  "daniel",
  "ibrahim",
  "yusuf",
  "yousef",
  "omar",
  "umar",
  "hassan",
  "hasan",
  "hussein",
  "khalid",
  "salim",
  "said",
  "fatima",
  "abu",
  "bin",
  "ben",
  "ibn",
  "al",
  "el",
];

const share = z.coerce.number().min(0).max(1);

/** Who an unresolved alert goes to at each escalation level, lowest first: analyst, deputy, compliance officer. */
export const DEFAULT_AML_ESCALATION_LADDER: AdminRole[] = ["compliance", "compliance", "super_admin"];

const ladder = z
  .string()
  .transform((value) => list(value))
  .pipe(
    z
      .array(
        z.enum(ADMIN_ROLES).refine((role) => can(role, "aml:review"), "a role that reviews AML alerts (aml:review)"),
      )
      .min(1, "names at least one admin role"),
  );

export const complianceEnv = z.object({
  KESHLESS_SANCTIONS_URL: z.url({ protocol: /^https?$/ }).optional(),
  KESHLESS_SANCTIONS_THRESHOLD: share.default(0.8),
  KESHLESS_SANCTIONS_TOKEN_MATCH: share.default(0.88),
  KESHLESS_SANCTIONS_TOKEN_FLOOR: share.default(0.7),
  KESHLESS_SANCTIONS_JOINED_MATCH: share.default(0.95),
  KESHLESS_SANCTIONS_UNMATCHED_PENALTY: share.default(0.25),
  KESHLESS_SANCTIONS_COMMON_NAMES: z.string().optional(),
  KESHLESS_SANCTIONS_GENERIC_WORDS: z.string().optional(),
  KESHLESS_SANCTIONS_COMMON_ENTRIES: int(2, 10_000).default(20),
  KESHLESS_SANCTIONS_DOB_TOLERANCE_YEARS: int(0, 20).default(2),
  KESHLESS_SANCTIONS_DOB_PENALTY: share.default(0.25),
  KESHLESS_SANCTIONS_DOB_DAY_PENALTY: share.default(0.1),
  KESHLESS_SANCTIONS_NATIONALITY_PENALTY: share.default(0.15),
  KESHLESS_SANCTIONS_DOWNLOAD_TIMEOUT_MS: int(1000, 600_000).default(120_000),
  KESHLESS_SANCTIONS_MAX_BYTES: int(1024, 500 * 1024 * 1024).default(64 * 1024 * 1024),
  // A well-formed file with far fewer entries than the list we hold is more likely cut short than a mass delisting.
  KESHLESS_SANCTIONS_MAX_DROP: share.default(0.1),
  // The EFIU's cash-threshold (CTR) amount, in cents. E5,000 is the only figure in circulation and it is
  // unconfirmed (COMPLIANCE.md §6): a variable, so confirming it with the EFIU changes no code.
  KESHLESS_AML_CASH_THRESHOLD: int(1, Number.MAX_SAFE_INTEGER).default(500_000),
  // Fractions allowed: tests escalate after seconds.
  KESHLESS_AML_ESCALATION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 30)
    .default(4),
  KESHLESS_AML_ESCALATION_LADDER: ladder.optional(),
  KESHLESS_AML_MONITOR_INTERVAL_MS: int(50, 600_000).default(2000),
  // Rows per pass. A pass is a burst of CPU beside the payments it reads: 500 made their p99 at half the peak
  // 61 ms, 100 made it 40 (bench/RESULTS.md, issue 17); a backlog is read pass after pass all the same.
  KESHLESS_AML_MONITOR_BATCH: int(1, 10_000).default(100),
  KESHLESS_AML_MONITOR_SAFETY_MS: int(0, 3_600_000).default(5000),
});
export type ComplianceEnv = z.infer<typeof complianceEnv>;

export function complianceSettings(e: ComplianceEnv) {
  const commonNames = [
    ...(e.KESHLESS_SANCTIONS_COMMON_NAMES ? list(e.KESHLESS_SANCTIONS_COMMON_NAMES) : DEFAULT_SANCTIONS_COMMON_NAMES),
    ...(e.KESHLESS_SANCTIONS_GENERIC_WORDS
      ? list(e.KESHLESS_SANCTIONS_GENERIC_WORDS)
      : DEFAULT_SANCTIONS_GENERIC_WORDS),
  ];
  return {
    sanctions: {
      /** Set: downloaded from here. Unset: the development simulator when simulators are on, else the UN's URL. */
      url: e.KESHLESS_SANCTIONS_URL,
      defaultUrl: UN_SANCTIONS_URL,
      downloadTimeoutMs: e.KESHLESS_SANCTIONS_DOWNLOAD_TIMEOUT_MS,
      maxBytes: e.KESHLESS_SANCTIONS_MAX_BYTES,
      /** A download holding fewer entries than (1 − this) × the current list's is refused. */
      maxDrop: e.KESHLESS_SANCTIONS_MAX_DROP,
      matching: {
        threshold: e.KESHLESS_SANCTIONS_THRESHOLD,
        tokenMatch: e.KESHLESS_SANCTIONS_TOKEN_MATCH,
        tokenFloor: e.KESHLESS_SANCTIONS_TOKEN_FLOOR,
        joinedMatch: e.KESHLESS_SANCTIONS_JOINED_MATCH,
        unmatchedPenalty: e.KESHLESS_SANCTIONS_UNMATCHED_PENALTY,
        commonNames,
        commonEntries: e.KESHLESS_SANCTIONS_COMMON_ENTRIES,
        dobToleranceYears: e.KESHLESS_SANCTIONS_DOB_TOLERANCE_YEARS,
        dobPenalty: e.KESHLESS_SANCTIONS_DOB_PENALTY,
        dobDayPenalty: e.KESHLESS_SANCTIONS_DOB_DAY_PENALTY,
        nationalityPenalty: e.KESHLESS_SANCTIONS_NATIONALITY_PENALTY,
      },
    },
    aml: {
      /** Cents. What the large-transaction and structuring rules use unless a rule names its own amount. */
      cashThreshold: e.KESHLESS_AML_CASH_THRESHOLD,
      escalation: {
        intervalMs: Math.round(e.KESHLESS_AML_ESCALATION_HOURS * 3_600_000),
        /** Role per level (index = level); the last is the cap. */
        ladder: e.KESHLESS_AML_ESCALATION_LADDER ?? DEFAULT_AML_ESCALATION_LADDER,
      },
      monitor: {
        intervalMs: e.KESHLESS_AML_MONITOR_INTERVAL_MS,
        batch: e.KESHLESS_AML_MONITOR_BATCH,
        /** How far behind the oldest open transaction (and now) the monitor stays: covers app-clock timestamps. */
        safetyMs: e.KESHLESS_AML_MONITOR_SAFETY_MS,
      },
    },
  };
}
export type ComplianceSlice = ReturnType<typeof complianceSettings>;

/** Production's refusals for this slice: the list must be the UN's, or one named on purpose. */
export function complianceProblems(e: ComplianceEnv): string[] {
  const problems: string[] = [];
  if (e.KESHLESS_SANCTIONS_URL && !e.KESHLESS_SANCTIONS_URL.startsWith("https://"))
    problems.push("KESHLESS_SANCTIONS_URL: must be https in production");
  return problems;
}
