import { sql } from "drizzle-orm";
import {
  bigint,
  check,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  smallint,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

/**
 * Identity: users (phone + OTP + PIN), vendors (email + password + trusted devices), admins
 * (password + TOTP + role), partners (API keys), and what every instance must share to enforce them:
 * sessions, refresh tokens, OTP challenges, rate-limit counters. Nothing of this lives in process memory.
 */

const tz = { withTimezone: true } as const;

export const users = pgTable(
  "users",
  {
    id: text().primaryKey(),
    phone: text().notNull().unique(),
    name: text(),
    /** 0 = phone + OTP only; compliance raises it after KYC review. */
    kycTier: smallint().notNull().default(0),
    /** From the approved KYC document, as are `name` then (src/kyc). */
    dateOfBirth: date({ mode: "string" }),
    kycVerifiedAt: timestamp(tz),
    /** active · frozen · deleted */
    status: text().notNull().default("active"),
    statusReason: text(),
    /** HMAC-SHA-256 hex of `userId:pin` under the pepper named by pinKeyId. */
    pinHash: text(),
    pinKeyId: text(),
    pinSetAt: timestamp(tz),
    pinFailedCount: smallint().notNull().default(0),
    pinLockedUntil: timestamp(tz),
    lastLoginAt: timestamp(tz),
    createdAt: timestamp(tz).notNull().defaultNow(),
    updatedAt: timestamp(tz).notNull().defaultNow(),
  },
  (t) => [
    index("users_created_idx").on(t.createdAt.desc(), t.id.desc()),
    check("users_status", sql`${t.status} in ('active','frozen','deleted')`),
  ],
);

export const vendors = pgTable(
  "vendors",
  {
    id: text().primaryKey(),
    /** What payers type (app or USSD keypad): digits only. */
    code: text().notNull().unique(),
    name: text().notNull(),
    email: text().notNull().unique(),
    phone: text().notNull(),
    passwordHash: text().notNull(),
    registrationNumber: text(),
    address: text(),
    category: text(),
    /** active · frozen · deleted */
    status: text().notNull().default("active"),
    statusReason: text(),
    failedLoginCount: smallint().notNull().default(0),
    lockedUntil: timestamp(tz),
    lastLoginAt: timestamp(tz),
    createdBy: text(),
    createdAt: timestamp(tz).notNull().defaultNow(),
    updatedAt: timestamp(tz).notNull().defaultNow(),
  },
  (t) => [
    index("vendors_created_idx").on(t.createdAt.desc(), t.id.desc()),
    check("vendors_status", sql`${t.status} in ('active','frozen','deleted')`),
  ],
);

export const vendorDevices = pgTable(
  "vendor_devices",
  {
    id: text().primaryKey(),
    vendorId: text()
      .notNull()
      .references(() => vendors.id),
    /** The app's own name for the install (shown in the device list; proves nothing). */
    deviceId: text().notNull(),
    /**
     * SHA-256 hex of the device credential issued at verification — what the app then sends as `deviceId`
     * to be a trusted device. Null for devices trusted before credentials existed: they count as untrusted.
     */
    credentialHash: text(),
    trustedAt: timestamp(tz).notNull(),
    lastSeenAt: timestamp(tz),
    revokedAt: timestamp(tz),
    revokedBy: text(),
  },
  (t) => [
    uniqueIndex("vendor_devices_vendor_device_idx").on(t.vendorId, t.deviceId),
    uniqueIndex("vendor_devices_credential_idx").on(t.credentialHash),
  ],
);

export const admins = pgTable(
  "admins",
  {
    id: text().primaryKey(),
    email: text().notNull().unique(),
    passwordHash: text().notNull(),
    /** super_admin · compliance · finance · support */
    role: text().notNull(),
    /** AES-256-GCM of the base32 TOTP secret. */
    totpSecret: text().notNull(),
    /** Last accepted 30-second step: a code is never accepted twice. */
    totpLastStep: bigint({ mode: "number" }).notNull().default(0),
    /** active · disabled */
    status: text().notNull().default("active"),
    failedLoginCount: smallint().notNull().default(0),
    lockedUntil: timestamp(tz),
    lastLoginAt: timestamp(tz),
    createdBy: text(),
    createdAt: timestamp(tz).notNull().defaultNow(),
    updatedAt: timestamp(tz).notNull().defaultNow(),
  },
  (t) => [
    check("admins_status", sql`${t.status} in ('active','disabled')`),
    check("admins_role", sql`${t.role} in ('super_admin','compliance','finance','support')`),
  ],
);

export const partners = pgTable(
  "partners",
  {
    id: text().primaryKey(),
    name: text().notNull(),
    /** pending (waiting for a second admin) · active · suspended · rejected (refused or expired while pending) */
    status: text().notNull().default("active"),
    /**
     * Cents the partner may have deposited, net of reversals: its prefunded float (a net debit cap). Deposits
     * may take its settlement account down to -fundingLimit (drizzle/0012 payments_commit); raised by top-ups.
     */
    fundingLimit: bigint({ mode: "bigint" }).notNull().default(sql`0`),
    createdBy: text(),
    createdAt: timestamp(tz).notNull().defaultNow(),
    updatedAt: timestamp(tz).notNull().defaultNow(),
  },
  (t) => [
    check("partners_status", sql`${t.status} in ('pending','active','suspended','rejected')`),
    check("partners_funding_limit", sql`${t.fundingLimit} >= 0`),
  ],
);

/** Each change of a partner's funding limit: top-ups (maker-checker, with the bank's reference) and decreases. */
export const partnerFundingChanges = pgTable(
  "partner_funding_changes",
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => partners.id),
    /** top_up · decrease */
    kind: text().notNull(),
    amount: bigint({ mode: "bigint" }).notNull(),
    currency: text().notNull().default("SZL"),
    /** The bank's reference of the transfer into the trust account (top-ups). */
    bankReference: text(),
    note: text(),
    /** pending · applied · rejected · expired */
    status: text().notNull(),
    approvalId: text(),
    requestedBy: text(),
    decidedBy: text(),
    limitBefore: bigint({ mode: "bigint" }),
    limitAfter: bigint({ mode: "bigint" }),
    createdAt: timestamp(tz).notNull(),
    decidedAt: timestamp(tz),
  },
  (t) => [
    uniqueIndex("partner_funding_changes_reference_idx")
      .on(t.partnerId, t.bankReference)
      .where(sql`${t.kind} = 'top_up' and ${t.status} in ('pending','applied')`),
    index("partner_funding_changes_partner_idx").on(t.partnerId, t.createdAt.desc(), t.id.desc()),
    check("partner_funding_changes_kind", sql`${t.kind} in ('top_up','decrease')`),
    check("partner_funding_changes_status", sql`${t.status} in ('pending','applied','rejected','expired')`),
    check("partner_funding_changes_amount", sql`${t.amount} > 0`),
  ],
);

