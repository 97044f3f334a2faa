import { z } from "zod";
import type { CoreEnv } from "./core";
import { int } from "./shared";

/**
 * Object storage (KYC documents, backups, reports), KYC verification and its providers (AWS Textract and
 * Rekognition, Gemini). Times in seconds unless named _MS.
 */
export const kycEnv = z.object({
  KESHLESS_STORAGE: z.enum(["local", "gcs"]).default("local"),
  KESHLESS_DOCUMENTS_BUCKET: z.string().min(3).default("keshless-documents"),
  KESHLESS_BACKUPS_BUCKET: z.string().min(3).default("keshless-backups"),
  KESHLESS_GCS_API_ENDPOINT: z.url().optional(),
  // A service account's key signs URLs locally; without one, the library asks IAM to sign (signBlob).
  KESHLESS_GCS_CLIENT_EMAIL: z.string().optional(),
  KESHLESS_GCS_PRIVATE_KEY: z.string().optional(),
  // Where clients reach this app: the local store's signed URLs point here.
  KESHLESS_PUBLIC_URL: z.url().optional(),
  KESHLESS_STORAGE_KEY: z.string().min(32).optional(),
  KESHLESS_KYC_UPLOAD_TTL: int(60, 900).default(900),
  KESHLESS_KYC_READ_TTL: int(60, 900).default(600),
  KESHLESS_KYC_FACE_MATCH_THRESHOLD: z.coerce.number().min(50).max(100).default(90),
  KESHLESS_KYC_OCR_CONFIDENCE: z.coerce.number().min(0).max(100).default(80),
  KESHLESS_KYC_WORKER_INTERVAL_MS: int(50, 600_000).default(2000),
  KESHLESS_KYC_MAX_ATTEMPTS: int(1, 50).default(6),
  KESHLESS_KYC_LEASE_SECONDS: int(1, 3600).default(120),
  KESHLESS_KYC_REJECTED_RETENTION_DAYS: int(1, 36_500).default(1825),
  KESHLESS_AWS_REGION: z.string().min(1).default("af-south-1"),
  KESHLESS_AWS_ENDPOINT: z.url().optional(),
  KESHLESS_AWS_ACCESS_KEY_ID: z.string().optional(),
  KESHLESS_AWS_SECRET_ACCESS_KEY: z.string().optional(),
  KESHLESS_GEMINI_BASE_URL: z.url().optional(),
  KESHLESS_GEMINI_API_KEY: z.string().optional(),
  KESHLESS_GEMINI_MODEL: z.string().min(1).default("gemini-2.5-flash"),
  KESHLESS_GEMINI_TIMEOUT_MS: int(1000, 120_000).default(20_000),
});
export type KycEnv = z.infer<typeof kycEnv>;

const GEMINI = "https://generativelanguage.googleapis.com";

export function kycSettings(e: KycEnv & Pick<CoreEnv, "PORT">, jwtSecret: string) {
  return {
    storage: {
      kind: e.KESHLESS_STORAGE,
      documentsBucket: e.KESHLESS_DOCUMENTS_BUCKET,
      backupsBucket: e.KESHLESS_BACKUPS_BUCKET,
      gcsApiEndpoint: e.KESHLESS_GCS_API_ENDPOINT,
      gcsCredentials:
        e.KESHLESS_GCS_CLIENT_EMAIL && e.KESHLESS_GCS_PRIVATE_KEY
          ? { client_email: e.KESHLESS_GCS_CLIENT_EMAIL, private_key: e.KESHLESS_GCS_PRIVATE_KEY.replace(/\\n/g, "\n") }
          : undefined,
      /** The app's public base URL, which the local store's signed URLs name. */
      publicUrl: (e.KESHLESS_PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/$/, ""),
      // Derived from the JWT secret unless set: one secret less to manage in development.
      /** Signs the local store's upload and read URLs. */
      localKey: e.KESHLESS_STORAGE_KEY ?? `storage:${jwtSecret}`,
    },
    kyc: {
      uploadTtlSeconds: e.KESHLESS_KYC_UPLOAD_TTL,
      readTtlSeconds: e.KESHLESS_KYC_READ_TTL,
      /** Rekognition similarity (0–100) at or above which the selfie matches the ID portrait. */
      faceMatchThreshold: e.KESHLESS_KYC_FACE_MATCH_THRESHOLD,
      /** Below this confidence (0–100) a field read from the ID counts as not read. */
      ocrConfidence: e.KESHLESS_KYC_OCR_CONFIDENCE,
      workerIntervalMs: e.KESHLESS_KYC_WORKER_INTERVAL_MS,
      /** Checks a provider could not finish (throttled, down) are retried this often, then sent to review. */
      maxAttempts: e.KESHLESS_KYC_MAX_ATTEMPTS,
      /** How long a worker holds a submission it checks: after that (it died), another worker checks it again. */
      leaseSeconds: e.KESHLESS_KYC_LEASE_SECONDS,
      /** A rejected submission's documents are kept this long for compliance, then deleted by retention. */
      rejectedRetentionDays: e.KESHLESS_KYC_REJECTED_RETENTION_DAYS,
    },
    aws: {
      region: e.KESHLESS_AWS_REGION,
      /** A fake or emulator; when set it is used instead of the simulator. */
      endpoint: e.KESHLESS_AWS_ENDPOINT,
      credentials:
        e.KESHLESS_AWS_ACCESS_KEY_ID && e.KESHLESS_AWS_SECRET_ACCESS_KEY
          ? { accessKeyId: e.KESHLESS_AWS_ACCESS_KEY_ID, secretAccessKey: e.KESHLESS_AWS_SECRET_ACCESS_KEY }
          : undefined,
    },
    gemini: {
      /** Set: used instead of the simulator. */
      baseUrl: e.KESHLESS_GEMINI_BASE_URL,
      defaultBaseUrl: GEMINI,
      apiKey: e.KESHLESS_GEMINI_API_KEY,
      model: e.KESHLESS_GEMINI_MODEL,
      timeoutMs: e.KESHLESS_GEMINI_TIMEOUT_MS,
    },
  };
}
export type KycSlice = ReturnType<typeof kycSettings>;

/** Production's refusals for this slice. */
export function kycProblems(e: KycEnv): string[] {
  const problems: string[] = [];
  if (e.KESHLESS_STORAGE !== "gcs")
    problems.push("KESHLESS_STORAGE: must be gcs in production (the local store is for development)");
  if (!e.KESHLESS_GEMINI_API_KEY) problems.push("KESHLESS_GEMINI_API_KEY: required in production (ID reading)");
  return problems;
}
