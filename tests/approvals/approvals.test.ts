import { describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import type { DecisionContext } from "../../src/approvals/service";
import { auditLog } from "../../src/audit/schema";
import { AppError } from "../../src/http/errors";
import { createTestContext } from "../support/harness";
import { key, moneyKit } from "../withdrawals/kit";

/**
 * The generic approvals module through a kind registered the way any module registers one (reversals
 * will): maker-checker, two different approvers, handlers inside the decision's transaction, expiry.
 */
const t = await createTestContext({ KESHLESS_APPROVAL_TTL_HOURS: "2" });
const kit = await moneyKit(t);
const maker = await kit.admin("finance");
const checker = await kit.admin("finance");
const checker2 = await kit.admin("super_admin");

type Call = { hook: string; id: string; reason: string | null; admin: string | null };
const calls: Call[] = [];
let failNextApprove = false;
const record =
  (hook: string) =>
  async (tx: Parameters<Parameters<typeof t.deps.approvals.register>[1]["onApprove"]>[0], ctx: DecisionContext) => {
    if (hook === "approve" && failNextApprove) {
      failNextApprove = false;
      // Something the handler wrote, then a refusal: the decision must roll back with it.
      await tx.insert(auditLog).values({
        id: `aud_t${Date.now()}`,
        at: new Date(),
        actorType: "system",
        action: "test.partial",
        details: {},
      });
      throw new AppError("CONFLICT", "The subject changed under us.");
    }
    calls.push({ hook, id: ctx.approval.id, reason: ctx.reason, admin: ctx.admin?.id ?? null });
  };
t.deps.approvals.register("test_reversal", {
  label: "Test reversal",
  permission: "transactions:reverse",
  onApprove: record("approve"),
  onReject: record("reject"),
  onExpire: record("expire"),
});

async function requestOne(required = 1, by = maker.id) {
  return t.deps.database.db.transaction((tx) =>
    t.deps.approvals.request(
      {
        kind: "test_reversal",
        subjectId: `txn_${key()}`,
        amount: 12_345n,
        currency: "SZL",
        requestedBy: { type: "admin", id: by },
        requiredApprovals: required,
        summary: { why: "customer complaint" },
      },
      tx as never,
    ),
  );
}

describe("maker-checker", () => {
  test("the maker cannot approve or reject their own request; another admin can", async () => {
    const a = await requestOne();
    expect(a).toMatchObject({
      status: "pending",
      requiredApprovals: 1,
      amount: 12_345,
      requestedBy: { type: "admin", id: maker.id },
    });
    const own = await kit.decide(maker.token, a.id, "approve");
    expect(own.status).toBe(403);
    expect(own.json.error.details.reason).toBe("MAKER_CANNOT_CHECK");
    expect((await kit.decide(maker.token, a.id, "reject", { reason: "never mind" })).status).toBe(403);
    const ok = await kit.decide(checker.token, a.id, "approve");
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ status: "approved", decidedBy: checker.id });
    expect(calls.filter((c) => c.id === a.id)).toEqual([
      { hook: "approve", id: a.id, reason: null, admin: checker.id },
    ]);
  });

  test("two approvals must come from two different admins, neither the maker", async () => {
    const a = await requestOne(2);
    expect((await kit.decide(checker.token, a.id, "approve")).json.status).toBe("pending");
    expect(calls.some((c) => c.id === a.id)).toBe(false);
    expect((await kit.decide(checker.token, a.id, "approve")).status).toBe(409);
    expect((await kit.decide(maker.token, a.id, "approve")).status).toBe(403);
    const done = await kit.decide(checker2.token, a.id, "approve", { note: "second look" });
    expect(done.json).toMatchObject({ status: "approved", decidedBy: checker2.id });
    expect(done.json.checkers.map((c: { adminId: string }) => c.adminId)).toEqual([checker.id, checker2.id]);
    expect(calls.filter((c) => c.id === a.id)).toHaveLength(1);
  });

  test("the kind's permission applies: a finance admin without it is 403", async () => {
    const a = await requestOne(1, checker.id);
    const compliance = await kit.admin("compliance");
    const res = await kit.decide(compliance.token, a.id, "approve");
    expect(res.status).toBe(403);
    expect(res.json.error.details.permission).toBe("transactions:reverse");
  });

  test("a handler that fails rolls the whole decision back", async () => {
    const a = await requestOne();
    failNextApprove = true;
    const res = await kit.decide(checker.token, a.id, "approve");
    expect(res.status).toBe(409);
    const after = await t.deps.approvals.get(a.id);
    expect(after).toMatchObject({ status: "pending", checkers: [] });
    const partial = await t.deps.database.db.select().from(auditLog).where(eq(auditLog.action, "test.partial"));
    expect(partial).toEqual([]);
    expect((await kit.decide(checker.token, a.id, "approve")).status).toBe(200);
  });

  test("reject needs a reason, which reaches the handler", async () => {
    const a = await requestOne();
    expect((await kit.decide(checker.token, a.id, "reject", {})).status).toBe(400);
    expect((await kit.decide(checker.token, a.id, "reject", { reason: "  " })).status).toBe(400);
    const res = await kit.decide(checker.token, a.id, "reject", { reason: "Duplicate of another request" });
    expect(res.json).toMatchObject({ status: "rejected", reason: "Duplicate of another request" });
    expect(calls.find((c) => c.id === a.id)).toMatchObject({ hook: "reject", reason: "Duplicate of another request" });
    expect((await kit.decide(checker2.token, a.id, "approve")).status).toBe(409);
  });

  test("one open request per subject", async () => {
    const a = await requestOne();
    const again = t.deps.database.db.transaction((tx) =>
      t.deps.approvals.request(
        { kind: "test_reversal", subjectId: a.subjectId, requestedBy: { type: "admin", id: maker.id } },
        tx as never,
      ),
    );
    await expect(again).rejects.toThrow();
    await expect(
      t.deps.database.db.transaction((tx) =>
        t.deps.approvals.request(
          { kind: "nope", subjectId: "x", requestedBy: { type: "admin", id: maker.id } },
          tx as never,
        ),
      ),
    ).rejects.toThrow(/No handler/);
  });
});

describe("expiry", () => {
  test("past its TTL a request can no longer be approved; expire runs the handler exactly once", async () => {
    const a = await requestOne();
    const real = t.deps.now;
    t.deps.now = () => new Date(real().getTime() + 2 * 3_600_000 + 1_000);
    try {
      // (Through the service: the admin's 15-minute token would have expired over two hours too.)
      const late = await t.deps.approvals
        .approve({ ctx: {}, input: { id: a.id, admin: { id: checker.id, role: "finance" } } })
        .catch((e) => e);
      expect(late).toBeInstanceOf(AppError);
      expect(late).toMatchObject({ code: "CONFLICT", details: { status: "expired" } });
      const first = await t.deps.approvals.expire(a.id, t.deps.now());
      const second = await t.deps.approvals.expire(a.id, t.deps.now());
      expect([first.expired, second.expired]).toEqual([true, false]);
      expect(await t.deps.approvals.get(a.id)).toMatchObject({
        status: "expired",
        reason: "No decision within 2 hours.",
      });
      expect(calls.filter((c) => c.id === a.id).map((c) => c.hook)).toEqual(["expire"]);
    } finally {
      t.deps.now = real;
    }
  });

  test("a request not yet due is left alone", async () => {
    const a = await requestOne();
    expect(await t.deps.approvals.expire(a.id, t.deps.now())).toMatchObject({ expired: false });
    expect((await t.deps.approvals.get(a.id))!.status).toBe("pending");
  });
});
