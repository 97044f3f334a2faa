/**
 * A wire-level fake of Google Cloud Storage for the adapter in src/integrations/storage/gcs.ts: the XML API
 * that V4-signed URLs are used on, and the JSON API calls the library makes for stat, ranged and whole
 * reads, resumable uploads, delete and list. Unlike fake-gcs-server (INTEGRATIONS.md §7) it VERIFIES every
 * signed URL as GCS does — GOOG4-RSA-SHA256 over the canonical request, with the service account's public
 * key, X-Goog-Date + X-Goog-Expires against its own clock, every signed header as sent — and enforces
 * `x-goog-content-length-range` on the bytes it receives. It refuses V2-signed URLs outright, so a test
 * passes only if the adapter signs V4.
 *
 * JSON API calls are not authenticated: with a custom endpoint the library sends no credentials, as it
 * would to an emulator.
 */
import { createHash, generateKeyPairSync, type KeyObject, verify } from "node:crypto";
import { CRC32C } from "@google-cloud/storage";

export interface ServiceAccount {
  client_email: string;
  private_key: string;
  publicKey: KeyObject;
}

/** A throwaway service account key: the adapter signs with the private half, the fake verifies with the public. */
export function throwawayServiceAccount(email = "keshless-test@keshless-test.iam.gserviceaccount.com"): ServiceAccount {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return {
    client_email: email,
    private_key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicKey,
  };
}

export interface FakeObject {
  data: Uint8Array;
  contentType: string | null;
  updated: Date;
  generation: number;
}

export interface RecordedGcsRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Headers;
  /** Media bytes this fake sent in its answer. */
  bytesSent: number;
}

export interface FakeGcs {
  /** The `apiEndpoint` to give the adapter; signed URLs then point here too. */
  url: string;
  /** Stored objects by `<bucket>/<name>`. */
  objects: Map<string, FakeObject>;
  requests: RecordedGcsRequest[];
  /** Added to the real clock when checking a URL's date and expiry: tests move time with it. */
  clockOffsetMs: number;
  /** Objects per list page, so the adapter's pagination is exercised. */
  pageSize: number;
  /** Resolves once at least `bytes` of an upload to `<bucket>/<name>` have arrived (not yet stored). */
  uploadReached(bucket: string, name: string, bytes: number): Promise<void>;
  /** Media reads of `<bucket>/<name>` send `afterBytes` bytes, then wait for the returned release(). */
  holdDownload(bucket: string, name: string, afterBytes: number): () => void;
  put(bucket: string, name: string, data: Uint8Array, contentType?: string): void;
  stop(): Promise<void>;
}

const SEVEN_DAYS = 604_800;
const CHUNK = 64 * 1024;

