import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Core } from "../core";
import { withTransaction } from "../db/transaction";
import type { RequestMeta } from "../http/context";
import { AppError } from "../http/errors";
import type { Identity } from "../identity";
import { CliError, type Command } from "../lib/command";
import type { Payments } from "../payments";

/** What seeding uses: the core, and the identity and payments services it creates the demo with. */
export interface SeedDeps extends Core {
  identity: Identity;
  payments: Payments;
}

/**
 * `bun run seed`: demo data for the embedded default, made through the real services (so the ledger
 * balances and every row is one the app itself would write) — two admins (maker and checker), three
 * vendors, a demo bank with an API key, and three users with PINs and balances the bank deposited.
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
    partner: {
      id: partner.id,
      name: PARTNER.name,
      apiKey: partner.apiKey,
      use: "X-API-Key header: POST /partner/v1/deposits {phone, amount, currency, externalReference} with an Idempotency-Key; POST /partner/v1/webhooks {url} for signed events.",
    },
  };
}

export const seedCommand: Command<SeedDeps> = {
  describe: "demo data for the embedded default: admins, vendors, a demo bank and funded users; prints how to sign in",
  run: async (deps) => ({ result: await seed(deps) }),
};
