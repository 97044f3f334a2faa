import { randomBytes } from "node:crypto";
import { totpCode, totpStep } from "../../src/identity/secrets";
import type { TestContext } from "./harness";

/**
 * Builders for the principals most tests need, going through the real routes and services
 * (OTP via the outbox table, TOTP computed from the secret) — no rows written behind the app's back.
 */

const usedPhones = new Set<string>();

/** A fresh random Eswatini MTN mobile in E.164, unique within the test process. */
export function randomPhone(): string {
  for (;;) {
    const phone = `+26876${String(randomBytes(4).readUInt32BE() % 1_000_000).padStart(6, "0")}`;
    if (!usedPhones.has(phone)) {
      usedPhones.add(phone);
      return phone;
    }
  }
}

export const randomEmail = (label = "test") => `${label}-${randomBytes(5).toString("hex")}@example.com`;
export const strongPassword = () => `Pw!${randomBytes(12).toString("hex")}`;

/** The 6-digit code in the newest message queued to `phone` (from the outbox table, as the dev outbox shows it). */
export async function latestCode(t: TestContext, phone: string): Promise<string> {
  const [message] = await t.deps.notifications.list({ to: phone, limit: 1 });
  const code = message?.body.match(/(?<!\d)\d{6}(?!\d)/)?.[0];
  if (!code) throw new Error(`no code queued to ${phone}`);
  return code;
}

export interface SignedInUser {
  id: string;
  phone: string;
  accessToken: string;
  refreshToken: string;
  pin?: string;
}

/** OTP sign-in through the HTTP routes; sets `pin` when given. */
export async function signInUser(
  t: TestContext,
  options: { phone?: string; pin?: string; headers?: Record<string, string> } = {},
): Promise<SignedInUser> {
  let phone = options.phone ?? randomPhone();
  while (!options.phone && options.pin && phone.endsWith(options.pin)) phone = randomPhone();
  const headers = options.headers ?? {};
  const sent = await t.request("POST", "/v1/auth/otp", { body: { phone }, headers });
  if (sent.status !== 202) throw new Error(`POST /v1/auth/otp: ${sent.status} ${sent.text}`);
  const code = await latestCode(t, phone);
  const verified = await t.request("POST", "/v1/auth/otp/verify", { body: { phone, code }, headers });
  if (verified.status !== 200) throw new Error(`POST /v1/auth/otp/verify: ${verified.status} ${verified.text}`);
  const user: SignedInUser = {
    id: verified.json.user.id,
    phone,
    accessToken: verified.json.accessToken,
    refreshToken: verified.json.refreshToken,
  };
  if (options.pin) {
    const set = await t.request("PUT", "/v1/me/pin", { token: user.accessToken, body: { pin: options.pin } });
    if (set.status !== 204) throw new Error(`PUT /v1/me/pin: ${set.status} ${set.text}`);
    user.pin = options.pin;
  }
  return user;
}

export interface TestVendor {
  id: string;
  code: string;
  name: string;
  email: string;
  password: string;
  phone: string;
}

/** A vendor (and its wallet) through the service the CLI and the admin route use. */
export async function createVendor(t: TestContext, overrides: Partial<Omit<TestVendor, "id" | "code">> = {}) {
  const input = {
    // Digits, not hex: a new vendor is screened against the sanctions list, and "fad" in "Shop 8fad06" is near "Fuad".
    name: overrides.name ?? `Shop ${randomBytes(3).readUIntBE(0, 3).toString().padStart(8, "0")}`,
    email: overrides.email ?? randomEmail("vendor"),
    password: overrides.password ?? strongPassword(),
    phone: overrides.phone ?? randomPhone(),
  };
  const vendor = await t.deps.identity.vendors.create({ ctx: { actor: { type: "system", id: "test" } }, input });
  return { ...input, id: vendor.id, code: vendor.code } satisfies TestVendor;
}

/** Device credentials the tests' "apps" hold, per vendor and install name, as a real app stores its own. */
const deviceCredentials = new Map<string, string>();

/**
 * Signs a vendor in from the install named `deviceId`, as the app does: with the device credential it holds
 * for that install, or — on first use — the name, then the OTP challenge, keeping the credential it returns.
 */
