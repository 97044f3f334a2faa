import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { CompareFacesCommand } from "@aws-sdk/client-rekognition";
import pino from "pino";
import sharp from "sharp";
import {
  DEMO_PERSON,
  readSimMarker,
  SIMULATOR_CREDENTIALS,
  SIMULATOR_REGION,
  type SimMarker,
  serveAwsSimulator,
  simImage,
} from "../../src/integrations/aws-simulator";
import { createGeminiReader } from "../../src/integrations/gemini";
import { createGeminiSimulator, serveGeminiSimulator } from "../../src/integrations/gemini-simulator";
import { AWS_INLINE_IMAGE_MAX_BYTES, fitWithin, imageFormat } from "../../src/integrations/images";
import { type IdImages, ProviderError, parseDocumentDate, weakIdFields } from "../../src/integrations/kyc-types";
import { createFaceMatcher } from "../../src/integrations/rekognition";
import { createTextractReader } from "../../src/integrations/textract";

/**
 * The KYC adapters with their real clients (the AWS SDK v3 clients, fetch for Gemini) against the
 * simulators as wire-level fakes: AWS JSON 1.1 on a real port, Gemini's REST shape.
 */

const aws = serveAwsSimulator();
const gemini = serveGeminiSimulator();
afterAll(() => {
  aws.stop();
  gemini.stop();
});
beforeEach(() => {
  aws.simulator.reset();
  gemini.simulator.reset();
});

const awsOptions = (maxAttempts = 1) => ({
  region: SIMULATOR_REGION,
  endpoint: aws.url,
  credentials: SIMULATOR_CREDENTIALS,
  maxAttempts,
});
const textract = createTextractReader(awsOptions());
const faces = createFaceMatcher(awsOptions());
const geminiReader = createGeminiReader({
  baseUrl: gemini.url,
  apiKey: "test-key",
  model: "gemini-2.5-flash",
  timeoutMs: 5_000,
});

const card = async (marker?: SimMarker): Promise<IdImages> => ({
  front: { bytes: await simImage(marker), contentType: "image/jpeg" },
});

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderError);
    return error as ProviderError;
  }
  throw new Error("expected a ProviderError");
}

describe("simImage and its marker", () => {
  test("a real, decodable JPEG or PNG carrying the marker", async () => {
    const marker: SimMarker = { textract: "read", face: 60, name: "Thandi Nkosi" };
    const jpeg = await simImage(marker);
    const png = await simImage(marker, { format: "png" });
    expect(imageFormat(jpeg)).toBe("jpeg");
    expect(imageFormat(png)).toBe("png");
    expect((await sharp(jpeg).metadata()).format).toBe("jpeg");
    expect((await sharp(png).metadata()).width).toBe(160);
    expect(readSimMarker(jpeg)).toEqual(marker);
    expect(readSimMarker(png)).toEqual(marker);
    expect(readSimMarker(await simImage())).toBeNull();
  });
});

