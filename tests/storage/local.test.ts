import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { errorBody } from "../../src/http/errors";
import { createRouter } from "../../src/http/router";
import { toAppError } from "../../src/http/to-app-error";
import {
  createLocalStore,
  createStorage,
  isObjectKey,
  type LocalStore,
  localStorageRoutes,
  newObjectKey,
  ObjectNotFoundError,
} from "../../src/integrations/storage";
import { createTestContext } from "../support/harness";

const root = mkdtempSync(join(tmpdir(), "keshless-objects-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let clock = new Date("2026-03-01T10:00:00.000Z");
const now = () => clock;
const later = (seconds: number) => {
  clock = new Date(clock.getTime() + seconds * 1000);
};

const BASE = "http://localhost:8080";
const documents = createLocalStore({ bucket: "keshless-documents", root, baseUrl: BASE, key: "k".repeat(32), now });
const backups = createLocalStore({ bucket: "keshless-backups", root, baseUrl: BASE, key: "k".repeat(32), now });

/** The routes as the app mounts them, with the app's one error shape (src/app.ts onError). */
function storageApp(stores: LocalStore[]) {
  const app = createRouter();
  app.route("/", localStorageRoutes(stores));
  app.onError((error, c) => {
    const appError = toAppError(error);
    if (!appError) return c.json(errorBody("INTERNAL", String(error), "req_test"), 500);
    return c.json(errorBody(appError.code, appError.message, "req_test", appError.details), appError.status);
  });
  return app;
}
const app = storageApp([documents, backups]);

const bytes = (length: number, seed = 1) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
};
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, ...bytes(2000)]);

async function declare(size: number, contentType = "image/jpeg", expiresInSeconds = 900) {
  const key = newObjectKey("kyc/usr_test");
  const upload = await documents.signUpload({ key, contentType, sizeBytes: size, expiresInSeconds });
  return { key, upload };
}

const put = (url: string, body: BodyInit | null, headers: Record<string, string>) =>
  app.request(url, { method: "PUT", body, headers });

async function expectRefused(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const json = (await res.json()) as any;
  expect(json.error.code).toBe(code);
  expect(typeof json.error.message).toBe("string");
  expect(json.error.requestId).toBe("req_test");
}

/** Every file under the bucket's folder, dotfiles (metadata, temp files) included. */
const filesUnder = (dir: string): string[] => {
  try {
    return readdirSync(dir, { recursive: true }).map(String);
  } catch {
    return [];
  }
};

