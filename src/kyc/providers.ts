import type { Core } from "../core";
import { SIMULATOR_CREDENTIALS, serveAwsSimulator } from "../integrations/aws-simulator";
import { createGeminiReader } from "../integrations/gemini";
import { createGeminiSimulator } from "../integrations/gemini-simulator";
import { type IdRead, type IdReader, isProviderError } from "../integrations/kyc-types";
import { createFaceMatcher, type FaceMatcher } from "../integrations/rekognition";
import { createTextractReader } from "../integrations/textract";
import type { DocumentRead } from "./checks";
import type { Image, KycProviders, ProviderFailure } from "./verify";

const toRead = (read: IdRead): DocumentRead => ({
  provider: read.provider,
  fields: {
    firstName: read.fields.firstName,
    lastName: read.fields.lastName,
    idNumber: read.fields.idNumber,
    dateOfBirth: read.fields.dateOfBirth,
  },
  confidence: {
    firstName: read.confidence.firstName,
    lastName: read.confidence.lastName,
    idNumber: read.confidence.idNumber,
    dateOfBirth: read.confidence.dateOfBirth,
  },
});

async function attempt<T>(provider: string, fn: () => Promise<T>): Promise<T | ProviderFailure> {
  try {
    return await fn();
  } catch (error) {
    if (isProviderError(error)) return { provider, kind: error.kind, message: error.message };
    return { provider, kind: "unavailable", message: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The real SDK clients, always: AWS Textract and Rekognition at KESHLESS_AWS_ENDPOINT (or AWS), Gemini at
 * KESHLESS_GEMINI_BASE_URL (or Google). Where simulators are on and no endpoint is set (the embedded default),
 * the local simulators answer instead — started on first use, so a process that never checks a document never
 * opens a port. `close` stops what was started.
 */
export function createKycProviders(core: Pick<Core, "config" | "logger">): KycProviders & { close(): void } {
  const { config } = core;
  const logger = core.logger.child({ component: "kyc-providers" });
  let simulator: ReturnType<typeof serveAwsSimulator> | undefined;
  const awsEndpoint = () => {
    if (config.aws.endpoint || !config.simulators) return config.aws.endpoint;
    simulator ??= serveAwsSimulator();
    return simulator.url;
  };
  const aws = () => ({
    region: config.aws.region,
    ...(awsEndpoint() ? { endpoint: awsEndpoint()! } : {}),
    // The simulator accepts its own dummy keys; real AWS takes the configured ones or the environment's.
    ...(config.aws.credentials
      ? { credentials: config.aws.credentials }
      : !config.aws.endpoint && config.simulators
        ? { credentials: SIMULATOR_CREDENTIALS }
        : {}),
    // Our worker decides when to try again (a lease later), so the SDK does not retry on its own.
    maxAttempts: 1,
    logger,
  });
  let textract: IdReader | undefined;
  let faces: FaceMatcher | undefined;
  const geminiSimulator = !config.gemini.baseUrl && config.simulators ? createGeminiSimulator() : undefined;
  const gemini = createGeminiReader({
    baseUrl: config.gemini.baseUrl ?? (geminiSimulator ? "http://gemini.simulator" : config.gemini.defaultBaseUrl),
    apiKey: config.gemini.apiKey ?? "simulator",
    model: config.gemini.model,
    timeoutMs: config.gemini.timeoutMs,
    ...(geminiSimulator ? { fetch: geminiSimulator.fetchLike } : {}),
    logger,
  });
  return {
    analyzeId: (pages: Image[]) =>
      attempt("textract", async () => {
        textract ??= createTextractReader(aws());
        return toRead(await textract.read({ front: pages[0]!, ...(pages[1] ? { back: pages[1] } : {}) }));
      }),
    readWithGemini: (front: Image) => attempt("gemini", async () => toRead(await gemini.read({ front }))),
    compareFaces: (selfie: Image, idFront: Image) =>
      attempt("rekognition", async () => {
        faces ??= createFaceMatcher(aws());
        const compared = await faces.compare({ selfie: selfie.bytes, idFront: idFront.bytes });
        return { similarity: compared.similarity, noFace: compared.outcome === "no_face" };
      }),
    close() {
      simulator?.stop();
      simulator = undefined;
    },
  };
}