describe("Textract AnalyzeID", () => {
  test("a confident read, normalized: names, the document number, the date of birth from NormalizedValue", async () => {
    const read = await textract.read(
      await card({ textract: "read", name: "Thandi Zanele Nkosi", idNumber: "9805156100123", dob: "1998-05-15" }),
    );
    expect(read.provider).toBe("textract");
    expect(read.fields).toEqual({
      firstName: "Thandi",
      middleName: "Zanele",
      lastName: "Nkosi",
      idNumber: "9805156100123",
      dateOfBirth: "1998-05-15",
      expirationDate: null,
    });
    expect(read.confidence.firstName).toBeGreaterThan(95);
    expect(read.confidence.dateOfBirth).toBeGreaterThan(95);
    expect(read.confidence.expirationDate).toBeUndefined();
    expect(read.rawFieldTypes).toContain("DOCUMENT_NUMBER");
    expect(read.requestId).toBeString();
    expect(weakIdFields(read, 90)).toEqual([]);
    const [request] = aws.simulator.requests;
    expect(request!.target).toBe("Textract.AnalyzeID");
    expect(request!.images).toEqual([{ role: "page", bytes: expect.any(Number), format: "jpeg" }]);
  });

  test("front and back go as two pages", async () => {
    const images = await card({ textract: "read" });
    images.back = { bytes: await simImage(), contentType: "image/jpeg" };
    const read = await textract.read(images);
    expect(read.fields.idNumber).toBe(DEMO_PERSON.idNumber);
    expect(aws.simulator.requests[0]!.images.map((i) => i.role)).toEqual(["page", "page"]);
  });

  test("an unmarked card (what a real Eswatini ID gets): every field empty, so every required field is weak", async () => {
    const read = await textract.read(await card());
    expect(Object.values(read.fields).every((v) => v === null)).toBe(true);
    expect(read.confidence).toEqual({});
    expect(weakIdFields(read, 90)).toEqual(["firstName", "lastName", "idNumber", "dateOfBirth"]);
  });

  test("a low-confidence read is weak", async () => {
    const read = await textract.read(await card({ textract: "low" }));
    expect(read.fields.lastName).toBe(DEMO_PERSON.lastName);
    expect(weakIdFields(read, 90)).toEqual(["firstName", "lastName", "idNumber", "dateOfBirth"]);
  });

  test("throttled, with maxAttempts 1 → one request, a typed throttled error", async () => {
    for (const textractOutcome of ["throttle", "throughput"] as const) {
      aws.simulator.reset();
      const error = await failure(textract.read(await card({ textract: textractOutcome })));
      expect(error.provider).toBe("textract");
      expect(error.kind).toBe("throttled");
      expect(error.retryable).toBe(true);
      expect(error.details.code).toBe(
        textractOutcome === "throttle" ? "ThrottlingException" : "ProvisionedThroughputExceededException",
      );
      expect(aws.simulator.requests).toHaveLength(1);
    }
  });

  test("maxAttempts is ours: 3 attempts → the SDK retries a throttle twice, then gives up", async () => {
    const reader = createTextractReader(awsOptions(3));
    const error = await failure(reader.read(await card({ textract: "throttle" })));
    expect(error.kind).toBe("throttled");
    expect(aws.simulator.requests).toHaveLength(3);
    reader.close();
  }, 30_000);

  test("500 → unavailable", async () => {
    const error = await failure(textract.read(await card({ textract: "error500" })));
    expect(error).toMatchObject({ provider: "textract", kind: "unavailable", details: { status: 500 } });
  });

  test("an unsupported document → unreadable; a PDF too", async () => {
    expect((await failure(textract.read(await card({ textract: "unsupported" })))).kind).toBe("unreadable");
    const pdf = new TextEncoder().encode("%PDF-1.7\n%keshless\n");
    expect((await failure(textract.read({ front: { bytes: pdf, contentType: "application/pdf" } }))).kind).toBe(
      "unreadable",
    );
  });

  test("nobody listening → unavailable", async () => {
    const reader = createTextractReader({ ...awsOptions(), endpoint: "http://127.0.0.1:9" });
    expect((await failure(reader.read(await card({ textract: "read" })))).kind).toBe("unavailable");
    reader.close();
  });
});

