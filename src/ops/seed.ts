import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { eq } from "drizzle-orm";
import type { Core } from "../core";
import { withTransaction } from "../db/transaction";
import type { RequestMeta } from "../http/context";
import { AppError } from "../http/errors";
import type { Identity } from "../identity";
import type { Kyc } from "../kyc";
import { kycDocuments } from "../kyc/schema";
import { CliError, type Command } from "../lib/command";
import type { Payments } from "../payments";
import type { Storage } from "../storage";

/** What seeding uses: the core, and the services it creates the demo with (KYC's documents go to storage). */
export interface SeedDeps extends Core {
  identity: Identity;
  payments: Payments;
  kyc: Kyc;
  storage: Storage;
}

/**
 * `bun run seed`: demo data for the embedded default, made through the real services (so the ledger
 * balances and every row is one the app itself would write) — two admins (maker and checker), three
 * vendors, a demo bank with an API key, three users with PINs and balances the bank deposited, and one
 * user whose KYC submission waits in the review queue.
 * Run it again and it reports what already exists. Secrets shown once by the services (TOTP seeds,
 * the API key) are kept in `<data dir>/seed.json` (owner-only) so a second run can print them again.
 */

const SEED: RequestMeta = { actor: { type: "system", id: "seed" } };

const ADMINS = [
  { email: "admin@keshless.local", password: "keshless-demo-admin", role: "super_admin" },
  { email: "finance@keshless.local", password: "keshless-demo-finance", role: "finance" },
] as const;

const VENDOR_PASSWORD = "keshless-demo-vendor";
const VENDORS = [
  { name: "Gogo's Market Stall", email: "stall@keshless.local", phone: "+26878100001", category: "market" },
  { name: "Manzini Spaza Shop", email: "spaza@keshless.local", phone: "+26878100002", category: "retail" },
  { name: "Ezulwini Taxi Rank", email: "taxi@keshless.local", phone: "+26879100003", category: "transport" },
] as const;

const USERS = [
  { name: "Thandi Dlamini", phone: "+26876100001", pin: "4821", balance: 50_000 },
  { name: "Sipho Nkosi", phone: "+26876100002", pin: "5937", balance: 25_000 },
  { name: "Lindiwe Mamba", phone: "+26879100003", pin: "6048", balance: 10_000 },
] as const;

/**
 * Her ID card (read by the simulators, aws-simulator.ts) says 9203150200087; she typed another number with the
 * same date of birth, so the check sends her to review (ID_NUMBER_MISMATCH) for an admin to approve or reject.
 */
const KYC_USER = {
  name: "Nomsa Simelane",
  phone: "+26876100004",
  pin: "7153",
  typedIdNumber: "9203150200095",
  card: { textract: "read", name: "Nomsa Simelane", idNumber: "9203150200087", dob: "1992-03-15" },
} as const;

const PARTNER = {
  name: "Keshless Demo Bank",
  scopes: ["deposits:create", "transactions:read", "users:read", "webhooks:manage"],
};

interface SeedState {
  totp: Record<string, { secret: string; otpauthUrl: string }>;
  partner?: { id: string; apiKey: string };
}

const outbox = (phone: string) => `GET /dev/outbox?to=${encodeURIComponent(phone)}`;