export function startFakeGcs(account: Pick<ServiceAccount, "client_email" | "publicKey">): FakeGcs {
  let generation = 1;
  const progress = new Map<string, number>();
  const waiters: { path: string; bytes: number; resolve: () => void }[] = [];
  const holds = new Map<string, { afterBytes: number; released: Promise<void> }>();
  const sessions = new Map<string, { bucket: string; name: string; contentType: string | null }>();

  const received = (path: string, bytes: number) => {
    progress.set(path, bytes);
    for (const waiter of waiters.filter((w) => w.path === path && bytes >= w.bytes)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };

  const fake: FakeGcs = {
    url: "",
    objects: new Map(),
    requests: [],
    clockOffsetMs: 0,
    pageSize: 1000,
    uploadReached(bucket, name, bytes) {
      const path = `${bucket}/${name}`;
      if ((progress.get(path) ?? 0) >= bytes) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ path, bytes, resolve }));
    },
    holdDownload(bucket, name, afterBytes) {
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      holds.set(`${bucket}/${name}`, { afterBytes, released });
      return () => {
        holds.delete(`${bucket}/${name}`);
        release();
      };
    },
    put(bucket, name, data, contentType = "application/octet-stream") {
      fake.objects.set(`${bucket}/${name}`, { data, contentType, updated: new Date(), generation: generation++ });
    },
    stop: async () => {},
  };

  /** Reads a request body chunk by chunk, counting, refusing past `max` before storing anything. */
  async function receive(request: Request, path: string, max: number): Promise<Uint8Array | null> {
    const chunks: Uint8Array[] = [];
    let length = 0;
    const reader = request.body?.getReader();
    try {
      for (let next = await reader?.read(); next && !next.done; next = await reader!.read()) {
        length += next.value.byteLength;
        if (length > max) return null;
        chunks.push(next.value);
        received(path, length);
      }
      return Buffer.concat(chunks);
    } finally {
      progress.delete(path);
    }
  }

  function store(bucket: string, name: string, data: Uint8Array, contentType: string | null) {
    const object = { data, contentType, updated: new Date(), generation: generation++ };
    fake.objects.set(`${bucket}/${name}`, object);
    return object;
  }

  /** The object's bytes from `start`, chunk by chunk, pausing where a test holds the download. */
  function media(path: string, data: Uint8Array, record: RecordedGcsRequest): ReadableStream<Uint8Array> {
    let at = 0;
    const hold = holds.get(path);
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (at >= data.byteLength) return controller.close();
          if (hold && at >= hold.afterBytes) await hold.released;
          const end = Math.min(data.byteLength, at + CHUNK, hold && at < hold.afterBytes ? hold.afterBytes : Infinity);
          controller.enqueue(data.slice(at, end));
          record.bytesSent += end - at;
          at = end;
        },
      },
      { highWaterMark: 0 },
    );
  }

  function mediaResponse(path: string, object: FakeObject, request: Request, record: RecordedGcsRequest) {
    const size = object.data.byteLength;
    const headers: Record<string, string> = {
      "Content-Type": object.contentType ?? "application/octet-stream",
      "x-goog-generation": String(object.generation),
    };
    const range = /^bytes=(\d+)-(\d*)$/.exec(request.headers.get("range") ?? "");
    if (range) {
      const start = Number(range[1]);
      if (start >= size) return xmlError(416, "InvalidRange", "The requested range cannot be satisfied.");
      const end = Math.min(size - 1, range[2] ? Number(range[2]) : size - 1);
      const slice = object.data.subarray(start, end + 1);
      return new Response(media(path, slice, record), {
        status: 206,
        headers: {
          ...headers,
          "Content-Range": `bytes ${start}-${end}/${size}`,
          "Content-Length": String(slice.length),
        },
      });
    }
    // Whole reads carry the object's CRC32C, so the library checks the bytes it streamed end to end.
    return new Response(media(path, object.data, record), {
      headers: {
        ...headers,
        "Content-Length": String(size),
        "x-goog-stored-content-encoding": "identity",
        "x-goog-hash": `crc32c=${crc32c(object.data)}`,
      },
    });
  }

  const resource = (bucket: string, name: string, object: FakeObject) => ({
    kind: "storage#object",
    id: `${bucket}/${name}/${object.generation}`,
    name,
    bucket,
    generation: String(object.generation),
    metageneration: "1",
    contentType: object.contentType ?? undefined,
    size: String(object.data.byteLength),
    crc32c: crc32c(object.data),
    timeCreated: object.updated.toISOString(),
    updated: object.updated.toISOString(),
  });

  async function xmlApi(request: Request, url: URL, record: RecordedGcsRequest): Promise<Response> {
    const [, bucket, ...rest] = url.pathname.split("/");
    const name = decodeURIComponent(rest.join("/"));
    const path = `${bucket}/${name}`;
    const refused = verifySignedUrl(request, url, account, new Date(Date.now() + fake.clockOffsetMs));
    if (refused) return refused;
    if (request.method === "GET") {
      const object = fake.objects.get(path);
      if (!object) return xmlError(404, "NoSuchKey", "The specified key does not exist.");
      return mediaResponse(path, object, request, record);
    }
    if (request.method !== "PUT") return xmlError(405, "MethodNotAllowed", "Only GET and PUT are faked.");
    const range = /^(\d+),(\d+)$/.exec(request.headers.get("x-goog-content-length-range") ?? "");
    const [min, max] = range ? [Number(range[1]), Number(range[2])] : [0, Number.POSITIVE_INFINITY];
    const declared = request.headers.get("content-length");
    if (declared !== null && (Number(declared) > max || Number(declared) < min))
      return xmlError(400, "EntityTooLarge", "Your proposed upload is outside x-goog-content-length-range.");
    const data = await receive(request, path, max);
    if (!data || data.byteLength < min)
      return xmlError(400, "EntityTooLarge", "Your upload is outside x-goog-content-length-range.");
    store(bucket!, name, data, request.headers.get("content-type"));
    return new Response(null, { status: 200 });
  }

  async function jsonApi(request: Request, url: URL, record: RecordedGcsRequest): Promise<Response> {
    const q = url.searchParams;
    const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (upload && request.method === "POST" && q.get("uploadType") === "resumable") {
      const metadata = ((await request.json().catch(() => ({}))) ?? {}) as { contentType?: string };
      const id = crypto.randomUUID();
      const contentType = request.headers.get("x-upload-content-type") ?? metadata.contentType ?? null;
      sessions.set(id, { bucket: upload[1]!, name: q.get("name") ?? "", contentType });
      const location = `${fake.url}/upload/storage/v1/b/${upload[1]}/o?uploadType=resumable&upload_id=${id}`;
      return new Response(null, { status: 200, headers: { Location: location } });
    }
    if (upload && request.method === "PUT") {
      const session = sessions.get(q.get("upload_id") ?? "");
      if (!session) return jsonError(404, "No such upload session.");
      // One request carrying the whole stream (`bytes 0-*/*`): what the library sends without a chunkSize.
      if (!/^bytes 0-(\*|\d+)\/(\*|\d+)$/.test(request.headers.get("content-range") ?? ""))
        return jsonError(400, `This fake takes single-request uploads, not ${request.headers.get("content-range")}.`);
      const data = await receive(request, `${session.bucket}/${session.name}`, Number.POSITIVE_INFINITY);
      sessions.delete(q.get("upload_id")!);
      const object = store(session.bucket, session.name, data!, session.contentType);
      return Response.json(resource(session.bucket, session.name, object));
    }

    const one = /^\/storage\/v1\/b\/([^/]+)\/o\/(.+)$/.exec(url.pathname);
    if (one) {
      const [bucket, name] = [one[1]!, decodeURIComponent(one[2]!)];
      const path = `${bucket}/${name}`;
      const object = fake.objects.get(path);
      if (request.method === "DELETE") {
        if (!fake.objects.delete(path)) return jsonError(404, `No such object: ${path}`);
        return new Response(null, { status: 204 });
      }
      if (request.method !== "GET") return jsonError(405, "Not faked.");
      if (!object) return jsonError(404, `No such object: ${path}`);
      if (q.get("alt") === "media") return mediaResponse(path, object, request, record);
      return Response.json(resource(bucket, name, object));
    }

    const list = /^\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
    if (list && request.method === "GET") {
      const bucket = list[1]!;
      const prefix = q.get("prefix") ?? "";
      const names = [...fake.objects.keys()]
        .filter((path) => path.startsWith(`${bucket}/${prefix}`))
        .map((path) => path.slice(bucket.length + 1))
        .sort();
      const from = Number(q.get("pageToken") ?? 0);
      const page = names.slice(from, from + fake.pageSize);
      const next = from + fake.pageSize < names.length ? String(from + fake.pageSize) : undefined;
      return Response.json({
        kind: "storage#objects",
        items: page.map((name) => resource(bucket, name, fake.objects.get(`${bucket}/${name}`)!)),
        ...(next ? { nextPageToken: next } : {}),
      });
    }
    return jsonError(404, `Not faked: ${request.method} ${url.pathname}`);
  }

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      const url = new URL(request.url);
      const record = { method: request.method, path: url.pathname, query: url.searchParams, headers: request.headers };
      const recorded: RecordedGcsRequest = { ...record, bytesSent: 0 };
      fake.requests.push(recorded);
      const isJsonApi = url.pathname.startsWith("/storage/v1/") || url.pathname.startsWith("/upload/storage/v1/");
      return isJsonApi ? jsonApi(request, url, recorded) : xmlApi(request, url, recorded);
    },
  });
  fake.url = `http://127.0.0.1:${server.port}`;
  fake.stop = async () => {
    await server.stop(true);
  };
  return fake;
}

