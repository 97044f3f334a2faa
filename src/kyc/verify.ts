import { and, eq, inArray, sql } from "drizzle-orm";
import type { Core } from "../core";
import { claimDue } from "../db/claim";
import { withTransaction } from "../db/transaction";
import type { ObjectStore } from "../integrations/storage/types";
import {
  checkIdNumber,
  type DocumentRead,
  decide,
  type FaceCheck,
  type Reason,
  readConfidence,
  type SanctionsCheck,
  unreadFields,
} from "./checks";
import { type OutcomeDeps, recordVerdict } from "./outcome";
import { kycDocuments, kycSubmissions } from "./schema";

/** A provider that could not answer now (throttled, down): worth trying again later, unlike a bad document. */
export interface ProviderFailure {
  provider: string;
  kind: "throttled" | "unavailable" | "invalid" | "unreadable";
  message: string;
}

export const isRetryable = (failure: ProviderFailure) => failure.kind === "throttled" || failure.kind === "unavailable";

export interface Image {
  bytes: Uint8Array;
  contentType: string;
}

/** What verification needs of the outside world, in KYC's terms (module.ts adapts the integrations). */
export interface KycProviders {
  /** AWS Textract AnalyzeID over the front (and back). */
  analyzeId(pages: Image[]): Promise<DocumentRead | ProviderFailure>;
  /** Gemini's reading of the front, when Textract reads too little. */
  readWithGemini(front: Image): Promise<DocumentRead | ProviderFailure>;
  /** Rekognition CompareFaces: the selfie against the ID's portrait. */
  compareFaces(
    selfie: Image,
    idFront: Image,
  ): Promise<{ similarity: number | null; noFace: boolean } | ProviderFailure>;
  /**
   * Screens the document's name against the sanctions list and records a match for the analysts (which freezes
   * the user); null when it cannot screen now (no list synced yet), so the submission goes to review.
   */
  screenName?(userId: string, name: string, dateOfBirth: string | null): Promise<SanctionsCheck["matches"] | null>;
}

export interface VerifyDeps extends Core, OutcomeDeps {
  store: ObjectStore;
  providers: KycProviders;
}

const isFailure = (value: object): value is ProviderFailure => "kind" in value && "provider" in value;

const BATCH = 4;

interface Claimed {
  id: string;
  attempts: number;
  user_id: string;
  id_number: string;
  document_ids: string[];
  tier_requested: number;
}

/**
 * One pass of the verification worker: lease due submissions (FOR UPDATE SKIP LOCKED, so two workers never take
 * the same one; a worker that dies leaves its lease to pass, and the next one checks it again), check each, and
 * record the verdict — only if the lease is still this worker's, so a late first worker cannot record twice.
 */
export async function verifyDue(deps: VerifyDeps): Promise<{ checked: number; retried: number }> {
  const { rows } = await claimDue<Claimed>(deps.database.db, {
    table: "kyc_submissions",
    dueStatus: "processing",
    limit: BATCH,
    now: deps.now(),
    // A check may take a while (two providers, an image to downscale): longer than the lease, another worker takes it.
    leaseMs: deps.config.kyc.leaseSeconds * 1000,
    columns: ["user_id", "id_number", "document_ids", "tier_requested"],
  });
  let checked = 0;
  let retried = 0;
  for (const row of rows) {
    try {
      const outcome = await verifyOne(deps, row);
      if (outcome === "retry") retried++;
      else checked++;
    } catch (err) {
      // Its lease passes and it is tried again; the error is kept on the row for the review screen.
      retried++;
      deps.logger.warn({ err, submissionId: row.id }, "kyc: a check failed; it will be tried again");
      await deps.database.db
        .update(kycSubmissions)
        .set({ lastError: err instanceof Error ? err.message.slice(0, 500) : "error" })
        .where(eq(kycSubmissions.id, row.id));
    }
  }
  return { checked, retried };
}

/** Whether any submission is waiting for a check now (the loop's cheap look). */
export async function verificationDue(deps: Pick<Core, "database" | "now">): Promise<boolean> {
  const rows = await deps.database.db
    .select({ id: kycSubmissions.id })
    .from(kycSubmissions)
    .where(
      and(
        eq(kycSubmissions.status, "processing"),
        sql`${kycSubmissions.nextAttemptAt} <= ${deps.now().toISOString()}::timestamptz`,
      ),
    )
    .limit(1);
  return rows.length > 0;
}

