import { afterAll, describe, expect, test } from "bun:test";
import { type SimMarker, serveAwsSimulator, simImage } from "../../src/integrations/aws-simulator";
import { serveGeminiSimulator } from "../../src/integrations/gemini-simulator";
import { createVendor } from "../support/factories";
import { createTestContext, TEST_SECRETS } from "../support/harness";
import { key, moneyKit, PIN } from "../withdrawals/kit";

/**
 * KYC from the outside: documents through signed URLs into the local store, the verification worker over the
 * real AWS SDK and Gemini client talking to wire-level fakes, the review queue, and the tier the limits read.
 */
const aws = serveAwsSimulator();
const gemini = serveGeminiSimulator();
afterAll(() => {
  aws.stop();
  gemini.stop();
});
const t = await createTestContext({
  KESHLESS_AWS_ENDPOINT: aws.url,
  KESHLESS_AWS_ACCESS_KEY_ID: "AKIDTEST",
  KESHLESS_AWS_SECRET_ACCESS_KEY: "test-secret",
  KESHLESS_GEMINI_BASE_URL: gemini.url,
  KESHLESS_GEMINI_API_KEY: "test-gemini-key",
});
const kit = await moneyKit(t);
const compliance = await kit.admin("compliance");
// The shipped UN list, from the development simulator: names are screened against it.
const synced = await t.request("POST", "/sanctions-jobs/sync", {
  headers: { "x-job-secret": TEST_SECRETS.KESHLESS_JOB_SECRET },
});
expect(synced.status).toBe(200);

const PERSON = { name: "Thandi Nkosi", idNumber: "9805151100123", dob: "1998-05-15" };

async function upload(token: string, type: string, bytes: Uint8Array, contentType = "image/jpeg") {
  const declared = await t.request("POST", "/v1/kyc/documents", {
    token,
    body: { type, contentType, sizeBytes: bytes.length },
  });
  expect(declared.status).toBe(201);
  const put = await t.app.request(declared.json.upload.url, {
    method: "PUT",
    headers: declared.json.upload.headers,
    body: new Uint8Array(bytes),
  });
  expect(put.status).toBeLessThan(300);
  const done = await t.request("POST", `/v1/kyc/documents/${declared.json.id}/complete`, { token });
  return { declared, done };
}

/** Uploads an ID front and (tier 2) a selfie carrying the simulators' markers, and submits them. */
async function submitted(
  user: { accessToken: string },
  options: { front?: SimMarker; selfie?: SimMarker; idNumber?: string; withSelfie?: boolean } = {},
) {
  const front = await upload(user.accessToken, "id_front", await simImage(options.front ?? null));
  expect(front.done.status).toBe(200);
  const ids = [front.declared.json.id];
  if (options.withSelfie ?? true) {
    const selfie = await upload(user.accessToken, "selfie", await simImage(options.selfie ?? null));
    ids.push(selfie.declared.json.id);
  }
  const res = await t.request("POST", "/v1/kyc/submissions", {
    token: user.accessToken,
    body: { idNumber: options.idNumber ?? PERSON.idNumber, documentIds: ids },
  });
  expect(res.status).toBe(202);
  expect(res.json).toEqual({ id: expect.stringMatching(/^kys_/), status: "processing" });
  return res.json.id as string;
}

const checkAll = () => t.deps.kyc.verifyDue();
const kycOf = async (token: string) => (await t.request("GET", "/v1/kyc", { token })).json;
const detail = async (id: string) =>
  (await t.request("GET", `/admin/v1/kyc/submissions/${id}`, { token: compliance.token })).json;

