import { expect, test } from "bun:test";
import { runCommand } from "../../src/cli";
import { totpCode, totpStep } from "../../src/identity/secrets";
import { createTestContext } from "../support/harness";

/**
 * `bun run seed` leaves the review queue something to show: one user whose submission (an ID front and a
 * selfie in the documents bucket, checked by the local simulators) is in review, as an admin sees it.
 */
const t = await createTestContext();

test("the seeded KYC user's submission is in review, with its reasons and readable documents; a second run adds none", async () => {
  const out = (await runCommand(t.deps, "seed", {})).result as any;
  const seeded = out.kyc.account;
  // A copy: Bun 1.4's toMatchObject writes asymmetric matchers into the object it checks.
  expect({ ...seeded }).toMatchObject({
    seeded: "created",
    status: "in_review",
    submissionId: expect.stringMatching(/^kys_/),
  });

  const admin = out.admins.accounts[0];
  const login = await t.request("POST", "/admin/v1/auth/login", {
    body: { email: admin.email, password: admin.password, totp: totpCode(admin.totpSecret, totpStep(new Date())) },
  });
  expect(login.status).toBe(200);
  const token = login.json.accessToken;

  const queue = await t.request("GET", "/admin/v1/kyc/submissions?status=in_review", { token });
  expect(queue.status).toBe(200);
  expect(queue.json.data).toEqual([
    expect.objectContaining({
      id: seeded.submissionId,
      status: "in_review",
      user: { id: seeded.id, phone: seeded.phone, name: seeded.name },
    }),
  ]);

  const detail = await t.request("GET", `/admin/v1/kyc/submissions/${seeded.submissionId}`, { token });
  expect(detail.status).toBe(200);
  expect(detail.json.reasons.map((r: { code: string }) => r.code)).toContain("ID_NUMBER_MISMATCH");
  expect(detail.json.checks.ocr.fields).toMatchObject({ idNumber: expect.any(String) });
  expect(detail.json.documents.map((d: { type: string }) => d.type).sort()).toEqual(["id_front", "selfie"]);
  for (const doc of detail.json.documents) {
    const read = await t.app.request(doc.url);
    expect(read.status).toBe(200);
    expect(read.headers.get("content-type")).toBe("image/jpeg");
  }

  const again = (await runCommand(t.deps, "seed", {})).result as any;
  expect(again.kyc.account).toMatchObject({
    seeded: "existing",
    submissionId: seeded.submissionId,
    status: "in_review",
  });
  const all = await t.request("GET", `/admin/v1/kyc/submissions?userId=${seeded.id}`, { token });
  expect(all.json.data).toHaveLength(1);
});
