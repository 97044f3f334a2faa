import { afterAll, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { queryRows } from "../../src/db/client";
import { type SimMarker, serveAwsSimulator, simImage } from "../../src/integrations/aws-simulator";
import { serveGeminiSimulator } from "../../src/integrations/gemini-simulator";
import { createAdmin, signInAdmin, signInUser } from "../support/factories";
import { createTestContext } from "../support/harness";

/**
 * Retention of KYC documents (POST /jobs/retention): a rejected submission's documents are kept for
 * KESHLESS_KYC_REJECTED_RETENTION_DAYS after the decision, then the objects are deleted and the rows marked
 * deleted; uploads never submitted go after 30 days; an open submission's (processing, in review) and an
 * approved one's are never touched, however old.
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
  KESHLESS_KYC_REJECTED_RETENTION_DAYS: "1",
});
const admin = await createAdmin(t, "compliance");
const adminToken = (await signInAdmin(t, admin)).accessToken;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const PERSON: SimMarker = { textract: "read", name: "Thandi Nkosi", idNumber: "9805151100123", dob: "1998-05-15" };
const OTHER_NUMBER = "0101015100123"; // not the document's: the check sends it to review

async function upload(token: string, type: string, marker: SimMarker | null, put = true) {
  const bytes = await simImage(marker);
  const declared = await t.request("POST", "/v1/kyc/documents", {
    token,
    body: { type, contentType: "image/jpeg", sizeBytes: bytes.length },
  });
  expect(declared.status).toBe(201);
  if (!put) return declared.json.id as string;
  const stored = await t.app.request(declared.json.upload.url, {
    method: "PUT",
    headers: declared.json.upload.headers,
    body: bytes as Uint8Array<ArrayBuffer>,
  });
  expect(stored.status).toBeLessThan(300);
  expect((await t.request("POST", `/v1/kyc/documents/${declared.json.id}/complete`, { token })).status).toBe(200);
  return declared.json.id as string;
}

/** A user with a submission of an ID front and a selfie (in review once checked: the number does not match). */
async function submission() {
  const user = await signInUser(t);
  const documentIds = [
    await upload(user.accessToken, "id_front", PERSON),
    await upload(user.accessToken, "selfie", null),
  ];
  const res = await t.request("POST", "/v1/kyc/submissions", {
    token: user.accessToken,
    body: { idNumber: OTHER_NUMBER, documentIds },
  });
  expect(res.status).toBe(202);
  return { user, id: res.json.id as string, documentIds };
}

async function checkAll() {
  while ((await t.deps.kyc.verifyDue()).checked > 0);
}

const decide = async (id: string, action: "approve" | "reject") => {
  const res = await t.request("POST", `/admin/v1/kyc/submissions/${id}/${action}`, {
    token: adminToken,
    body: action === "approve" ? { tier: 2 } : { reason: "The ID number is not the one on the card" },
  });
  expect(res.status).toBe(200);
};

const documents = (ids: string[]) =>
  queryRows<{ id: string; status: string; object_key: string; deleted_at: string | null }>(
    t.deps.database.db,
    sql`select id, status, object_key, deleted_at from kyc_documents where id in ${ids} order by id`,
  );

/** Each document: its row's status, and whether its object is still in the documents bucket. */
async function kept(ids: string[]) {
  const rows = await documents(ids);
  return Promise.all(
    rows.map(async (r) => ({
      status: r.status,
      stored: (await t.deps.storage.documents.stat(r.object_key)) !== null,
    })),
  );
}

/** The retention job as Cloud Scheduler calls it, with the clock `ahead` of now; reports kyc_documents deleted. */
async function retentionAt(ahead: number): Promise<number> {
  const now = t.deps.now;
  t.deps.now = () => new Date(Date.now() + ahead);
  try {
    const res = await t.request("POST", "/jobs/retention", { headers: { "x-job-secret": t.config.secrets.job } });
    expect(res.status).toBe(200);
    expect(res.json.summary.failed).toEqual([]);
    return res.json.summary.deleted.kyc_documents;
  } finally {
    t.deps.now = now;
  }
}

test("rejected documents go after the retention period; open, approved and recent ones stay; unused after 30 days", async () => {
  const rejected = await submission();
  const inReview = await submission();
  const approved = await submission();
  await checkAll();
  await decide(rejected.id, "reject");
  await decide(approved.id, "approve");
  // Submitted last and never checked: still processing.
  const processing = await submission();
  const loner = await signInUser(t);
  const unused = [
    await upload(loner.accessToken, "id_front", null),
    await upload(loner.accessToken, "selfie", null, false), // declared, never uploaded
  ];
  const statuses = await queryRows<{ id: string; status: string }>(
    t.deps.database.db,
    sql`select id, status from kyc_submissions`,
  );
  expect(Object.fromEntries(statuses.map((s) => [s.id, s.status]))).toEqual({
    [rejected.id]: "rejected",
    [inReview.id]: "in_review",
    [approved.id]: "approved",
    [processing.id]: "processing",
  });
  const untouched = [...inReview.documentIds, ...approved.documentIds, ...processing.documentIds];
  const intact = untouched.map(() => ({ status: "uploaded", stored: true }));

  // Within the day the rejected documents are kept for compliance.
  expect(await retentionAt(23 * HOUR)).toBe(0);
  expect(await kept(rejected.documentIds)).toEqual([
    { status: "uploaded", stored: true },
    { status: "uploaded", stored: true },
  ]);

  // Past it: objects gone, rows marked deleted — and only theirs.
  expect(await retentionAt(25 * HOUR)).toBe(2);
  expect(await kept(rejected.documentIds)).toEqual([
    { status: "deleted", stored: false },
    { status: "deleted", stored: false },
  ]);
  expect((await documents(rejected.documentIds)).every((d) => d.deleted_at !== null)).toBe(true);
  expect(await kept(untouched)).toEqual(intact);
  const [purged] = await queryRows<{ documents_purged_at: string | null }>(
    t.deps.database.db,
    sql`select documents_purged_at from kyc_submissions where id = ${rejected.id}`,
  );
  expect(purged!.documents_purged_at).not.toBeNull();
  // The review screen no longer offers them.
  const detail = await t.request("GET", `/admin/v1/kyc/submissions/${rejected.id}`, { token: adminToken });
  expect(detail.json.documents).toEqual([]);

  // Uploads nobody submitted: kept for 30 days, then deleted (uploaded or only declared).
  expect(await retentionAt(29 * DAY)).toBe(0);
  expect((await documents(unused)).map((d) => d.status).sort()).toEqual(["awaiting_upload", "uploaded"]);
  expect(await retentionAt(31 * DAY)).toBe(2);
  expect(await kept(unused)).toEqual([
    { status: "deleted", stored: false },
    { status: "deleted", stored: false },
  ]);

  // However old, an open or approved submission's documents stay.
  expect(await retentionAt(3650 * DAY)).toBe(0);
  expect(await kept(untouched)).toEqual(intact);
});
