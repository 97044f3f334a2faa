import type { RequestMeta } from "../audit";
import type { Database } from "../db/client";
import { isDatabaseUnreachable, sqlState } from "../db/pg-errors";
import { type IdempotentRequest, storedAnswer } from "../http/idempotency";
import type { TransactionDto } from "./dto";
import type { Assumptions, PartyLookup, Payments, PaymentsPorts, Plan, UserLike, VendorLike } from "./service";

/**
 * The fast lane of a user's payment or transfer: the whole request in ONE autocommit statement
 * (payments_execute, drizzle/0008) instead of a session query, a PIN read, party reads and a transaction
 * of six statements — bench/RESULTS.md "Payments" measured that path at a fifth of the target rate.
 *
 * The plan is made from profiles cached in this process (users by id and phone, vendors by code), and
 * the statement checks everything the plan assumed (payments_assume): the session is live, each party is
 * active with the name, phone and KYC tier the plan used, and the payer has no failed attempts and no lock.
 * Then, with the payer's row locked, it compares the stored PIN hash with the proof computed from the PIN
 * given: a mismatch is counted by that same statement and answered INVALID_PIN (a comparison nobody
 * counted would let concurrent guesses outrun the limit). If anything else differs — a stale cache, a
 * frozen account, an ended session — the statement changes nothing (KL010) and the request takes the
 * ordinary path, whose rules (src/identity, src/payments/plans.ts) give the exact
 * answer and record what must be recorded (a wrong PIN's count). So the cache can only make a request
 * slower, never let through one the ordinary path would refuse.
 */

const PROFILE_TTL_MS = 5 * 60_000;
const MAX_PROFILES = 50_000;

interface Cached<T> {
  value: T;
  at: number;
}

export interface FastLaneDeps {
  database: Database;
  payments: Pick<Payments, "commitAlone">;
  ports: Pick<PaymentsPorts, "users" | "vendors">;
  pinProof(userId: string, pin: string): { keyId: string; hash: string };
  /** How many wrong PINs lock money movement, and for how long: the statement counts a mismatch itself. */
  pinLimit: { max: number; lockSeconds: number };
  /** The audited INVALID_PIN for a wrong PIN the statement already counted. */
  pinRefused(
    userId: string,
    outcome: { attemptsRemaining: number; lockedUntil: Date | null },
    meta: RequestMeta,
  ): Promise<Error>;
}

/** What payments_execute answers, instead of moving money, for a wrong PIN it counted (drizzle/0011). */
interface PinRejected {
  pinRejected: { failures: number; lockedUntil: string | null };
}

export function createFastLane(deps: FastLaneDeps) {
  const usersById = new Map<string, Cached<UserLike>>();
  const usersByPhone = new Map<string, Cached<UserLike>>();
  const vendorsByCode = new Map<string, Cached<VendorLike>>();
  /** Requests answered by the fast lane, and those sent on to the ordinary path (tests and benchmarks read these). */
  const stats = { fast: 0, ordinary: 0 };

  async function cached<T>(map: Map<string, Cached<T>>, key: string, load: () => Promise<T | undefined>) {
    const hit = map.get(key);
    if (hit && Date.now() - hit.at < PROFILE_TTL_MS) return hit.value;
    const value = await load();
    if (map.size >= MAX_PROFILES) map.clear();
    if (value) map.set(key, { value, at: Date.now() });
    return value;
  }

  /** A lookup over the caches that remembers what it answered: the plan's assumptions. */
  function recordingLookup() {
    const users = new Map<string, UserLike>();
    const vendors = new Map<string, VendorLike>();
    const lookup: PartyLookup = {
      userById: async (id) => {
        const user = await cached(usersById, id, () => deps.ports.users.get(id));
        if (user) users.set(user.id, user);
        return user;
      },
      userByPhone: async (phone) => {
        const user = await cached(usersByPhone, phone, () => deps.ports.users.findByPhone(phone));
        if (user) users.set(user.id, user);
        return user;
      },
      vendorByCode: async (code) => {
        const vendor = await cached(vendorsByCode, code, () => deps.ports.vendors.findByCode(code));
        if (vendor) vendors.set(vendor.id, vendor);
        return vendor;
      },
    };
    const forget = () => {
      for (const user of users.values()) {
        usersById.delete(user.id);
        usersByPhone.delete(user.phone);
      }
      for (const vendor of vendors.values()) vendorsByCode.delete(vendor.code);
    };
    return { lookup, users, vendors, forget };
  }

  /**
   * The request through the fast lane: its answer (201, or a replay of the key's stored answer), or
   * undefined when it must take the ordinary path. A refusal the statement itself makes after every
   * assumption held (insufficient funds, a daily or monthly limit) is final and thrown, unless the key
   * already holds an answer, which is replayed.
   */
  async function attempt(
    request: IdempotentRequest,
    caller: { userId: string; sessionId: string; pin: string; meta: RequestMeta },
    plan: (lookup: PartyLookup) => Promise<Plan>,
  ): Promise<{ status: 201; body: TransactionDto; replayed: boolean } | undefined> {
    let passedOn = false;
    try {
      const answer = await answerFast(request, caller, plan);
      passedOn = answer === undefined;
      return answer;
    } finally {
      if (passedOn) stats.ordinary++;
      else stats.fast++; // an answer, or a final refusal thrown
    }
  }

  async function answerFast(
    request: IdempotentRequest,
    caller: { userId: string; sessionId: string; pin: string; meta: RequestMeta },
    plan: (lookup: PartyLookup) => Promise<Plan>,
  ): Promise<{ status: 201; body: TransactionDto; replayed: boolean } | undefined> {
    const seen = recordingLookup();
    let planned: Plan;
    try {
      planned = await plan(seen.lookup);
    } catch (failure) {
      // The database is unreachable (a profile was not cached): the ordinary path would only wait for it again.
      if (isDatabaseUnreachable(failure)) throw failure;
      // Refused on cached profiles (a frozen vendor, a tier's per-transaction limit): the ordinary path decides.
      seen.forget();
      return undefined;
    }
    if (!seen.users.has(caller.userId)) return undefined;
    const assume: Assumptions = {
      pinLimit: deps.pinLimit,
      session: { id: caller.sessionId, principalType: "user", principalId: caller.userId },
      users: [...seen.users.values()].map((u) => ({
        id: u.id,
        phone: u.phone,
        name: u.name,
        kycTier: u.kycTier,
        ...(u.id === caller.userId ? { pin: deps.pinProof(u.id, caller.pin) } : {}),
      })),
      vendors: [...seen.vendors.values()].map((v) => ({ id: v.id, name: v.name, phone: v.phone })),
    };
    try {
      const result = await deps.payments.commitAlone<TransactionDto | PinRejected>(planned, request, assume);
      if ("pinRejected" in result) {
        const { failures, lockedUntil } = result.pinRejected;
        throw await deps.pinRefused(
          caller.userId,
          { attemptsRemaining: deps.pinLimit.max - failures, lockedUntil: lockedUntil ? new Date(lockedUntil) : null },
          caller.meta,
        );
      }
      return { status: 201, body: result, replayed: false };
    } catch (failure) {
      if (sqlState(failure) === "KL010") {
        seen.forget();
        return undefined;
      }
      const stored = await storedAnswer<TransactionDto>(deps.database, request, failure);
      return { status: 201, body: stored.body, replayed: stored.replayed };
    }
  }

  return { attempt, stats };
}

export type FastLane = ReturnType<typeof createFastLane>;