describe("Gemini generateContent", () => {
  test("an unmarked card reads the demo person, validated, with the key header and the image inline", async () => {
    const read = await geminiReader.read(await card());
    expect(read.provider).toBe("gemini");
    expect(read.fields).toEqual({ ...DEMO_PERSON, expirationDate: null });
    expect(read.confidence.idNumber).toBeGreaterThan(90);
    expect(weakIdFields(read, 90)).toEqual([]);
    const [request] = gemini.simulator.requests;
    expect(request).toMatchObject({ model: "gemini-2.5-flash", status: 200 });
    expect(request!.images).toEqual([{ mimeType: "image/jpeg", bytes: expect.any(Number), format: "jpeg" }]);
  });

  test("a marked card reads the marked person; low confidence is weak", async () => {
    const read = await geminiReader.read(
      await card({ name: "Thandi Nkosi", idNumber: "9805156100123", dob: "1998-05-15" }),
    );
    expect(read.fields).toMatchObject({ firstName: "Thandi", lastName: "Nkosi", idNumber: "9805156100123" });
    const low = await geminiReader.read(await card({ gemini: "low" }));
    expect(weakIdFields(low, 80)).toEqual(["firstName", "lastName", "idNumber", "dateOfBirth"]);
  });

  test("text that is not JSON, and JSON off the schema → invalid, never a crash", async () => {
    for (const outcome of ["garbage", "badshape"] as const) {
      const error = await failure(geminiReader.read(await card({ gemini: outcome })));
      expect(error).toMatchObject({ provider: "gemini", kind: "invalid" });
      expect(error.retryable).toBe(false);
      expect(error.message).not.toContain("SIPHO");
    }
  });

  test("429 → throttled with the provider's retry delay; 500 → unavailable", async () => {
    const throttled = await failure(geminiReader.read(await card({ gemini: "error429" })));
    expect(throttled).toMatchObject({
      kind: "throttled",
      details: { status: 429, code: "RESOURCE_EXHAUSTED", retryAfterMs: 1000 },
    });
    const down = await failure(geminiReader.read(await card({ gemini: "error500" })));
    expect(down).toMatchObject({ kind: "unavailable", details: { status: 500 } });
  });

  test("a blocked prompt → unreadable", async () => {
    expect((await failure(geminiReader.read(await card({ gemini: "blocked" })))).kind).toBe("unreadable");
  });

  test("no key → the simulator refuses (403), which is our outage: unavailable", async () => {
    const reader = createGeminiReader({ baseUrl: gemini.url, apiKey: "", model: "gemini-2.5-flash", timeoutMs: 5_000 });
    expect((await failure(reader.read(await card()))).kind).toBe("unavailable");
    expect(gemini.simulator.requests[0]!.status).toBe(403);
  });

  test("in process through fetch, and a timeout → unavailable", async () => {
    const simulator = createGeminiSimulator();
    const reader = createGeminiReader({
      baseUrl: "http://gemini.invalid",
      apiKey: "k",
      model: "models/gemini-2.5-flash",
      timeoutMs: 5_000,
      fetch: simulator.fetchLike,
    });
    expect((await reader.read(await card())).fields.idNumber).toBe(DEMO_PERSON.idNumber);
    const slow = createGeminiReader({
      baseUrl: "http://gemini.invalid",
      apiKey: "k",
      model: "gemini-2.5-flash",
      timeoutMs: 50,
      fetch: (_input, init) =>
        new Promise((_resolve, reject) => init?.signal?.addEventListener("abort", () => reject(init.signal!.reason))),
    });
    const error = await failure(slow.read(await card()));
    expect(error).toMatchObject({ kind: "unavailable", details: { code: "TimeoutError" } });
  });
});

