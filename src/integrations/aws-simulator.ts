import { randomBytes, randomUUID } from "node:crypto";
import sharp from "sharp";
import { AWS_INLINE_IMAGE_MAX_BYTES, imageFormat } from "./images";

/**
 * A local AWS speaking AWS JSON 1.1 as INTEGRATIONS.md §5 describes it, for Textract AnalyzeID and
 * Rekognition CompareFaces: the development default and the tests' fake, so the real SDK clients always run.
 * `POST /` with `X-Amz-Target: Textract.AnalyzeID` or `RekognitionService.CompareFaces`, blobs base64,
 * SigV4 ignored; 200 JSON with `x-amzn-RequestId`; errors as 400 `{"__type", "message"}` with
 * `x-amzn-ErrorType`, throttling as ThrottlingException / ProvisionedThroughputExceededException, and 500.
 * Like the real service it refuses inline images over 5,242,880 bytes (ImageTooLargeException) and anything
 * but JPEG/PNG (InvalidImageFormatException / UnsupportedDocumentException).
 *
 * What it answers is decided by the images themselves, so every path can be demoed from the app:
 *
 * WITHOUT a marker (any photo you upload) it answers what a real Eswatini card gets:
 * - Textract reads every field EMPTY (AnalyzeID is built for US IDs), so the worker falls back to Gemini;
 * - Gemini (gemini-simulator.ts) reads the demo person SIPHO DLAMINI, ID 0001282100635, born 2000-01-28
 *   (COMPLIANCE.md §5's example), with high confidence;
 * - CompareFaces matches at 99.3.
 * So a newcomer demos APPROVAL by submitting ID number 0001282100635 with any ID photo and selfie, and
 * REVIEW by submitting any other ID number (it does not match the document); REJECT is then the admin's
 * decision in the review queue.
 *
 * WITH a marker: the ASCII text `keshless-sim:` followed by a small JSON object, anywhere in the bytes (a
 * JPEG comment, or simply appended; `simImage()` below makes one), e.g.
 *   keshless-sim:{"textract":"read","face":60,"name":"Thandi Nkosi","idNumber":"9805156100123","dob":"1998-05-15"}
 * - textract: "read" (all fields at ~98), "low" (fields read at ~45), "empty" (the default), "unsupported"
 *   (400 UnsupportedDocumentException), "throttle" (400 ThrottlingException), "throughput"
 *   (400 ProvisionedThroughputExceededException), "error500" (500 InternalServerError);
 * - gemini: see gemini-simulator.ts ("read", "low", "error429", "error500", "garbage", "badshape", "blocked");
 * - face: a similarity such as 99.3 or 60, "none" (400 InvalidParameterException: no face), "throttle", "error500";
 *   read from the selfie (source) first, then the ID (target);
 * - name ("First [Middle] Last"), idNumber, dob (YYYY-MM-DD): who the readers see instead of the demo person.
 * The ID readers take the marker of the front page, else the back.
 */

export interface SimMarker {
  textract?: "read" | "low" | "empty" | "unsupported" | "throttle" | "throughput" | "error500";
  gemini?: "read" | "low" | "error429" | "error500" | "garbage" | "badshape" | "blocked";
  face?: number | "none" | "throttle" | "error500";
  name?: string;
  idNumber?: string;
  dob?: string;
}

/** Who an unmarked card belongs to (COMPLIANCE.md §5's example PIN). */
export const DEMO_PERSON = {
  firstName: "SIPHO",
  middleName: null as string | null,
  lastName: "DLAMINI",
  idNumber: "0001282100635",
  dateOfBirth: "2000-01-28",
};

/** Dummy keys for pointing the real SDK clients at a simulator (SigV4 is not checked). */
export const SIMULATOR_CREDENTIALS = { accessKeyId: "AKIDKESHLESSSIM", secretAccessKey: "keshless-simulator" };

export const SIMULATOR_REGION = "af-south-1";

const MARKER = "keshless-sim:";