describe("uploads by signed URL", () => {
  test("PUT to the signed URL with its headers stores the object: stat, readHead, read, list", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    expect(upload.method).toBe("PUT");
    expect(upload.url.startsWith(`${BASE}/storage/keshless-documents/${key}?`)).toBe(true);
    expect(upload.headers).toEqual({ "Content-Type": "image/jpeg" });
    expect(upload.expiresAt).toEqual(new Date(clock.getTime() + 900_000));

    const res = await put(upload.url, JPEG, upload.headers);
    expect(res.status).toBe(200);

    const stored = await documents.stat(key);
    expect(stored).toMatchObject({ key, size: JPEG.byteLength, contentType: "image/jpeg" });
    expect(stored!.updatedAt).toBeInstanceOf(Date);
    expect([...(await documents.readHead(key, 4))]).toEqual([0xff, 0xd8, 0xff, 0xe0]);
    expect(await documents.readHead(key, 1_000_000)).toEqual(JPEG);
    expect(await documents.read(key)).toEqual(JPEG);
    expect((await documents.list("kyc/usr_test/")).map((o) => o.key)).toContain(key);
    expect(await backups.list("")).toEqual([]);
  });

  test("a body of exactly the declared size is accepted; one byte more is 413 and nothing is stored", async () => {
    const exact = await declare(100);
    expect((await put(exact.upload.url, bytes(100), { "Content-Type": "image/jpeg" })).status).toBe(200);

    const { key, upload } = await declare(100);
    const withLength = { ...upload.headers, "Content-Length": "101" };
    await expectRefused(await put(upload.url, bytes(101), withLength), 413, "PAYLOAD_TOO_LARGE");
    // No Content-Length: counted while streaming, and refused at the first byte past the limit.
    await expectRefused(await put(upload.url, bytes(101), upload.headers), 413, "PAYLOAD_TOO_LARGE");
    expect(await documents.stat(key)).toBeNull();
    expect(
      filesUnder(join(root, "keshless-documents", dirname(key))).filter((f) => f.includes(key.split("/")[2]!)),
    ).toEqual([]);
  });

  test("a stream far past the limit is cut off, not read to its end, and leaves no temp file", async () => {
    const { key, upload } = await declare(1024 * 1024);
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(bytes(64 * 1024, pulled));
      },
    });
    await expectRefused(await put(upload.url, endless, upload.headers), 413, "PAYLOAD_TOO_LARGE");
    // 1 MiB allowed in 64 KiB chunks: the 17th chunk crossed it; a few more may be in flight, never the rest.
    expect(pulled).toBeLessThan(40);
    expect(await documents.stat(key)).toBeNull();
    expect(filesUnder(join(root, "keshless-documents")).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  test("an expired upload URL is 403, and stores nothing", async () => {
    const { key, upload } = await declare(JPEG.byteLength, "image/jpeg", 60);
    later(59);
    const justInTime = await declare(JPEG.byteLength, "image/jpeg", 1);
    later(1);
    await expectRefused(await put(upload.url, JPEG, upload.headers), 403, "FORBIDDEN");
    await expectRefused(await put(justInTime.upload.url, JPEG, justInTime.upload.headers), 403, "FORBIDDEN");
    expect(await documents.stat(key)).toBeNull();
  });

  test("a changed signature, key, size limit, expiry or declared type is 403", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    const url = new URL(upload.url);
    const tamper = (change: (u: URL) => void) => {
      const copy = new URL(url);
      change(copy);
      return copy.toString();
    };
    const signature = url.searchParams.get("token")!;
    const flipped = (signature[0] === "a" ? "b" : "a") + signature.slice(1);
    const variants = [
      tamper((u) => u.searchParams.set("token", flipped)),
      tamper((u) => u.searchParams.delete("token")),
      tamper((u) => u.searchParams.set("maxLength", String(JPEG.byteLength * 10))),
      tamper((u) => u.searchParams.set("expires", String(Number(u.searchParams.get("expires")) + 3600))),
      tamper((u) => u.searchParams.set("contentType", "application/pdf")),
      tamper((u) => {
        u.pathname = u.pathname.replace(key, newObjectKey("kyc/usr_test"));
      }),
      tamper((u) => {
        u.pathname = u.pathname.replace("keshless-documents", "keshless-backups");
      }),
    ];
    for (const variant of variants) await expectRefused(await put(variant, JPEG, upload.headers), 403, "FORBIDDEN");
    expect(await documents.stat(key)).toBeNull();
  });

  test("another Content-Type than the signed one, or none, is 403", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    await expectRefused(await put(upload.url, JPEG, { "Content-Type": "application/pdf" }), 403, "FORBIDDEN");
    await expectRefused(await put(upload.url, JPEG, {}), 403, "FORBIDDEN");
    expect(await documents.stat(key)).toBeNull();
  });

  test("a read URL cannot upload, and an upload URL cannot read", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    expect((await put(upload.url, JPEG, upload.headers)).status).toBe(200);
    const read = await documents.signRead({ key, expiresInSeconds: 300 });
    await expectRefused(await put(read.url, bytes(10), { "Content-Type": "image/jpeg" }), 403, "FORBIDDEN");
    await expectRefused(await app.request(upload.url), 403, "FORBIDDEN");
    expect(await documents.read(key)).toEqual(JPEG);
  });

  test("over a real socket: a 2 MB upload streams through, one byte over its size is 413", async () => {
    const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: app.fetch });
    try {
      const origin = `http://127.0.0.1:${server.port}`;
      const onServer = (url: string) => url.replace(BASE, origin);
      const body = bytes(2 * 1024 * 1024, 7);
      const ok = await declare(body.byteLength, "application/pdf");
      const res = await fetch(onServer(ok.upload.url), { method: "PUT", body, headers: ok.upload.headers });
      expect(res.status).toBe(200);
      expect(await documents.read(ok.key)).toEqual(body);

      const over = await declare(body.byteLength - 1, "application/pdf");
      const refused = await fetch(onServer(over.upload.url), { method: "PUT", body, headers: over.upload.headers });
      expect(refused.status).toBe(413);
      expect(((await refused.json()) as any).error.code).toBe("PAYLOAD_TOO_LARGE");
      expect(await documents.stat(over.key)).toBeNull();
    } finally {
      await server.stop(true);
    }
  });
});