describe("uploads", () => {
  test("over 10 MB declared is 413, and a selfie must be an image", async () => {
    const user = await kit.fundedUser(0);
    const big = await t.request("POST", "/v1/kyc/documents", {
      token: user.accessToken,
      body: { type: "id_front", contentType: "image/jpeg", sizeBytes: 11 * 1024 * 1024 },
    });
    expect(big.status).toBe(413);
    expect(big.json.error.code).toBe("PAYLOAD_TOO_LARGE");
    const pdfSelfie = await t.request("POST", "/v1/kyc/documents", {
      token: user.accessToken,
      body: { type: "selfie", contentType: "application/pdf", sizeBytes: 1000 },
    });
    expect(pdfSelfie.status).toBe(415);
  });

  test("a PDF declared as JPEG is 415 and the object is deleted", async () => {
    const user = await kit.fundedUser(0);
    const pdf = new TextEncoder().encode("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n");
    const { declared, done } = await upload(user.accessToken, "id_front", pdf, "image/jpeg");
    expect(done.status).toBe(415);
    expect(done.json.error.code).toBe("UNSUPPORTED_MEDIA_TYPE");
    const key = new URL(declared.json.upload.url).pathname.split("/").slice(3).join("/");
    expect(await t.deps.storage.documents.stat(decodeURIComponent(key))).toBeNull();
    const again = await t.request("POST", `/v1/kyc/documents/${declared.json.id}/complete`, {
      token: user.accessToken,
    });
    expect(again.status).toBe(409);
  });

  test("completing with nothing uploaded is 409; an expired or tampered upload URL is 403", async () => {
    const user = await kit.fundedUser(0);
    const bytes = await simImage(null);
    const declared = await t.request("POST", "/v1/kyc/documents", {
      token: user.accessToken,
      body: { type: "id_front", contentType: "image/jpeg", sizeBytes: bytes.length },
    });
    const early = await t.request("POST", `/v1/kyc/documents/${declared.json.id}/complete`, {
      token: user.accessToken,
    });
    expect(early.status).toBe(409);
    const url = new URL(declared.json.upload.url);
    const sig = [...url.searchParams.keys()].find((k) => k === "token")!;
    url.searchParams.set(sig, `${url.searchParams.get(sig)!.slice(0, -2)}xx`);
    const tampered = await t.app.request(url.toString(), {
      method: "PUT",
      headers: declared.json.upload.headers,
      body: new Uint8Array(bytes),
    });
    expect(tampered.status).toBe(403);
    expect((await tampered.json()).error.code).toBe("FORBIDDEN");
    t.deps.now = () => new Date(Date.now() + 16 * 60_000);
    try {
      const late = await t.app.request(declared.json.upload.url, {
        method: "PUT",
        headers: declared.json.upload.headers,
        body: new Uint8Array(bytes),
      });
      expect(late.status).toBe(403);
    } finally {
      t.deps.now = () => new Date();
    }
  });

  test("someone else's document is 404", async () => {
    const owner = await kit.fundedUser(0);
    const other = await kit.fundedUser(0);
    const { declared } = await upload(owner.accessToken, "id_front", await simImage(null));
    const res = await t.request("POST", `/v1/kyc/documents/${declared.json.id}/complete`, {
      token: other.accessToken,
    });
    expect(res.status).toBe(404);
    const submit = await t.request("POST", "/v1/kyc/submissions", {
      token: other.accessToken,
      body: { idNumber: PERSON.idNumber, documentIds: [declared.json.id] },
    });
    expect(submit.status).toBe(404);
  });
});

