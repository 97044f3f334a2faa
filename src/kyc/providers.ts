import type { Core } from "../core";
import type { serveAwsSimulator } from "../integrations/aws-simulator";
import { type IdRead, type IdReader, isProviderError } from "../integrations/kyc-types";
import type { FaceMatcher } from "../integrations/rekognition";
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
 * opens a port. The SDKs and the image library (about 80 MB resident together) load on first use too: most
 * instances serve payments and never check a document. `close` stops what was started.
 */
export function createKycProviders(core: Pick<Core, "config" | "logger">): KycProviders & { close(): void } {
  const { config } = core;
  const logger = core.logger.child({ component: "kyc-providers" });
  let simulator: ReturnType<typeof serveAwsSimulator> | undefined;
  const simulated = !config.aws.endpoint && config.simulators;
  const aws = async () => {
    const sim = simulated ? await import("../integrations/aws-simulator") : undefined;
    if (sim) simulator ??= sim.serveAwsSimulator();
    const endpoint = simulator?.url ?? config.aws.endpoint;
    return {
      region: config.aws.region,
      ...(endpoint ? { endpoint } : {}),
      // The simulator accepts its own dummy keys; real AWS takes the configured ones or the environment's.
      ...(config.aws.credentials
        ? { credentials: config.aws.credentials }
        : sim
          ? { credentials: sim.SIMULATOR_CREDENTIALS }
          : {}),
      // Our worker decides when to try again (a lease later), so the SDK does not retry on its own.
      maxAttempts: 1,
      logger,
    };
  };
  let textract: IdReader | undefined;
  let faces: FaceMatcher | undefined;
  let gemini: IdReader | undefined;
  const geminiReader = async () => {
    if (gemini) return gemini;
    const { createGeminiReader } = await import("../integrations/gemini");
    const simulator =
      !config.gemini.baseUrl && config.simulators
        ? (await import("../integrations/gemini-simulator")).createGeminiSimulator()
        : undefined;
    gemini = createGeminiReader({
      baseUrl: config.gemini.baseUrl ?? (simulator ? "http://gemini.simulator" : config.gemini.defaultBaseUrl),
      apiKey: config.gemini.apiKey ?? "simulator",
      model: config.gemini.model,
      timeoutMs: config.gemini.timeoutMs,
      ...(simulator ? { fetch: simulator.fetchLike } : {}),
      logger,
    });
    return gemini;
  };
  return {
    analyzeId: (pages: Image[]) =>
      attempt("textract", async () => {
        textract ??= (await import("../integrations/textract")).createTextractReader(await aws());
        return toRead(await textract.read({ front: pages[0]!, ...(pages[1] ? { back: pages[1] } : {}) }));
      }),
    readWithGemini: (front: Image) =>
      attempt("gemini", async () => toRead(await (await geminiReader()).read({ front }))),
    compareFaces: (selfie: Image, idFront: Image) =>
      attempt("rekognition", async () => {
        faces ??= (await import("../integrations/rekognition")).createFaceMatcher(await aws());
        const compared = await faces.compare({ selfie: selfie.bytes, idFront: idFront.bytes });
        return { similarity: compared.similarity, noFace: compared.outcome === "no_face" };
      }),
    close() {
      simulator?.stop();
      simulator = undefined;
    },
  };
}