describe("reads by signed URL", () => {
  test("the read URL serves the bytes with their content type until it expires, then is 403", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    await put(upload.url, JPEG, upload.headers);
    await expect(documents.signRead({ key, expiresInSeconds: 901 })).rejects.toThrow(RangeError);
    const read = await documents.signRead({ key, expiresInSeconds: 900 });
    expect(read.expiresAt).toEqual(new Date(clock.getTime() + 900_000));

    const res = await app.request(read.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/jpeg");
    expect(res.headers.get("content-length")).toBe(String(JPEG.byteLength));
    expect(res.headers.get("cache-control")).toBe("private, no-store");
    expect(res.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(JPEG);

    later(899);
    expect((await app.request(read.url)).status).toBe(200);
    later(1);
    await expectRefused(await app.request(read.url), 403, "FORBIDDEN");
  });

  test("a tampered read URL is 403; a valid one for a deleted object is 404", async () => {
    const { key, upload } = await declare(JPEG.byteLength);
    await put(upload.url, JPEG, upload.headers);
    const read = await documents.signRead({ key, expiresInSeconds: 60 });
    const other = new URL(read.url);
    other.searchParams.set("expires", String(Number(other.searchParams.get("expires")) + 60));
    await expectRefused(await app.request(other.toString()), 403, "FORBIDDEN");

    await documents.delete(key);
    await documents.delete(key); // idempotent
    await expectRefused(await app.request(read.url), 404, "NOT_FOUND");
    expect(await documents.stat(key)).toBeNull();
    await expect(documents.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(documents.readHead(key, 8)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(documents.readStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  test("a URL signed with another secret is 403", async () => {
    const stranger = createLocalStore({ bucket: "keshless-documents", root, baseUrl: BASE, key: "x".repeat(32), now });
    const { key, upload } = await declare(JPEG.byteLength);
    await put(upload.url, JPEG, upload.headers);
    const forged = await stranger.signRead({ key, expiresInSeconds: 60 });
    await expectRefused(await app.request(forged.url), 403, "FORBIDDEN");
  });
});

describe("keys", () => {
  test("new keys carry at least 128 random bits (base64url) and never repeat", () => {
    const keys = Array.from({ length: 2000 }, () => newObjectKey("kyc/usr_1"));
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys.slice(0, 50)) {
      const token = key.slice("kyc/usr_1/".length);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(token.length * 6).toBeGreaterThanOrEqual(128);
      expect(isObjectKey(key)).toBe(true);
    }
    expect(newObjectKey("backups/").startsWith("backups/")).toBe(true);
    expect(newObjectKey("").includes("/")).toBe(false);
  });

  test("no key leaves its bucket's folder: traversal, absolute, dotfile and encoded keys are refused", async () => {
    const bad = [
      "../x",
      "a/../../b",
      "/etc/passwd",
      "a//b",
      "a/",
      ".a.meta.json",
      "a/.b",
      "..",
      ".",
      "a%2Fb",
      "a b",
      "a\\b",
    ];
    for (const key of bad) {
      expect(isObjectKey(key), key).toBe(false);
      if (!key.endsWith("/")) expect(() => newObjectKey(key)).toThrow(TypeError);
      await expect(documents.stat(key), key).rejects.toThrow(TypeError);
      await expect(documents.write(key, bytes(1), "text/plain"), key).rejects.toThrow(TypeError);
      await expect(
        documents.signUpload({ key, contentType: "image/png", sizeBytes: 1, expiresInSeconds: 60 }),
      ).rejects.toThrow(TypeError);
    }
  });

  test("a URL path that tries to climb out is refused before any file is touched", async () => {
    await documents.write("secret-key", bytes(10), "text/plain");
    const read = await documents.signRead({ key: "secret-key", expiresInSeconds: 60 });
    const query = new URL(read.url).search;
    for (const path of [
      "/storage/keshless-documents/..%2F..%2Fetc%2Fpasswd",
      "/storage/keshless-documents/%2e%2e/keshless-backups/x",
      "/storage/keshless-documents/.secret-key.meta.json",
      "/storage/keshless-documents/a/%2e%2e/%2e%2e/secret-key",
      "/storage/..%2Fkeshless-documents/secret-key",
    ]) {
      const res = await app.request(`${BASE}${path}${query}`);
      expect([403, 404], path).toContain(res.status);
    }
  });

  test("signing refuses bad input: a content type with a line break, a negative size, a lifetime past 7 days", async () => {
    const key = newObjectKey("kyc");
    const sign = (input: Partial<Parameters<LocalStore["signUpload"]>[0]>) =>
      documents.signUpload({ key, contentType: "image/png", sizeBytes: 1, expiresInSeconds: 60, ...input });
    await expect(sign({ contentType: "image/png\r\nX-Evil: 1" })).rejects.toThrow(TypeError);
    await expect(sign({ sizeBytes: -1 })).rejects.toThrow(RangeError);
    await expect(sign({ sizeBytes: 1.5 })).rejects.toThrow(RangeError);
    await expect(sign({ expiresInSeconds: 604_801 })).rejects.toThrow(RangeError);
    await expect(sign({ expiresInSeconds: 0 })).rejects.toThrow(RangeError);
  });
});

describe("write and readStream", () => {
  test("a multi-MB stream reaches the disk chunk by chunk, and reads back as chunks", async () => {
    const key = newObjectKey("backups/2026-03-01");
    const chunk = 256 * 1024;
    const chunks = 24; // 6 MiB
    const folder = join(root, "keshless-backups", "backups", "2026-03-01");
    const onDiskAtPull: number[] = [];
    const tempBytes = () =>
      filesUnder(folder)
        .filter((name) => name.endsWith(".tmp"))
        .reduce((sum, name) => sum + statSync(join(folder, name)).size, 0);
    let produced = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (produced === chunks) return controller.close();
          onDiskAtPull.push(produced === 0 ? 0 : tempBytes());
          controller.enqueue(bytes(chunk, produced++));
        },
      },
      { highWaterMark: 0 },
    );
    const { size } = await backups.write(key, source, "application/octet-stream");
    expect(size).toBe(chunk * chunks);
    // Each pull found the chunks before it already written: the whole stream was never held in memory.
    expect(onDiskAtPull.at(-1)).toBeGreaterThanOrEqual(chunk * (chunks - 2));
    expect(await backups.stat(key)).toMatchObject({ size: chunk * chunks, contentType: "application/octet-stream" });

    const reader = (await backups.readStream(key)).getReader();
    let received = 0;
    let pieces = 0;
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const expected = bytes(chunk, Math.floor(received / chunk)).subarray(received % chunk);
      expect(next.value.subarray(0, Math.min(next.value.byteLength, expected.byteLength))).toEqual(
        expected.subarray(0, Math.min(next.value.byteLength, expected.byteLength)),
      );
      received += next.value.byteLength;
      pieces++;
    }
    expect(received).toBe(chunk * chunks);
    expect(pieces).toBeGreaterThan(1);
    expect(pieces).toBeGreaterThanOrEqual(4);
  });

  test("write of bytes, overwrite, list by prefix, delete", async () => {
    await backups.write("list/a.bin", bytes(3), "application/octet-stream");
    await backups.write("list/b.bin", bytes(5), "text/plain");
    await backups.write("list/b.bin", bytes(7), "application/json");
    await backups.write("lists/c.bin", bytes(1), "text/plain");
    const listed = await backups.list("list/");
    expect(listed.map(({ key, size, contentType }) => ({ key, size, contentType }))).toEqual([
      { key: "list/a.bin", size: 3, contentType: "application/octet-stream" },
      { key: "list/b.bin", size: 7, contentType: "application/json" },
    ]);
    await backups.delete("list/a.bin");
    expect((await backups.list("list/")).map((o) => o.key)).toEqual(["list/b.bin"]);
    expect(await backups.readHead("list/b.bin", 0)).toEqual(new Uint8Array(0));
  });
});

describe("createStorage", () => {
  test("local: two stores under one root, both served; the buckets must differ", () => {
    const local = { root, baseUrl: BASE, key: "k".repeat(32), now };
    const { storage, localStores } = createStorage({
      kind: "local",
      documentsBucket: "keshless-documents",
      backupsBucket: "keshless-backups",
      local,
    });
    expect(storage.documents.bucket).toBe("keshless-documents");
    expect(storage.backups.bucket).toBe("keshless-backups");
    expect(localStores).toEqual([storage.documents, storage.backups] as LocalStore[]);
    expect(() =>
      createStorage({ kind: "local", documentsBucket: "same-name", backupsBucket: "same-name", local }),
    ).toThrow(TypeError);
    expect(() => createStorage({ kind: "local", documentsBucket: "a-docs", backupsBucket: "a-backups" })).toThrow(
      TypeError,
    );
  });

  test("gcs: no local routes to serve", () => {
    const { storage, localStores } = createStorage({
      kind: "gcs",
      documentsBucket: "keshless-documents",
      backupsBucket: "keshless-backups",
      gcs: { apiEndpoint: "http://127.0.0.1:9", projectId: "test" },
    });
    expect(storage.documents.bucket).toBe("keshless-documents");
    expect(localStores).toEqual([]);
  });
});

const t = await createTestContext();

describe("inside the app", () => {
  test("mounted on the real app: errors leave in the one shape with the request id; logs keep no token", async () => {
    // The app mounts its own stores' routes (src/storage/module.ts).
    const store = t.deps.storage.documents;
    const key = newObjectKey("kyc");
    const upload = await store.signUpload({ key, contentType: "image/png", sizeBytes: 64, expiresInSeconds: 60 });
    const ok = await t.app.request(upload.url, { method: "PUT", body: bytes(64), headers: upload.headers });
    expect(ok.status).toBe(200);
    expect(await store.read(key)).toEqual(bytes(64));

    const refused = await t.app.request(upload.url.replace("token=", "token=0"), {
      method: "PUT",
      body: bytes(64),
      headers: upload.headers,
    });
    expect(refused.status).toBe(403);
    const json = (await refused.json()) as any;
    expect(json.error.code).toBe("FORBIDDEN");
    expect(json.error.requestId).toBe(refused.headers.get("x-request-id")!);
    // The request log names the URL, never the part of it that grants access.
    const token = new URL(upload.url).searchParams.get("token")!;
    expect(t.logs.some((line) => line.includes(`/storage/keshless-documents/${key}`))).toBe(true);
    expect(t.logs.some((line) => line.includes(token))).toBe(false);
  });
});