describe("Rekognition CompareFaces", () => {
  const compare = async (selfie: SimMarker | undefined) =>
    faces.compare({ selfie: await simImage(selfie), idFront: await simImage() });

  test("99.3, 60, and no face", async () => {
    expect(await compare(undefined)).toMatchObject({ outcome: "compared", similarity: 99.3, unmatchedFaces: 0 });
    expect(await compare({ face: 60 })).toMatchObject({
      outcome: "compared",
      similarity: 60,
      sourceFaceConfidence: 99.99,
    });
    expect(await compare({ face: "none" })).toEqual({
      outcome: "no_face",
      similarity: null,
      sourceFaceConfidence: null,
      unmatchedFaces: 0,
      downscaled: false,
      requestId: expect.any(String),
    });
    expect(aws.simulator.requests.map((r) => [r.target, r.status])).toEqual([
      ["RekognitionService.CompareFaces", 200],
      ["RekognitionService.CompareFaces", 200],
      ["RekognitionService.CompareFaces", 400],
    ]);
  });

  test("throttled and 500 are errors, not results", async () => {
    expect((await failure(compare({ face: "throttle" }))).kind).toBe("throttled");
    expect((await failure(compare({ face: "error500" }))).kind).toBe("unavailable");
  });

  test("a 6 MB selfie is downscaled below the 5 MB limit before it is sent", async () => {
    const big = await simImage({ face: 99.3 }, { width: 2600, height: 2000, noise: true, quality: 100 });
    expect(big.byteLength).toBeGreaterThan(6_000_000);
    const result = await faces.compare({ selfie: big, idFront: await simImage() });
    expect(result).toMatchObject({ outcome: "compared", similarity: 99.3, downscaled: true });
    const [request] = aws.simulator.requests;
    const source = request!.images.find((i) => i.role === "source")!;
    expect(source.format).toBe("jpeg");
    expect(source.bytes).toBeLessThanOrEqual(AWS_INLINE_IMAGE_MAX_BYTES);
    expect(source.bytes).toBeGreaterThan(100_000);
    // And the fake holds the line as Rekognition does: the same bytes sent as they are are refused.
    const refused = await faces.client
      .send(new CompareFacesCommand({ SourceImage: { Bytes: big }, TargetImage: { Bytes: await simImage() } }))
      .catch((error: Error) => error);
    expect(refused).toMatchObject({ name: "ImageTooLargeException" });
  }, 30_000);
});

describe("images and dates", () => {
  test("fitWithin keeps a small image as it is and shrinks a big one to a decodable JPEG", async () => {
    const small = await simImage();
    expect(await fitWithin(small, 1_000_000)).toBe(small);
    const png = await simImage(null, { format: "png", width: 900, height: 700, noise: true });
    const fitted = await fitWithin(png, 400_000);
    expect(fitted.byteLength).toBeLessThanOrEqual(400_000);
    expect(imageFormat(fitted)).toBe("jpeg");
    expect((await sharp(fitted).metadata()).width).toBeGreaterThan(80);
    await expect(fitWithin(new Uint8Array(2_000).fill(7), 1_000)).rejects.toThrow("not a decodable image");
  });

  test("printed dates: ISO and unambiguous orders only", () => {
    expect(parseDocumentDate("2000-01-28T00:00:00")).toBe("2000-01-28");
    expect(parseDocumentDate("28/01/2000")).toBe("2000-01-28");
    expect(parseDocumentDate("01-28-2000")).toBe("2000-01-28");
    expect(parseDocumentDate("28 JAN 2000")).toBe("2000-01-28");
    expect(parseDocumentDate("01-05-1948")).toBeNull();
    expect(parseDocumentDate("2000-02-30")).toBeNull();
    expect(parseDocumentDate("")).toBeNull();
  });
});

test("the adapters log counts and ids, never names, ID numbers, dates of birth or image bytes", async () => {
  const lines: string[] = [];
  const logger = pino({ level: "debug" }, { write: (line: string) => lines.push(line) });
  const options = { ...awsOptions(), logger };
  const person: SimMarker = { name: "Thandi Nkosi", idNumber: "9805156100123", dob: "1998-05-15" };
  const image = await simImage({ ...person, textract: "read" });
  await createTextractReader(options).read({ front: { bytes: image, contentType: "image/jpeg" } });
  await failure(createTextractReader(options).read(await card({ textract: "throttle" })));
  await createFaceMatcher(options).compare({ selfie: image, idFront: image });
  const reader = createGeminiReader({ baseUrl: gemini.url, apiKey: "k", model: "m", timeoutMs: 5_000, logger });
  await reader.read({ front: { bytes: image, contentType: "image/jpeg" } });
  await failure(reader.read(await card({ gemini: "garbage" })));
  const log = lines.join("");
  expect(lines.length).toBeGreaterThanOrEqual(5);
  for (const secret of [
    "Thandi",
    "Nkosi",
    "9805156100123",
    "1998-05-15",
    "15/05/1998",
    Buffer.from(image).toString("base64").slice(0, 40),
  ])
    expect(log).not.toContain(secret);
});