async function verifyOne(deps: VerifyDeps, row: Claimed): Promise<"recorded" | "retry"> {
  const { config } = deps;
  const documents = await deps.database.db
    .select()
    .from(kycDocuments)
    .where(and(inArray(kycDocuments.id, row.document_ids), eq(kycDocuments.userId, row.user_id)));
  const image = async (type: string): Promise<Image | null> => {
    const doc = documents.find((d) => d.type === type && d.contentType.startsWith("image/"));
    return doc ? { bytes: await deps.store.read(doc.objectKey), contentType: doc.contentType } : null;
  };
  const front = (await image("id_front")) ?? (await image("passport"));
  const back = await image("id_back");
  const selfie = row.tier_requested >= 2 ? await image("selfie") : null;
  const failures: ProviderFailure[] = [];

  // Textract first; Gemini when it fails or reads too little (AnalyzeID is built for US documents).
  let read: DocumentRead | null = null;
  if (front) {
    const textract = await deps.providers.analyzeId(back ? [front, back] : [front]);
    if (isFailure(textract)) failures.push(textract);
    else read = textract;
    if (!read || unreadFields(read, config.kyc.ocrConfidence).length) {
      const gemini = await deps.providers.readWithGemini(front);
      if (isFailure(gemini)) failures.push(gemini);
      else if (
        !read ||
        unreadFields(gemini, config.kyc.ocrConfidence).length < unreadFields(read, config.kyc.ocrConfidence).length
      )
        read = gemini;
    }
  }

  let face: FaceCheck | null = null;
  if (selfie && front) {
    const compared = await deps.providers.compareFaces(selfie, front);
    if (isFailure(compared)) failures.push(compared);
    else face = { similarity: compared.similarity, threshold: config.kyc.faceMatchThreshold, noFace: compared.noFace };
  }

  // A provider that could not answer is asked again later, unless the checks have been tried enough times.
  const readMissing = !read || unreadFields(read, config.kyc.ocrConfidence).length > 0;
  const faceMissing = row.tier_requested >= 2 && !face;
  const retryable = failures.filter(isRetryable);
  if (retryable.length && (readMissing || faceMissing) && row.attempts < config.kyc.maxAttempts) {
    await deps.database.db
      .update(kycSubmissions)
      .set({ lastError: retryable.map((f) => `${f.provider}: ${f.kind}`).join("; ") })
      .where(eq(kycSubmissions.id, row.id));
    return "retry";
  }

  const name = [read?.fields.firstName, read?.fields.lastName].filter(Boolean).join(" ").trim() || null;
  const idNumber = checkIdNumber(row.id_number, read?.fields.dateOfBirth ?? null, deps.now());
  const screened =
    deps.providers.screenName && name
      ? await deps.providers.screenName(row.user_id, name, read?.fields.dateOfBirth ?? null)
      : null;
  const sanctions: SanctionsCheck = screened ? { run: true, matches: screened } : { run: false, matches: [] };
  const providerProblems: Reason[] = failures.map((f) => ({
    code: "PROVIDER_FAILED",
    message: `${f.provider} could not check the document (${f.kind}).`,
  }));
  const verdict = decide({
    tierRequested: row.tier_requested,
    read,
    ocrThreshold: config.kyc.ocrConfidence,
    submittedIdNumber: row.id_number,
    idNumber,
    face,
    sanctions,
    providerProblems: readMissing || faceMissing ? providerProblems : [],
  });
  const checks = {
    ocr: read
      ? { provider: read.provider, fields: { ...read.fields }, confidence: readConfidence(read) }
      : { provider: null, fields: {}, confidence: 0 },
    faceMatch: face ? { similarity: face.similarity, threshold: face.threshold } : null,
    idNumber: { valid: idNumber.valid, dateOfBirth: idNumber.dateOfBirth, matchesDocument: idNumber.matchesDocument },
    sanctions: { run: sanctions.run, matches: sanctions.matches },
    providers: failures.map((f) => ({ provider: f.provider, kind: f.kind })),
  };
  const recorded = await withTransaction(
    deps,
    (tx) =>
      recordVerdict(deps, tx, {
        submissionId: row.id,
        userId: row.user_id,
        leaseAttempts: row.attempts,
        verdict,
        checks,
        documentName: name,
        documentDateOfBirth: read?.fields.dateOfBirth ?? null,
      }),
    { label: "kyc.verdict" },
  );
  deps.logger.info(
    { submissionId: row.id, status: recorded ? verdict.status : "lapsed", reasons: verdict.reasons.map((r) => r.code) },
    "kyc: submission checked",
  );
  return "recorded";
}