describe("verification", () => {
  test("a confident Textract read and a 99% face match: approved at tier 2, limits higher at once", async () => {
    const user = await kit.fundedUser(300_000);
    const before = await kycOf(user.accessToken);
    expect(before).toMatchObject({ tier: 0, submission: null, next: { tier: 1 } });
    // Tier 0 allows E1,000 per payment: E1,500 is refused.
    const vendor = await createVendor(t);
    const pay = (amount: number) =>
      t.request("POST", "/v1/payments", {
        token: user.accessToken,
        headers: { "idempotency-key": key() },
        body: { vendorCode: vendor.code, amount, currency: "SZL", pin: PIN },
      });
    expect((await pay(150_000)).status).toBe(422);

    const id = await submitted(user, {
      front: { textract: "read", ...PERSON },
      selfie: { face: 99.3 },
    });
    expect((await kycOf(user.accessToken)).submission).toMatchObject({ id, status: "processing" });
    await checkAll();
    const after = await kycOf(user.accessToken);
    expect(after).toMatchObject({ tier: 2, submission: { id, status: "approved" } });
    expect(after.limits.perTransaction).toBeGreaterThan(before.limits.perTransaction);
    const seen = await detail(id);
    expect(seen).toMatchObject({
      status: "approved",
      tier: 2,
      checks: {
        ocr: { provider: "textract" },
        faceMatch: { similarity: 99.3, threshold: 90 },
        idNumber: { valid: true, dateOfBirth: PERSON.dob, matchesDocument: true },
      },
    });
    expect((await pay(150_000)).status).toBe(201);
    const profile = await t.request("GET", `/admin/v1/users/${user.id}`, { token: compliance.token });
    // The verified name is the document's.
    expect(seen.documentName.toUpperCase()).toBe("THANDI NKOSI");
    expect(profile.json).toMatchObject({ kycTier: 2, name: seen.documentName });
    expect((await kit.inbox(user.phone)).map((m) => m.kind)).toContain("kyc_approved");
    await kit.expectVerified();
  });

  test("a Textract miss rescued by Gemini: approved, the provider recorded", async () => {
    const user = await kit.fundedUser(0);
    // No marker: Textract reads an Eswatini card empty; Gemini reads the demo person, ID 0001282100635.
    const id = await submitted(user, { idNumber: "0001282100635" });
    await checkAll();
    expect(await detail(id)).toMatchObject({ status: "approved", checks: { ocr: { provider: "gemini" } } });
  });

  test("a 60% face match goes to review with its reason; an admin approves at tier 2", async () => {
    const user = await kit.fundedUser(0);
    const id = await submitted(user, { front: { textract: "read", ...PERSON }, selfie: { face: 60 } });
    await checkAll();
    const seen = await detail(id);
    expect(seen.status).toBe("in_review");
    expect(seen.reasons.map((r: { code: string }) => r.code)).toContain("FACE_MISMATCH");
    expect(seen.documents).toHaveLength(2);
    for (const doc of seen.documents) {
      const read = await t.app.request(doc.url);
      expect(read.status).toBe(200);
      expect(read.headers.get("content-type")).toBe("image/jpeg");
    }
    const queue = await t.request("GET", "/admin/v1/kyc/submissions?status=in_review", { token: compliance.token });
    expect(queue.json.data.map((s: { id: string }) => s.id)).toContain(id);
    const approved = await t.request("POST", `/admin/v1/kyc/submissions/${id}/approve`, {
      token: compliance.token,
      body: { tier: 2, note: "Portrait checked by hand" },
    });
    expect(approved.status).toBe(200);
    expect(approved.json).toMatchObject({ status: "approved", tier: 2, decidedBy: compliance.id });
    expect((await kycOf(user.accessToken)).tier).toBe(2);
    const again = await t.request("POST", `/admin/v1/kyc/submissions/${id}/reject`, {
      token: compliance.token,
      body: { reason: "too late" },
    });
    expect(again.status).toBe(409);
    const audit = await t.request("GET", `/admin/v1/audit?targetId=${user.id}`, { token: compliance.token });
    expect(audit.json.data.map((a: { action: string }) => a.action)).toContain("kyc.approve");
  });

  test("an admin rejects: the tier is unchanged and the user is told why", async () => {
    const user = await kit.fundedUser(0);
    const id = await submitted(user, { idNumber: "0101015100123" }); // not the document's number
    await checkAll();
    const seen = await detail(id);
    expect(seen.status).toBe("in_review");
    expect(seen.reasons.map((r: { code: string }) => r.code)).toContain("ID_NUMBER_MISMATCH");
    const rejected = await t.request("POST", `/admin/v1/kyc/submissions/${id}/reject`, {
      token: compliance.token,
      body: { reason: "The ID number is not the one on the card" },
    });
    expect(rejected.status).toBe(200);
    expect(rejected.json.status).toBe("rejected");
    const status = await kycOf(user.accessToken);
    expect(status).toMatchObject({ tier: 0, submission: { id, status: "rejected", reason: expect.any(String) } });
    const inbox = await kit.inbox(user.phone);
    const told = inbox.find((m) => m.kind === "kyc_rejected");
    expect(told?.body).toContain("The ID number is not the one on the card");
  });

  test("an unreadable ID and provider outages: retried, then review with every reason", async () => {
    const user = await kit.fundedUser(0);
    const id = await submitted(user, {
      front: { textract: "throttle", gemini: "error500" },
      withSelfie: false,
    });
    await checkAll();
    // Both readers were down: the submission is still processing, to be tried again after its lease.
    expect((await detail(id)).status).toBe("processing");
    const unreadable = await kit.fundedUser(0);
    const second = await submitted(unreadable, { front: { textract: "empty", gemini: "low" }, withSelfie: false });
    await checkAll();
    const seen = await detail(second);
    expect(seen.status).toBe("in_review");
    expect(seen.reasons.map((r: { code: string }) => r.code)).toContain("ID_NOT_READ");
  });

  test("one open submission: a second while one is processing is 409", async () => {
    const user = await kit.fundedUser(0);
    await submitted(user, { withSelfie: false });
    const front = await upload(user.accessToken, "id_front", await simImage(null));
    const res = await t.request("POST", "/v1/kyc/submissions", {
      token: user.accessToken,
      body: { idNumber: PERSON.idNumber, documentIds: [front.declared.json.id] },
    });
    expect(res.status).toBe(409);
  });

  test("an admin lowers a tier with a reason; support may read the queue but not decide", async () => {
    const user = await kit.fundedUser(0);
    await submitted(user, { idNumber: "0001282100635" });
    await checkAll();
    expect((await kycOf(user.accessToken)).tier).toBe(2);
    const lowered = await t.request("POST", `/admin/v1/users/${user.id}/kyc-tier`, {
      token: compliance.token,
      body: { tier: 0, reason: "Document reported stolen" },
    });
    expect(lowered.status).toBe(200);
    expect(lowered.json).toEqual({ userId: user.id, tier: 0, previousTier: 2 });
    expect((await kycOf(user.accessToken)).tier).toBe(0);
    const support = await kit.admin("support");
    expect((await t.request("GET", "/admin/v1/kyc/submissions", { token: support.token })).status).toBe(200);
    const refused = await t.request("POST", `/admin/v1/users/${user.id}/kyc-tier`, {
      token: support.token,
      body: { tier: 2, reason: "trying" },
    });
    expect(refused.status).toBe(403);
  });

  test("a listed person's name: review, a sanctions match recorded, the user frozen; cleared, they pay again", async () => {
    const user = await kit.fundedUser(0);
    const listed = {
      textract: "read" as const,
      name: "Abdul Latif Mansur",
      idNumber: "7001015100123",
      dob: "1970-01-01",
    };
    const id = await submitted(user, { front: listed, selfie: { face: 99.3 }, idNumber: listed.idNumber });
    await checkAll();
    const seen = await detail(id);
    expect(seen.status).toBe("in_review");
    expect(seen.reasons.map((r: { code: string }) => r.code)).toContain("SANCTIONS_MATCH");
    expect(seen.checks.sanctions.matches[0]).toMatchObject({ dataid: "110554" });
    // Frozen until an analyst clears the match: the app refuses them for now.
    const frozen = await t.request("GET", "/v1/kyc", { token: user.accessToken });
    expect(frozen.json.error.code).toBe("ACCOUNT_FROZEN");
    const matches = await t.request("GET", `/admin/v1/sanctions/matches?status=open`, { token: compliance.token });
    expect(matches.json.data.some((m: { subject: { id: string } }) => m.subject.id === user.id)).toBe(true);
    const profile = await t.request("GET", `/admin/v1/users/${user.id}`, { token: compliance.token });
    expect(profile.json.status).toBe("frozen");

    // An analyst clears it (a namesake): the user is unfrozen and can pay again.
    const match = matches.json.data.find((m: { subject: { id: string } }) => m.subject.id === user.id);
    const cleared = await t.request("POST", `/admin/v1/sanctions/matches/${match.id}/clear`, {
      token: compliance.token,
      body: { note: "A namesake: different date of birth and nationality" },
    });
    expect(cleared.status).toBe(200);
    expect((await kycOf(user.accessToken)).submission.status).toBe("in_review");
    await kit.deposit(user.phone, 5_000);
    const vendor = await createVendor(t);
    const paid = await t.request("POST", "/v1/payments", {
      token: user.accessToken,
      headers: { "idempotency-key": key() },
      body: { vendorCode: vendor.code, amount: 1_000, currency: "SZL", pin: PIN },
    });
    expect(paid.status).toBe(201);
  });

  test("no image bytes, ID numbers or names reach the logs", async () => {
    const joined = t.logs.join("\n");
    expect(joined).not.toContain(PERSON.idNumber);
    expect(joined).not.toContain("0001282100635");
    expect(joined.toUpperCase()).not.toContain("THANDI");
    expect(joined.toUpperCase()).not.toContain("SIPHO");
    expect(joined).not.toContain("/9j/"); // base64 of a JPEG's first bytes
  });
});