export async function seed(deps: SeedDeps) {
  if (deps.config.env === "production")
    throw new CliError("seed makes demo accounts with known passwords: never in production");
  const file = join(deps.config.dataDir, "seed.json");
  const state: SeedState = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : { totp: {} };
  const save = () => writeFileSync(file, JSON.stringify(state, null, 2), { mode: 0o600 });
  const created: string[] = [];
  const existing: string[] = [];
  const conflict = (error: unknown) => error instanceof AppError && error.code === "CONFLICT";

  const admins = [];
  for (const a of ADMINS) {
    try {
      const admin = await deps.identity.admins.create({ ctx: SEED, input: { ...a } });
      state.totp[a.email] = { secret: admin.totpSecret, otpauthUrl: admin.otpauthUrl };
      save();
      created.push(`admin ${a.email}`);
    } catch (error) {
      if (!conflict(error)) throw error;
      existing.push(`admin ${a.email}`);
    }
    const totp = state.totp[a.email];
    admins.push({
      email: a.email,
      password: a.password,
      role: a.role,
      totpSecret: totp?.secret ?? null,
      otpauthUrl: totp?.otpauthUrl ?? null,
      ...(totp ? {} : { note: "created before this data dir's seed.json: its TOTP secret was shown then" }),
    });
  }

  const vendors = [];
  for (const v of VENDORS) {
    let vendor: { id: string; code: string };
    try {
      vendor = await deps.identity.vendors.create({ ctx: SEED, input: { ...v, password: VENDOR_PASSWORD } });
      created.push(`vendor ${v.email}`);
    } catch (error) {
      if (!conflict(error)) throw error;
      const [found] = (await deps.identity.vendors.list({ q: v.email, limit: 1 })).data;
      if (!found) throw error;
      vendor = found;
      existing.push(`vendor ${v.email}`);
    }
    vendors.push({
      id: vendor.id,
      name: v.name,
      code: vendor.code,
      email: v.email,
      password: VENDOR_PASSWORD,
      phone: v.phone,
    });
  }

  let partner = state.partner && (await deps.identity.partners.get(state.partner.id)) ? state.partner : undefined;
  if (partner) existing.push(`partner ${PARTNER.name}`);
  else {
    const made = await deps.identity.partners.create({
      ctx: SEED,
      input: { name: PARTNER.name, scopes: PARTNER.scopes },
    });
    partner = { id: made.id, apiKey: made.apiKey };
    state.partner = partner;
    save();
    created.push(`partner ${PARTNER.name}`);
  }

  const users = [];
  for (const u of USERS) {
    const before = await deps.identity.users.findByPhone(u.phone);
    const user = before ?? (await deps.identity.users.register({ phone: u.phone, name: u.name }));
    if (!before?.hasPin)
      await deps.identity.users.setPin({ ctx: SEED, input: { userId: user.id, sessionId: "seed", pin: u.pin } });
    // The demo bank's deposit, through the same plan and commit as POST /partner/v1/deposits.
    try {
      const plan = await deps.payments.planDeposit({
        partnerId: partner.id,
        phone: u.phone,
        amount: u.balance,
        currency: "SZL",
        externalReference: `seed:${u.phone}`,
      });
      await withTransaction(deps, (tx) => deps.payments.commit(plan, tx), { label: "seed.deposit" });
      created.push(`user ${u.phone} with a deposit of ${u.balance} cents`);
    } catch (error) {
      if (!conflict(error)) throw error;
      existing.push(`user ${u.phone} (already funded)`);
    }
    const wallet = await deps.payments.wallet("user_wallet", user.id);
    users.push({ id: user.id, name: u.name, phone: u.phone, pin: u.pin, balance: wallet.balance });
  }

  const review = await seedReview(deps);

  return {
    ok: true,
    created,
    existing,
    start: "bun run start → http://localhost:8080 (API reference at /docs). Amounts are cents: 50000 = E500.00.",
    admins: {
      signIn:
        "POST /admin/v1/auth/login {email, password, totp}: totp = the 6-digit code an authenticator app shows for totpSecret (or scan otpauthUrl). A reversal asked by one admin is approved by the other at POST /admin/v1/approvals/{id}/approve.",
      accounts: admins,
    },
    vendors: {
      signIn:
        "POST /v1/vendor/auth/login {email, password, deviceId}; a new deviceId answers 403 with details.challengeId and texts a code (read it at GET /dev/outbox?to=<phone>), then POST /v1/vendor/auth/device/verify {challengeId, code} returns tokens and a deviceCredential (shown once): send it as deviceId from then on.",
      accounts: vendors,
    },
    users: {
      signIn:
        "POST /v1/auth/otp {phone}; read the code at GET /dev/outbox?to=<phone>; POST /v1/auth/otp/verify {phone, code}. Then POST /v1/payments {vendorCode, amount, currency:'SZL', pin} with an Idempotency-Key header.",
      accounts: users.map((u) => ({ ...u, outbox: outbox(u.phone) })),
    },
    kyc: {
      review:
        "An admin reads the queue at GET /admin/v1/kyc/submissions?status=in_review, the documents and every check at GET /admin/v1/kyc/submissions/{id}, then POST …/{id}/approve {tier} or …/{id}/reject {reason}.",
      account: { ...review, outbox: outbox(review.phone) },
    },
    partner: {
      id: partner.id,
      name: PARTNER.name,
      apiKey: partner.apiKey,
      use: "X-API-Key header: POST /partner/v1/deposits {phone, amount, currency, externalReference} with an Idempotency-Key; POST /partner/v1/webhooks {url} for signed events.",
    },
  };
}

/**
 * The user in review: her ID front and selfie go into the documents bucket the way an upload does (declared,
 * the bytes written to the declared object, completed: size and magic bytes checked), then submitted and
 * checked once — by the local simulators where they are on. Not in `created`/`existing`, which count the
 * accounts above; `seeded` says whether this run made her submission.
 */
async function seedReview(deps: SeedDeps) {
  const before = await deps.identity.users.findByPhone(KYC_USER.phone);
  const user = before ?? (await deps.identity.users.register({ phone: KYC_USER.phone, name: KYC_USER.name }));
  if (!before?.hasPin)
    await deps.identity.users.setPin({ ctx: SEED, input: { userId: user.id, sessionId: "seed", pin: KYC_USER.pin } });
  const account = { id: user.id, name: KYC_USER.name, phone: KYC_USER.phone, pin: KYC_USER.pin };
  const latest = (await deps.kyc.status(user)).submission;
  if (latest) return { ...account, submissionId: latest.id, status: latest.status, seeded: "existing" as const };

  const upload = async (type: "id_front" | "selfie", bytes: Uint8Array) => {
    const declared = await deps.kyc.declare(user.id, { type, contentType: "image/jpeg", sizeBytes: bytes.length });
    const [row] = await deps.database.db
      .select({ objectKey: kycDocuments.objectKey })
      .from(kycDocuments)
      .where(eq(kycDocuments.id, declared.id));
    await deps.storage.documents.write(row!.objectKey, bytes, "image/jpeg");
    return (await deps.kyc.complete(user.id, declared.id)).id;
  };
  const documentIds = [
    // Loaded here, not at boot: the image library is large and only seeding and KYC checks need it.
    await upload("id_front", await (await import("../integrations/aws-simulator")).simImage(KYC_USER.card)),
    await upload("selfie", await (await import("../integrations/aws-simulator")).simImage()),
  ];
  const { id } = await deps.kyc.submit(user.id, { idNumber: KYC_USER.typedIdNumber, documentIds });
  // Inside a running embedded server (the CLI bridge) its worker may have leased it first: wait for that check.
  let status: string = "processing";
  for (let i = 0; i < 100 && status === "processing"; i++) {
    if (i > 0) await Bun.sleep(100);
    await deps.kyc.verifyDue();
    status = (await deps.kyc.get(id)).status;
  }
  return { ...account, submissionId: id, status, seeded: "created" as const };
}

export const seedCommand: Command<SeedDeps> = {
  describe:
    "demo data for the embedded default: admins, vendors, a demo bank, funded users and a user in KYC review; prints how to sign in",
  run: async (deps) => ({ result: await seed(deps) }),
};