export async function signInVendor(t: TestContext, vendor: TestVendor, deviceId = "test-device") {
  const held = `${vendor.id}:${deviceId}`;
  const body = { email: vendor.email, password: vendor.password, deviceId: deviceCredentials.get(held) ?? deviceId };
  let res = await t.request("POST", "/v1/vendor/auth/login", { body });
  if (res.status === 403 && res.json?.error?.code === "DEVICE_VERIFICATION_REQUIRED") {
    const code = await latestCode(t, vendor.phone);
    res = await t.request("POST", "/v1/vendor/auth/device/verify", {
      body: { challengeId: res.json.error.details.challengeId, code },
    });
    if (res.status === 200) deviceCredentials.set(held, res.json.deviceCredential);
  }
  if (res.status !== 200) throw new Error(`vendor sign-in: ${res.status} ${res.text}`);
  return {
    accessToken: res.json.accessToken as string,
    refreshToken: res.json.refreshToken as string,
    deviceCredential: deviceCredentials.get(held)!,
  };
}

export interface TestAdmin {
  id: string;
  email: string;
  password: string;
  role: string;
  totpSecret: string;
}

export async function createAdmin(t: TestContext, role = "super_admin"): Promise<TestAdmin> {
  const email = randomEmail(role.replace("_", "-"));
  const password = strongPassword();
  const admin = await t.deps.identity.admins.create({
    ctx: { actor: { type: "system", id: "test" } },
    input: { email, password, role },
  });
  return { id: admin.id, email, password, role, totpSecret: admin.totpSecret };
}

/** RFC 6238 code for `secret` at a 30-second step. */
export const totp = (secret: string, step: number) => totpCode(secret, step);

const lastStep = new Map<string, number>();

/** Admin sign-in with a TOTP code not used before (now, then the next step: codes are single-use). */
export async function signInAdmin(t: TestContext, admin: TestAdmin) {
  const now = totpStep(t.deps.now());
  const step = Math.max(now, (lastStep.get(admin.id) ?? now - 1) + 1);
  if (step > now + 1) throw new Error("signInAdmin: at most two sign-ins per admin per 30 s; create another admin");
  lastStep.set(admin.id, step);
  const res = await t.request("POST", "/admin/v1/auth/login", {
    body: { email: admin.email, password: admin.password, totp: totp(admin.totpSecret, step) },
  });
  if (res.status !== 200) throw new Error(`admin sign-in: ${res.status} ${res.text}`);
  return { accessToken: res.json.accessToken as string, refreshToken: res.json.refreshToken as string };
}

/** A live partner through the direct path the operator's CLI uses (no approval); `fundingLimit` defaults to the config's. */
export async function createPartner(
  t: TestContext,
  options: { scopes?: string[]; ratePerMinute?: number; name?: string; fundingLimit?: number } = {},
) {
  const partner = await t.deps.identity.partners.create({
    ctx: { actor: { type: "system", id: "test" } },
    input: {
      name: options.name ?? `Bank ${randomBytes(3).toString("hex")}`,
      ...(options.scopes ? { scopes: options.scopes } : {}),
      ...(options.ratePerMinute ? { ratePerMinute: options.ratePerMinute } : {}),
      ...(options.fundingLimit !== undefined ? { fundingLimit: options.fundingLimit } : {}),
    },
  });
  return { id: partner.id, apiKey: partner.apiKey, keyId: partner.key.id };
}

/**
 * Wallets to pay from: users with `pin`, each funded by a partner deposit of the given amount, and a vendor
 * payment as the app sends it (its own Idempotency-Key unless one is given).
 */
export async function createPayers(t: TestContext, pin: string) {
  const partner = await createPartner(t);
  let counter = 0;
  const key = () => `pay-${Date.now()}-${++counter}`;
  return {
    key,
    async fundedUser(amount: number) {
      const user = await signInUser(t, { pin });
      const deposited = await t.request("POST", "/partner/v1/deposits", {
        headers: { "x-api-key": partner.apiKey, "idempotency-key": key() },
        body: { phone: user.phone, amount, currency: "SZL", externalReference: key() },
      });
      if (deposited.status !== 201) throw new Error(`POST /partner/v1/deposits: ${deposited.status} ${deposited.text}`);
      return user;
    },
    pay: (token: string, vendorCode: string, amount: number, payPin = pin, idem = key()) =>
      t.request("POST", "/v1/payments", {
        token,
        headers: { "idempotency-key": idem },
        body: { vendorCode, amount, currency: "SZL", pin: payPin },
      }),
  };
}