export const partnerApiKeys = pgTable(
  "partner_api_keys",
  {
    id: text().primaryKey(),
    partnerId: text()
      .notNull()
      .references(() => partners.id),
    /** The first characters of the key, for people to recognise it; the rest is never stored. */
    prefix: text().notNull(),
    keyHash: text().notNull().unique(),
    scopes: jsonb().$type<string[]>().notNull(),
    ratePerMinute: integer().notNull(),
    /** Set when the key is rotated: it keeps working until then (the overlap window). */
    expiresAt: timestamp(tz),
    revokedAt: timestamp(tz),
    lastUsedAt: timestamp(tz),
    rotatedFrom: text(),
    /** The approval request a key with deposits:create waits for: it authenticates nothing until approved. */
    pendingApproval: text(),
    createdBy: text(),
    createdAt: timestamp(tz).notNull().defaultNow(),
  },
  (t) => [index("partner_api_keys_partner_idx").on(t.partnerId)],
);

/** One refresh-token family: a login. Revoking it ends every token of the family. */
export const authSessions = pgTable(
  "auth_sessions",
  {
    id: text().primaryKey(),
    /** user · vendor · admin */
    principalType: text().notNull(),
    principalId: text().notNull(),
    /** Vendors: the trusted device the session was opened from. */
    deviceId: text(),
    /** Users: when the OTP that opened the session was verified (PIN reset needs a fresh one). */
    otpVerifiedAt: timestamp(tz),
    ip: text(),
    createdAt: timestamp(tz).notNull(),
    expiresAt: timestamp(tz).notNull(),
    revokedAt: timestamp(tz),
    revokedReason: text(),
  },
  (t) => [index("auth_sessions_principal_idx").on(t.principalType, t.principalId)],
);

export const refreshTokens = pgTable(
  "refresh_tokens",
  {
    id: text().primaryKey(),
    sessionId: text()
      .notNull()
      .references(() => authSessions.id),
    /** SHA-256 hex of the opaque token. */
    tokenHash: text().notNull().unique(),
    createdAt: timestamp(tz).notNull(),
    expiresAt: timestamp(tz).notNull(),
    /**
     * Set when exchanged: presenting it again within the refresh grace window gets the same new pair
     * (`successorSealed`); after it, that is reuse, and revokes the family.
     */
    usedAt: timestamp(tz),
    /** The pair this exchange issued, sealed (AES-GCM), for a racing second exchange within the grace window. */
    successorSealed: text(),
  },
  (t) => [index("refresh_tokens_session_idx").on(t.sessionId)],
);

export const otpChallenges = pgTable(
  "otp_challenges",
  {
    id: text().primaryKey(),
    /** user_login · vendor_device */
    purpose: text().notNull(),
    phone: text().notNull(),
    /** vendor_device: the vendor and the device the code would trust. */
    subjectId: text(),
    deviceId: text(),
    /** HMAC-SHA-256 of `otp:<id>:<code>` under the pepper named by keyId. */
    codeHash: text().notNull(),
    keyId: text().notNull(),
    attempts: smallint().notNull().default(0),
    /** pending · used · burned · superseded */
    status: text().notNull().default("pending"),
    ip: text(),
    createdAt: timestamp(tz).notNull(),
    expiresAt: timestamp(tz).notNull(),
  },
  (t) => [
    index("otp_challenges_phone_idx").on(t.phone, t.purpose, t.createdAt),
    index("otp_challenges_subject_idx").on(t.subjectId, t.deviceId),
    check("otp_challenges_status", sql`${t.status} in ('pending','used','burned','superseded')`),
  ],
);