/**
 * GCS's check of a V4-signed URL (https://cloud.google.com/storage/docs/access-control/signed-urls), as
 * a refusal in GCS's own XML error shape, or null when the URL is good for this request at `now`.
 */
export function verifySignedUrl(
  request: Request,
  url: URL,
  account: Pick<ServiceAccount, "client_email" | "publicKey">,
  now: Date,
): Response | null {
  const q = url.searchParams;
  if (q.has("GoogleAccessId") || q.has("Signature"))
    return xmlError(400, "V2SignatureRefused", "This fake accepts V4-signed URLs only; this one is V2.");
  if (q.get("X-Goog-Algorithm") !== "GOOG4-RSA-SHA256")
    return xmlError(400, "InvalidArgument", "X-Goog-Algorithm must be GOOG4-RSA-SHA256.");
  const [email, day, location, service, kind, ...extra] = (q.get("X-Goog-Credential") ?? "").split("/");
  const date = q.get("X-Goog-Date") ?? "";
  const expires = Number(q.get("X-Goog-Expires"));
  const signedHeaders = (q.get("X-Goog-SignedHeaders") ?? "").split(";");
  const signature = q.get("X-Goog-Signature") ?? "";
  if (
    email !== account.client_email ||
    location !== "auto" ||
    service !== "storage" ||
    kind !== "goog4_request" ||
    extra.length ||
    !/^\d{8}T\d{6}Z$/.test(date) ||
    day !== date.slice(0, 8) ||
    !Number.isInteger(expires) ||
    expires < 1 ||
    expires > SEVEN_DAYS ||
    !signedHeaders.includes("host") ||
    !/^[0-9a-f]+$/.test(signature)
  )
    return xmlError(400, "AuthenticationRequired", "The credential, date, lifetime or signed headers are malformed.");

  const start = Date.UTC(
    Number(date.slice(0, 4)),
    Number(date.slice(4, 6)) - 1,
    Number(date.slice(6, 8)),
    Number(date.slice(9, 11)),
    Number(date.slice(11, 13)),
    Number(date.slice(13, 15)),
  );
  if (now.getTime() < start) return xmlError(400, "RequestNotYetValid", "The URL is not valid yet.");
  if (now.getTime() >= start + expires * 1000)
    return xmlError(400, "ExpiredToken", `The provided token has expired: signed ${date} for ${expires} s.`);

  // Our adapter's rule, checked here so a test proves it: an upload URL pins its type and its size.
  if (request.method === "PUT")
    for (const required of ["content-type", "x-goog-content-length-range"])
      if (!signedHeaders.includes(required))
        return xmlError(403, "UnsignedUploadHeader", `An upload URL must sign ${required}.`);

  const canonicalHeaders: string[] = [];
  for (const name of signedHeaders) {
    // The library signs the host without a port (GCS has none); the fake listens on one.
    const value =
      name === "host" ? (request.headers.get("host") ?? "").replace(/:\d+$/, "") : request.headers.get(name);
    if (value === null) return xmlError(403, "SignatureDoesNotMatch", `The signed header ${name} was not sent.`);
    canonicalHeaders.push(`${name}:${value.trim().replace(/\s{2,}/g, " ")}\n`);
  }
  const canonicalQuery = [...q.entries()]
    .filter(([name]) => name !== "X-Goog-Signature")
    .map(([name, value]) => [strictEncode(name), strictEncode(value)] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  const canonicalRequest = [
    request.method,
    url.pathname,
    canonicalQuery,
    canonicalHeaders.join(""),
    signedHeaders.join(";"),
    "UNSIGNED-PAYLOAD",
  ].join("\n");
  const stringToSign = [
    "GOOG4-RSA-SHA256",
    date,
    `${day}/auto/storage/goog4_request`,
    createHash("sha256").update(canonicalRequest).digest("hex"),
  ].join("\n");
  if (!verify("RSA-SHA256", Buffer.from(stringToSign), account.publicKey, Buffer.from(signature, "hex")))
    return xmlError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match.");
  return null;
}

/** RFC 3986 percent-encoding, as V4's canonical query string wants it. */
const strictEncode = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const crc32c = (data: Uint8Array) => {
  const hash = new CRC32C();
  hash.update(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  return hash.toString();
};

const xmlError = (status: number, code: string, message: string) =>
  new Response(
    `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    {
      status,
      headers: { "Content-Type": "application/xml; charset=UTF-8" },
    },
  );

const jsonError = (status: number, message: string) =>
  Response.json(
    {
      error: {
        code: status,
        message,
        errors: [{ message, domain: "global", reason: status === 404 ? "notFound" : "invalid" }],
      },
    },
    { status },
  );
