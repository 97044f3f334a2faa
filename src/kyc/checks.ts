/**
 * The rules a submission is judged by, as pure functions of what the providers read: the national ID number
 * (COMPLIANCE.md §5), whether the document was read well enough, whether it names the same ID number and date
 * of birth, and the outcome. No I/O here: the worker (verify.ts) gathers the reads and records the result.
 */

export interface IdFields {
  firstName?: string | null;
  lastName?: string | null;
  idNumber?: string | null;
  /** YYYY-MM-DD */
  dateOfBirth?: string | null;
}

export interface DocumentRead {
  provider: "textract" | "gemini";
  fields: IdFields;
  /** 0–100 per field read. */
  confidence: Partial<Record<keyof IdFields, number>>;
}

export interface Reason {
  code: string;
  message: string;
}

const NEEDED = ["firstName", "lastName", "idNumber", "dateOfBirth"] as const;

/** The fields a read is missing, or read below `threshold` confidence: names, ID number and date of birth. */
export function unreadFields(read: DocumentRead | null, threshold: number): (keyof IdFields)[] {
  if (!read) return [...NEEDED];
  return NEEDED.filter((field) => {
    const value = read.fields[field];
    return !value || !String(value).trim() || (read.confidence[field] ?? 0) < threshold;
  });
}

/** The lowest confidence over the fields we need (what the review screen shows). */
export function readConfidence(read: DocumentRead | null): number {
  if (!read) return 0;
  return Math.min(...NEEDED.map((field) => read.confidence[field] ?? 0));
}

const isRealDate = (y: number, m: number, d: number) => {
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
};

export interface IdNumberCheck {
  valid: boolean;
  /** The date of birth the number encodes (YYYY-MM-DD), its century taken from the document when it has one. */
  dateOfBirth: string | null;
  /** Whether that date equals the document's; null when the document gave none. */
  matchesDocument: boolean | null;
  problems: Reason[];
}

/**
 * The Eswatini personal ID number: exactly 13 digits, YYMMDD a real date not in the future, equal to the date of
 * birth on the document. There is no checksum (South Africa's Luhn rule does not apply), and the sex digits are
 * never a reason to refuse. The century is the document's when it agrees on YYMMDD, else the latest not in the future.
 */
export function checkIdNumber(idNumber: string, documentDateOfBirth: string | null, now: Date): IdNumberCheck {
  if (!/^\d{13}$/.test(idNumber))
    return {
      valid: false,
      dateOfBirth: null,
      matchesDocument: null,
      problems: [{ code: "ID_NUMBER_FORMAT", message: "The ID number is not 13 digits." }],
    };
  const yy = Number(idNumber.slice(0, 2));
  const mm = Number(idNumber.slice(2, 4));
  const dd = Number(idNumber.slice(4, 6));
  const documentYear = documentDateOfBirth ? Number(documentDateOfBirth.slice(0, 4)) : null;
  const thisYear = now.getUTCFullYear();
  let year = 2000 + yy > thisYear ? 1900 + yy : 2000 + yy;
  if (documentYear !== null && documentYear % 100 === yy) year = documentYear;
  const iso = `${year}-${String(mm).padStart(2, "0")}-${String(dd).padStart(2, "0")}`;
  if (!isRealDate(year, mm, dd))
    return {
      valid: false,
      dateOfBirth: null,
      matchesDocument: null,
      problems: [{ code: "ID_NUMBER_DATE", message: "The ID number does not start with a real date of birth." }],
    };
  if (new Date(`${iso}T00:00:00Z`).getTime() > now.getTime())
    return {
      valid: false,
      dateOfBirth: iso,
      matchesDocument: null,
      problems: [{ code: "ID_NUMBER_DATE", message: "The ID number's date of birth is in the future." }],
    };
  const matchesDocument = documentDateOfBirth ? documentDateOfBirth === iso : null;
  return {
    valid: true,
    dateOfBirth: iso,
    matchesDocument,
    problems:
      matchesDocument === false
        ? [{ code: "DATE_OF_BIRTH_MISMATCH", message: "The ID number's date of birth differs from the document's." }]
        : [],
  };
}

export interface FaceCheck {
  similarity: number | null;
  threshold: number;
  /** No face found on the selfie or on the ID. */
  noFace?: boolean;
}

export interface SanctionsCheck {
  /** False until the compliance module screens names. */
  run: boolean;
  matches: { dataid: string; matchedName: string; score: number }[];
}

/** What the checks found, stored on the submission and shown on the review screen (API.md "KYC"). */
export interface SubmissionChecks {
  ocr: { provider: DocumentRead["provider"] | null; fields: Record<string, string | null>; confidence: number } | null;
  faceMatch: { similarity: number | null; threshold: number } | null;
  idNumber: { valid: boolean; dateOfBirth: string | null; matchesDocument: boolean | null } | null;
  sanctions: SanctionsCheck | null;
  /** Providers that could not answer, and how. */
  providers?: { provider: string; kind: string }[];
}

export interface Verdict {
  status: "approved" | "in_review";
  tier: number;
  reasons: Reason[];
}

/**
 * All clear → approved at the tier the documents reach (1: the ID read and checked; 2: and a selfie that
 * matches its portrait); anything doubtful → in review, with every reason.
 */
export function decide(input: {
  tierRequested: number;
  read: DocumentRead | null;
  ocrThreshold: number;
  submittedIdNumber: string;
  idNumber: IdNumberCheck;
  face: FaceCheck | null;
  sanctions: SanctionsCheck;
  providerProblems: Reason[];
}): Verdict {
  const reasons: Reason[] = [...input.providerProblems];
  const unread = unreadFields(input.read, input.ocrThreshold);
  if (unread.length)
    reasons.push({ code: "ID_NOT_READ", message: `The ID could not be read with confidence: ${unread.join(", ")}.` });
  const documentNumber = input.read?.fields.idNumber?.replace(/\D/g, "") ?? null;
  if (documentNumber && documentNumber !== input.submittedIdNumber)
    reasons.push({ code: "ID_NUMBER_MISMATCH", message: "The ID number typed differs from the one on the document." });
  reasons.push(...input.idNumber.problems);
  if (input.tierRequested >= 2) {
    if (!input.face || input.face.noFace)
      reasons.push({ code: "NO_FACE", message: "No face could be found to compare on the selfie or the ID." });
    else if (input.face.similarity === null || input.face.similarity < input.face.threshold)
      reasons.push({
        code: "FACE_MISMATCH",
        message: `The selfie matches the ID portrait at ${(input.face.similarity ?? 0).toFixed(1)}%, under ${input.face.threshold}%.`,
      });
  }
  if (!input.sanctions.run)
    reasons.push({ code: "SANCTIONS_NOT_RUN", message: "The name could not be screened against the sanctions list." });
  else if (input.sanctions.matches.length)
    reasons.push({ code: "SANCTIONS_MATCH", message: "The name resembles an entry on the UN sanctions list." });
  return { status: reasons.length ? "in_review" : "approved", tier: input.tierRequested, reasons };
}

/** The tier a set of documents can reach: an ID (front, or a passport) → 1; and a selfie → 2. */
export function tierReached(types: string[]): number {
  const hasId = types.includes("id_front") || types.includes("passport");
  if (!hasId) return 0;
  return types.includes("selfie") ? 2 : 1;
}