/** The marker carried anywhere in the bytes, or null (none, or not a JSON object). */
export function readSimMarker(bytes: Uint8Array | undefined): SimMarker | null {
  if (!bytes) return null;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
  const at = text.lastIndexOf(MARKER);
  if (at < 0) return null;
  const start = at + MARKER.length;
  if (text[start] !== "{") return null;
  let depth = 0;
  for (let i = start; i < Math.min(text.length, start + 2048); i++) {
    if (text[i] === "{") depth++;
    else if (text[i] === "}" && --depth === 0) {
      try {
        const value: unknown = JSON.parse(text.slice(start, i + 1));
        return value && typeof value === "object" && !Array.isArray(value) ? (value as SimMarker) : null;
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** The person a marker names, or the demo person. */
export function simPerson(marker: SimMarker | null) {
  const names = marker?.name?.trim().split(/\s+/);
  return {
    firstName: names?.[0] ?? DEMO_PERSON.firstName,
    middleName: names && names.length > 2 ? names.slice(1, -1).join(" ") : names ? null : DEMO_PERSON.middleName,
    lastName: names && names.length > 1 ? names[names.length - 1]! : DEMO_PERSON.lastName,
    idNumber: marker?.idNumber ?? DEMO_PERSON.idNumber,
    dateOfBirth: marker?.dob ?? DEMO_PERSON.dateOfBirth,
  };
}

export interface SimImageOptions {
  format?: "jpeg" | "png";
  width?: number;
  height?: number;
  /** Random pixels, so the image compresses badly: how to make a real multi-megabyte photo. */
  noise?: boolean;
  /** JPEG quality (1–100). */
  quality?: number;
}

/**
 * A real, decodable JPEG (or PNG) carrying `marker` — in a JPEG comment segment, after a PNG's end — for
 * tests and the seed. No marker: a plain image, which the simulators treat as an Eswatini card.
 */
export async function simImage(marker?: SimMarker | null, options: SimImageOptions = {}): Promise<Uint8Array> {
  const { format = "jpeg", width = 160, height = 120, noise = false, quality = 90 } = options;
  const base = noise
    ? sharp(randomBytes(width * height * 3), { raw: { width, height, channels: 3 } })
    : sharp({ create: { width, height, channels: 3, background: { r: 196, g: 164, b: 132 } } });
  const encoded = format === "png" ? await base.png().toBuffer() : await base.jpeg({ quality }).toBuffer();
  if (!marker) return new Uint8Array(encoded);
  const text = Buffer.from(`${MARKER}${JSON.stringify(marker)}`, "latin1");
  if (format === "png") return new Uint8Array(Buffer.concat([encoded, text]));
  // COM segment (FF FE, big-endian length counting itself) right after SOI.
  const length = Buffer.from([(text.length + 2) >> 8, (text.length + 2) & 0xff]);
  return new Uint8Array(
    Buffer.concat([encoded.subarray(0, 2), Buffer.from([0xff, 0xfe]), length, text, encoded.subarray(2)]),
  );
}

export interface AwsSimulatedRequest {
  target: string;
  requestId: string;
  status: number;
  /** What each inline image was: sizes and formats only — the simulator keeps no bytes. */
  images: Array<{ role: "page" | "source" | "target"; bytes: number; format: string | null }>;
  at: Date;
}

const JSON_TYPE = "application/x-amz-json-1.1";
const KEEP_REQUESTS = 100;

const NAMESPACE: Record<string, string> = {
  Textract: "com.amazonaws.textract",
  RekognitionService: "com.amazonaws.rekognition",
};

function reply(requestId: string, status: number, body: unknown, errorType?: string, service = "Textract") {
  const headers: Record<string, string> = { "content-type": JSON_TYPE, "x-amzn-RequestId": requestId };
  // As AWS sends them: the header with a ":<url>" suffix, the body namespaced with "#"; the SDK cuts both.
  if (errorType) headers["x-amzn-ErrorType"] = `${errorType}:http://internal.amazon.com/coral/${NAMESPACE[service]}/`;
  return new Response(JSON.stringify(body), { status, headers });
}

const error = (requestId: string, service: string, type: string, message: string, status = 400) =>
  reply(requestId, status, { __type: `${NAMESPACE[service] ?? "com.amazonaws"}#${type}`, message }, type, service);

const decode = (blob: unknown): Uint8Array | null =>
  typeof blob === "string" && blob.length > 0 ? new Uint8Array(Buffer.from(blob, "base64")) : null;

const TEXTRACT_TYPES = [
  "FIRST_NAME",
  "LAST_NAME",
  "MIDDLE_NAME",
  "SUFFIX",
  "CITY_IN_ADDRESS",
  "ZIP_CODE_IN_ADDRESS",
  "STATE_IN_ADDRESS",
  "COUNTY",
  "DOCUMENT_NUMBER",
  "EXPIRATION_DATE",
  "DATE_OF_BIRTH",
  "STATE_NAME",
  "DATE_OF_ISSUE",
  "CLASS",
  "RESTRICTIONS",
  "ENDORSEMENTS",
  "ID_TYPE",
  "VETERAN",
  "ADDRESS",
  "PLACE_OF_BIRTH",
];

function analyzeIdDocument(index: number, values: Record<string, string>, confidence: number, dob?: string) {
  return {
    DocumentIndex: index,
    IdentityDocumentFields: TEXTRACT_TYPES.map((type) => {
      const text = values[type] ?? "";
      return {
        Type: { Text: type },
        ValueDetection: {
          Text: text,
          ...(type === "DATE_OF_BIRTH" && text && dob
            ? { NormalizedValue: { Value: `${dob}T00:00:00`, ValueType: "Date" } }
            : {}),
          // Textract is sure of an empty field too.
          Confidence: text ? confidence : 99.1,
        },
      };
    }),
    Blocks: [],
  };
}

function analyzeId(requestId: string, body: any, record: AwsSimulatedRequest["images"]): Response {
  const pages: unknown[] = Array.isArray(body?.DocumentPages) ? body.DocumentPages : [];
  if (pages.length < 1 || pages.length > 2)
    return error(requestId, "Textract", "InvalidParameterException", "DocumentPages must hold 1 or 2 pages");
  const bytes = pages.map((page: any) => decode(page?.Bytes));
  bytes.forEach((b) => {
    record.push({ role: "page", bytes: b?.byteLength ?? 0, format: b ? imageFormat(b) : null });
  });
  if (bytes.some((b) => b === null))
    return error(
      requestId,
      "Textract",
      "InvalidParameterException",
      "Each page needs its Bytes (S3Object is not simulated)",
    );
  if (bytes.some((b) => b!.byteLength > AWS_INLINE_IMAGE_MAX_BYTES))
    return error(
      requestId,
      "Textract",
      "DocumentTooLargeException",
      "Document size exceeds the limit for inline bytes",
    );
  const marker = readSimMarker(bytes[0]!) ?? readSimMarker(bytes[1] ?? undefined);
  const outcome = marker?.textract ?? "empty";
  if (outcome === "unsupported" || bytes.some((b) => !["jpeg", "png"].includes(imageFormat(b!) ?? "")))
    return error(requestId, "Textract", "UnsupportedDocumentException", "Request has unsupported document format");
  if (outcome === "throttle") return error(requestId, "Textract", "ThrottlingException", "Rate exceeded");
  if (outcome === "throughput")
    return error(
      requestId,
      "Textract",
      "ProvisionedThroughputExceededException",
      "Provisioned rate exceeded for this account",
    );
  if (outcome === "error500")
    return error(requestId, "Textract", "InternalServerError", "Amazon Textract experienced a service issue", 500);
  const person = simPerson(marker);
  const [y, m, d] = person.dateOfBirth.split("-");
  const values: Record<string, string> =
    outcome === "read" || outcome === "low"
      ? {
          FIRST_NAME: person.firstName,
          LAST_NAME: person.lastName,
          ...(person.middleName ? { MIDDLE_NAME: person.middleName } : {}),
          DOCUMENT_NUMBER: person.idNumber,
          DATE_OF_BIRTH: `${d}/${m}/${y}`,
          ID_TYPE: "IDENTIFICATION CARD",
        }
      : {};
  const confidence = outcome === "low" ? 45.2 : 98.4;
  return reply(requestId, 200, {
    DocumentMetadata: { Pages: bytes.length },
    IdentityDocuments: bytes.map((_, i) =>
      analyzeIdDocument(i + 1, i === 0 ? values : {}, confidence, person.dateOfBirth),
    ),
    AnalyzeIDModelVersion: "1.0",
  });
}

const box = (left: number, top: number, size: number) => ({ Width: size, Height: size * 1.3, Left: left, Top: top });

function compareFaces(requestId: string, body: any, record: AwsSimulatedRequest["images"]): Response {
  const source = decode(body?.SourceImage?.Bytes);
  const target = decode(body?.TargetImage?.Bytes);
  record.push({ role: "source", bytes: source?.byteLength ?? 0, format: source ? imageFormat(source) : null });
  record.push({ role: "target", bytes: target?.byteLength ?? 0, format: target ? imageFormat(target) : null });
  const service = "RekognitionService";
  if (!source || !target)
    return error(
      requestId,
      service,
      "InvalidParameterException",
      "SourceImage and TargetImage need Bytes (S3Object is not simulated)",
    );
  const threshold = body?.SimilarityThreshold ?? 80;
  if (typeof threshold !== "number" || threshold < 0 || threshold > 100)
    return error(requestId, service, "InvalidParameterException", "SimilarityThreshold must be within 0 and 100");
  if (body?.QualityFilter !== undefined && !["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"].includes(body.QualityFilter))
    return error(
      requestId,
      service,
      "InvalidParameterException",
      "QualityFilter is not one of NONE, AUTO, LOW, MEDIUM, HIGH",
    );
  if (source.byteLength > AWS_INLINE_IMAGE_MAX_BYTES || target.byteLength > AWS_INLINE_IMAGE_MAX_BYTES)
    return error(requestId, service, "ImageTooLargeException", "Image size is too large.");
  if (![source, target].every((b) => imageFormat(b) === "jpeg" || imageFormat(b) === "png"))
    return error(requestId, service, "InvalidImageFormatException", "Request has invalid image format");
  const face = readSimMarker(source)?.face ?? readSimMarker(target)?.face ?? 99.3;
  if (face === "none")
    return error(
      requestId,
      service,
      "InvalidParameterException",
      "There are no faces in the image. Should be at least 1.",
    );
  if (face === "throttle") return error(requestId, service, "ThrottlingException", "Rate exceeded");
  if (face === "error500")
    return error(requestId, service, "InternalServerError", "Amazon Rekognition experienced a service issue", 500);
  const similarity = typeof face === "number" ? Math.min(100, Math.max(0, face)) : 99.3;
  const targetFace = {
    BoundingBox: box(0.08, 0.25, 0.22),
    Confidence: 99.97,
    Landmarks: [],
    Pose: { Roll: 0.5, Yaw: 1.2, Pitch: -2.1 },
    Quality: { Brightness: 85, Sharpness: 92 },
  };
  const matched = similarity >= threshold;
  return reply(
    requestId,
    200,
    {
      SourceImageFace: { BoundingBox: box(0.23, 0.36, 0.16), Confidence: 99.99 },
      FaceMatches: matched ? [{ Similarity: similarity, Face: targetFace }] : [],
      UnmatchedFaces: matched ? [] : [{ BoundingBox: targetFace.BoundingBox, Confidence: targetFace.Confidence }],
    },
    undefined,
    service,
  );
}

export interface AwsSimulator {
  /** The HTTP handler: serve it with Bun.serve (serveAwsSimulator), or call it in process. */
  fetch(request: Request): Promise<Response>;
  /** The latest requests, oldest first (at most 100). */
  requests: AwsSimulatedRequest[];
  reset(): void;
}

export function createAwsSimulator(): AwsSimulator {
  const requests: AwsSimulatedRequest[] = [];
  async function handle(request: Request): Promise<Response> {
    const requestId = randomUUID();
    const target = request.headers.get("x-amz-target") ?? "";
    const service = target.split(".")[0] ?? "";
    const images: AwsSimulatedRequest["images"] = [];
    const response = await route(request, requestId, target, service, images);
    requests.push({ target, requestId, status: response.status, images, at: new Date() });
    if (requests.length > KEEP_REQUESTS) requests.splice(0, requests.length - KEEP_REQUESTS);
    return response;
  }
  async function route(
    request: Request,
    requestId: string,
    target: string,
    service: string,
    images: AwsSimulatedRequest["images"],
  ): Promise<Response> {
    if (request.method !== "POST" || new URL(request.url).pathname !== "/")
      return error(requestId, service, "UnknownOperationException", "Only POST / is served", 404);
    if (!request.headers.get("content-type")?.startsWith(JSON_TYPE))
      return error(requestId, service, "SerializationException", `Content-Type must be ${JSON_TYPE}`);
    let body: unknown;
    try {
      body = await request.json();
    } catch {
      return error(requestId, service, "SerializationException", "Body is not JSON");
    }
    if (target === "Textract.AnalyzeID") return analyzeId(requestId, body, images);
    if (target === "RekognitionService.CompareFaces") return compareFaces(requestId, body, images);
    return error(requestId, service, "UnknownOperationException", `Unknown operation ${target}`);
  }
  return {
    fetch: handle,
    requests,
    reset() {
      requests.length = 0;
    },
  };
}

/** A real HTTP server on 127.0.0.1 (port 0: any free port) for the SDK clients' `endpoint`. */
export function serveAwsSimulator(simulator: AwsSimulator = createAwsSimulator(), port = 0) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: simulator.fetch,
    idleTimeout: 0,
    maxRequestBodySize: 64 * 1024 * 1024,
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true), simulator };
}
