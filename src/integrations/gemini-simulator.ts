import { randomUUID } from "node:crypto";
import { readSimMarker, type SimMarker, simPerson } from "./aws-simulator";
import type { Fetch } from "./eneza";
import { imageFormat } from "./images";

/**
 * A local Gemini answering REST `POST /v1beta/models/{model}:generateContent` (INTEGRATIONS.md §6): the
 * development default and the tests' fake, so the real reader code (gemini.ts) always runs. It wants the
 * `x-goog-api-key` header (missing → 403 PERMISSION_DENIED), an inline image and a JSON response schema
 * (missing → 400 INVALID_ARGUMENT), and answers with one candidate whose text is the JSON, as Gemini does.
 *
 * What it answers is decided by the first image carrying a marker (`keshless-sim:{…}`, see aws-simulator.ts
 * and its simImage()):
 * - no marker, or "gemini":"read": the person read at confidence ~97 — for an unmarked card the demo person
 *   SIPHO DLAMINI, ID 0001282100635, born 2000-01-28; otherwise the marker's name / idNumber / dob.
 *   Submitting ID number 0001282100635 with any photo therefore approves; any other number goes to review;
 * - "low": the same fields at confidence ~40 (→ review);
 * - "error429": 429 RESOURCE_EXHAUSTED with a RetryInfo of 1 s; "error500": 500 INTERNAL;
 * - "garbage": a candidate whose text is not JSON; "badshape": JSON that does not follow the schema;
 * - "blocked": no candidate, promptFeedback.blockReason SAFETY.
 */

export interface GeminiSimulatedRequest {
  model: string;
  status: number;
  /** Sizes and types of the inline images: the simulator keeps no bytes. */
  images: Array<{ mimeType: string; bytes: number; format: string | null }>;
  at: Date;
}

const KEEP_REQUESTS = 100;

const googleError = (code: number, status: string, message: string, details?: unknown[]) =>
  Response.json({ error: { code, message, status, ...(details ? { details } : {}) } }, { status: code });

function candidate(text: string, model: string) {
  return Response.json({
    candidates: [{ content: { parts: [{ text }], role: "model" }, finishReason: "STOP", index: 0 }],
    usageMetadata: { promptTokenCount: 1290, candidatesTokenCount: 96, totalTokenCount: 1386 },
    modelVersion: model,
    responseId: randomUUID().replaceAll("-", "").slice(0, 22),
  });
}

function answer(marker: SimMarker | null, model: string): Response {
  const outcome = marker?.gemini ?? "read";
  switch (outcome) {
    case "error429":
      return googleError(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).", [
        { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" },
      ]);
    case "error500":
      return googleError(500, "INTERNAL", "An internal error has occurred. Please retry or report.");
    case "garbage":
      return candidate("Sure! Here is what I can read on the card: name Sipho, number 000128…", model);
    case "badshape":
      return candidate(JSON.stringify({ name: "SIPHO DLAMINI", confidence: "high" }), model);
    case "blocked":
      return Response.json({
        promptFeedback: { blockReason: "SAFETY" },
        usageMetadata: { promptTokenCount: 1290, totalTokenCount: 1290 },
        modelVersion: model,
      });
    default: {
      const person = simPerson(marker);
      const c = outcome === "low" ? 40 : 97;
      return candidate(
        JSON.stringify({
          firstName: person.firstName,
          middleName: person.middleName,
          lastName: person.lastName,
          idNumber: person.idNumber,
          dateOfBirth: person.dateOfBirth,
          expirationDate: null,
          confidence: {
            firstName: c,
            ...(person.middleName ? { middleName: c } : {}),
            lastName: c,
            idNumber: c - 1,
            dateOfBirth: c - 2,
          },
        }),
        model,
      );
    }
  }
}

export interface GeminiSimulator {
  /** The HTTP handler: serve it with Bun.serve (serveGeminiSimulator), or call it in process. */
  fetch(request: Request): Promise<Response>;
  /** The same handler with fetch's signature, for createGeminiReader({ fetch }) without a port. */
  fetchLike: Fetch;
  /** The latest requests, oldest first (at most 100). */
  requests: GeminiSimulatedRequest[];
  reset(): void;
}

export function createGeminiSimulator(): GeminiSimulator {
  const requests: GeminiSimulatedRequest[] = [];

  async function route(request: Request, record: Omit<GeminiSimulatedRequest, "status" | "at">): Promise<Response> {
    const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(
      decodeURIComponent(new URL(request.url).pathname),
    );
    if (request.method !== "POST" || !match) return googleError(404, "NOT_FOUND", "Method not found.");
    record.model = match[1]!;
    if (!request.headers.get("x-goog-api-key"))
      return googleError(
        403,
        "PERMISSION_DENIED",
        "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
      );
    let body: any;
    try {
      body = await request.json();
    } catch {
      return googleError(400, "INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const parts: any[] = (body?.contents ?? []).flatMap((c: any) => (Array.isArray(c?.parts) ? c.parts : []));
    const inline = parts.filter((p) => typeof p?.inlineData?.data === "string");
    const images = inline.map((p) => new Uint8Array(Buffer.from(p.inlineData.data, "base64")));
    record.images = inline.map((p, i) => ({
      mimeType: String(p.inlineData.mimeType ?? ""),
      bytes: images[i]!.byteLength,
      format: imageFormat(images[i]!),
    }));
    if (!parts.some((p) => typeof p?.text === "string") || images.length === 0)
      return googleError(400, "INVALID_ARGUMENT", "contents must hold a text instruction and an inline image.");
    if (inline.some((p) => !p.inlineData.mimeType))
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "* GenerateContentRequest.contents[0].parts[1].inline_data.mime_type: required field is not set.",
      );
    const config = body?.generationConfig;
    if (config?.responseMimeType !== "application/json" || typeof config?.responseSchema !== "object")
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "generationConfig needs responseMimeType application/json and a responseSchema.",
      );
    const marker = images.map((b) => readSimMarker(b)).find((m) => m !== null) ?? null;
    return answer(marker, record.model);
  }

  async function handle(request: Request): Promise<Response> {
    const record: Omit<GeminiSimulatedRequest, "status" | "at"> = { model: "", images: [] };
    const response = await route(request, record);
    requests.push({ ...record, status: response.status, at: new Date() });
    if (requests.length > KEEP_REQUESTS) requests.splice(0, requests.length - KEEP_REQUESTS);
    return response;
  }

  return {
    fetch: handle,
    fetchLike: async (input, init) => {
      init?.signal?.throwIfAborted();
      return handle(new Request(input, init));
    },
    requests,
    reset() {
      requests.length = 0;
    },
  };
}

/** A real HTTP server on 127.0.0.1 (port 0: any free port); its `url` is the reader's baseUrl. */
export function serveGeminiSimulator(simulator: GeminiSimulator = createGeminiSimulator(), port = 0) {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    fetch: simulator.fetch,
    idleTimeout: 0,
    maxRequestBodySize: 64 * 1024 * 1024,
  });
  return { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true), simulator };
}
