import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { Storage as GcsClient } from "@google-cloud/storage";
import { newObjectKey, ObjectNotFoundError } from "../../src/integrations/storage";
import { createGcsStore } from "../../src/integrations/storage/gcs";
import { startFakeGcs, throwawayServiceAccount } from "../support/fake-gcs";

const account = throwawayServiceAccount();
const fake = startFakeGcs(account);
afterAll(() => fake.stop());
afterEach(() => {
  fake.clockOffsetMs = 0;
  fake.pageSize = 1000;
});

const BUCKET = "keshless-documents";
const credentials = { client_email: account.client_email, private_key: account.private_key };
const store = createGcsStore({ bucket: BUCKET, apiEndpoint: fake.url, projectId: "test", credentials });

const bytes = (length: number, seed = 1) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
};
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...bytes(3000)]);
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

async function declare(sizeBytes: number, contentType = "image/png", expiresInSeconds = 900) {
  const key = newObjectKey("kyc/usr_test");
  return { key, upload: await store.signUpload({ key, contentType, sizeBytes, expiresInSeconds }) };
}

const put = (url: string, body: BodyInit, headers: Record<string, string>) =>
  fetch(url, { method: "PUT", body, headers });

/** GCS answers in XML: the status and the <Code>. */
async function refusal(res: Response) {
  const text = await res.text();
  return { status: res.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? text };
}

describe("signed upload URLs", () => {
  test("are V4, sign the content type and length range, and verify against the fake's public key", async () => {
    const { key, upload } = await declare(PNG.byteLength);
    const url = new URL(upload.url);
    expect(url.origin).toBe(fake.url);
    expect(url.pathname).toBe(`/${BUCKET}/${key}`);
    expect(url.searchParams.get("X-Goog-Algorithm")).toBe("GOOG4-RSA-SHA256");
    expect(url.searchParams.has("GoogleAccessId")).toBe(false);
    expect(url.searchParams.get("X-Goog-Credential")).toStartWith(`${account.client_email}/`);
    expect(url.searchParams.get("X-Goog-Expires")).toBe("900");
    expect(url.searchParams.get("X-Goog-SignedHeaders")).toBe("content-type;host;x-goog-content-length-range");
    expect(upload.method).toBe("PUT");
    expect(upload.headers).toEqual({
      "Content-Type": "image/png",
      "x-goog-content-length-range": `0,${PNG.byteLength}`,
    });
    const signedAt = Date.parse(
      url.searchParams.get("X-Goog-Date")!.replace(/^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/, "$1-$2-$3T$4:$5:$6Z"),
    );
    expect(upload.expiresAt.getTime()).toBe(signedAt + 900_000);

    const res = await put(upload.url, PNG, upload.headers);
    expect(res.status).toBe(200);
    expect(fake.objects.get(`${BUCKET}/${key}`)?.contentType).toBe("image/png");
  });

  test("then stat, a ranged readHead and read see the object", async () => {
    const { key, upload } = await declare(PNG.byteLength);
    expect((await put(upload.url, PNG, upload.headers)).status).toBe(200);

    const stored = await store.stat(key);
    expect(stored).toMatchObject({ key, size: PNG.byteLength, contentType: "image/png" });
    expect(stored!.updatedAt).toBeInstanceOf(Date);

    expect([...(await store.readHead(key, 8))]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    const head = fake.requests.findLast((r) => r.query.get("alt") === "media")!;
    expect(head.headers.get("range")).toBe("bytes=0-7");
    expect(head.bytesSent).toBe(8);
    expect(await store.readHead(key, 1_000_000)).toEqual(PNG);
    expect(await store.read(key)).toEqual(PNG);
  });

  test("an expired one is refused, and nothing is stored", async () => {
    const { key, upload } = await declare(PNG.byteLength, "image/png", 60);
    fake.clockOffsetMs = 61_000;
    expect(await refusal(await put(upload.url, PNG, upload.headers))).toEqual({ status: 400, code: "ExpiredToken" });
    expect(await store.stat(key)).toBeNull();
  });

  test("a tampered one is refused: signature, lifetime, key, or a changed header", async () => {
    const { key, upload } = await declare(PNG.byteLength);
    const tamper = (change: (u: URL) => void) => {
      const u = new URL(upload.url);
      change(u);
      return u.toString();
    };
    const signature = new URL(upload.url).searchParams.get("X-Goog-Signature")!;
    const attempts: [string, Record<string, string>][] = [
      [
        tamper((u) => u.searchParams.set("X-Goog-Signature", (signature[0] === "a" ? "b" : "a") + signature.slice(1))),
        upload.headers,
      ],
      [tamper((u) => u.searchParams.set("X-Goog-Expires", "3600")), upload.headers],
      [tamper((u) => u.searchParams.set("X-Goog-Date", "20300101T000000Z")), upload.headers],
      [
        tamper((u) => {
          u.pathname = `/${BUCKET}/${newObjectKey("kyc/usr_other")}`;
        }),
        upload.headers,
      ],
      [upload.url, { ...upload.headers, "Content-Type": "application/pdf" }],
      [upload.url, { ...upload.headers, "x-goog-content-length-range": "0,99999999" }],
    ];
    for (const [url, headers] of attempts) {
      const { status } = await refusal(await put(url, PNG, headers));
      expect([400, 403]).toContain(status);
    }
    expect(await refusal(await put(attempts[0]![0], PNG, upload.headers))).toEqual({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    expect(await refusal(await put(upload.url, PNG, { ...upload.headers, "Content-Type": "image/jpeg" }))).toEqual({
      status: 403,
      code: "SignatureDoesNotMatch",
    });
    expect(await store.stat(key)).toBeNull();
  });

  test("more bytes than declared are refused by the signed length range, and nothing is stored", async () => {
    const { key, upload } = await declare(100);
    expect(await refusal(await put(upload.url, bytes(101), upload.headers))).toEqual({
      status: 400,
      code: "EntityTooLarge",
    });
    // Sent without a length: counted as it arrives.
    const streamed = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes(60));
        controller.enqueue(bytes(60));
        controller.close();
      },
    });
    expect((await refusal(await put(upload.url, streamed, upload.headers))).code).toBe("EntityTooLarge");
    expect(await store.stat(key)).toBeNull();
    expect((await put(upload.url, bytes(100), upload.headers)).status).toBe(200);
    expect((await store.stat(key))?.size).toBe(100);
  });

  test("V2 signing (the library's default) is what the fake refuses; the adapter never produces it", async () => {
    const key = newObjectKey("kyc");
    const raw = new GcsClient({ apiEndpoint: fake.url, projectId: "test", credentials }).bucket(BUCKET).file(key);
    const [v2] = await raw.getSignedUrl({ action: "read", expires: Date.now() + 60_000 });
    expect(new URL(v2).searchParams.has("GoogleAccessId")).toBe(true);
    expect(await refusal(await fetch(v2))).toEqual({ status: 400, code: "V2SignatureRefused" });

    const ours = [
      (await store.signUpload({ key, contentType: "image/png", sizeBytes: 1, expiresInSeconds: 60 })).url,
      (await store.signRead({ key, expiresInSeconds: 60 })).url,
    ];
    for (const url of ours) {
      expect(new URL(url).searchParams.get("X-Goog-Algorithm")).toBe("GOOG4-RSA-SHA256");
      expect(new URL(url).searchParams.has("Signature")).toBe(false);
    }
  });
});

describe("signed read URLs", () => {
  test("serve the object until they expire (at most 15 minutes); a tampered or reused-for-PUT one is refused", async () => {
    const { key, upload } = await declare(PNG.byteLength);
    await put(upload.url, PNG, upload.headers);
    await expect(store.signRead({ key, expiresInSeconds: 901 })).rejects.toThrow(RangeError);
    const read = await store.signRead({ key, expiresInSeconds: 300 });
    const url = new URL(read.url);
    expect(url.searchParams.get("X-Goog-Expires")).toBe("300");
    expect(url.searchParams.get("X-Goog-SignedHeaders")).toBe("host");

    const res = await fetch(read.url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(PNG);

    url.searchParams.set("X-Goog-Expires", "900");
    expect(await refusal(await fetch(url))).toEqual({ status: 403, code: "SignatureDoesNotMatch" });
    expect((await refusal(await put(read.url, PNG, { "Content-Type": "image/png" }))).status).toBe(403);

    fake.clockOffsetMs = 299_000;
    expect((await fetch(read.url)).status).toBe(200);
    fake.clockOffsetMs = 301_000;
    expect(await refusal(await fetch(read.url))).toEqual({ status: 400, code: "ExpiredToken" });
  });
});

describe("write and readStream", () => {
  test("write streams a multi-MB body: the fake receives bytes before the source has produced them all", async () => {
    const key = newObjectKey("backups/2026-03-01");
    const chunk = 512 * 1024;
    const chunks = 16; // 8 MiB
    let produced = 0;
    let sawUploadMidway = false;
    const digest = createHash("sha256");
    const source = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (produced === chunks) return controller.close();
          if (produced === chunks / 2) {
            // Half produced: a buffering adapter would not have sent a byte yet, and would wait here forever.
            const reached = await Promise.race([
              fake.uploadReached("keshless-backups", key, 1).then(() => true),
              Bun.sleep(10_000).then(() => false),
            ]);
            if (!reached) return controller.error(new Error("the adapter held the stream instead of sending it"));
            sawUploadMidway = true;
          }
          const piece = bytes(chunk, produced++);
          digest.update(piece);
          controller.enqueue(piece);
        },
      },
      { highWaterMark: 0 },
    );
    const backups = createGcsStore({
      bucket: "keshless-backups",
      apiEndpoint: fake.url,
      projectId: "test",
      credentials,
    });
    const { size } = await backups.write(key, source, "application/octet-stream");
    expect(sawUploadMidway).toBe(true);
    expect(size).toBe(chunk * chunks);
    const stored = fake.objects.get(`keshless-backups/${key}`)!;
    expect(stored.data.byteLength).toBe(chunk * chunks);
    expect(sha256(stored.data)).toBe(digest.digest("hex"));
    expect(stored.contentType).toBe("application/octet-stream");
  }, 30_000);

  test("readStream hands over chunks while the rest of the object is still on the server", async () => {
    const key = newObjectKey("backups/2026-03-01");
    const data = bytes(8 * 1024 * 1024, 3);
    fake.put("keshless-documents", key, data);
    const release = fake.holdDownload("keshless-documents", key, 4 * 1024 * 1024);
    const reader = (await store.readStream(key)).getReader();
    const chunks: Uint8Array[] = [];
    let received = 0;
    const first = await Promise.race([reader.read(), Bun.sleep(10_000).then(() => null)]);
    expect(first, "the adapter waited for the whole object before handing over a chunk").not.toBeNull();
    chunks.push(first!.value!);
    received += first!.value!.byteLength;
    const download = fake.requests.findLast((r) => r.query.get("alt") === "media")!;
    // The first chunk is here; the fake has not sent past its hold, so the stream did not wait for the end.
    expect(download.bytesSent).toBeLessThanOrEqual(4 * 1024 * 1024);
    release();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      chunks.push(next.value);
      received += next.value.byteLength;
    }
    expect(received).toBe(data.byteLength);
    expect(chunks.length).toBeGreaterThan(1);
    expect(sha256(Buffer.concat(chunks))).toBe(sha256(data));
  }, 30_000);

  test("write of bytes, then stat and read", async () => {
    const key = newObjectKey("misc");
    expect(await store.write(key, bytes(1234), "text/plain")).toEqual({ size: 1234 });
    expect(await store.stat(key)).toMatchObject({ size: 1234, contentType: "text/plain" });
    expect(await store.read(key)).toEqual(bytes(1234));
  });
});

describe("stat, delete, list", () => {
  test("a missing object: stat is null, reads reject with ObjectNotFoundError, delete is idempotent", async () => {
    const key = newObjectKey("kyc");
    fake.put(BUCKET, key, bytes(10));
    await store.delete(key);
    await store.delete(key);
    expect(fake.objects.has(`${BUCKET}/${key}`)).toBe(false);
    expect(await store.stat(key)).toBeNull();
    await expect(store.read(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readHead(key, 8)).rejects.toBeInstanceOf(ObjectNotFoundError);
    await expect(store.readStream(key)).rejects.toBeInstanceOf(ObjectNotFoundError);
  });

  test("an empty object reads as no bytes", async () => {
    const key = newObjectKey("kyc");
    fake.put(BUCKET, key, new Uint8Array(0));
    expect(await store.readHead(key, 8)).toEqual(new Uint8Array(0));
    expect(await store.read(key)).toEqual(new Uint8Array(0));
  });

  test("list follows every page under the prefix", async () => {
    fake.pageSize = 2;
    const prefix = `list-${newObjectKey("")}`;
    for (const [i, name] of ["a", "b", "c", "d", "e"].entries())
      fake.put(BUCKET, `${prefix}/${name}`, bytes(i + 1), "text/plain");
    fake.put(BUCKET, `${prefix}-other/x`, bytes(1));
    const listed = await store.list(`${prefix}/`);
    expect(listed.map(({ key, size, contentType }) => ({ key, size, contentType }))).toEqual(
      ["a", "b", "c", "d", "e"].map((name, i) => ({
        key: `${prefix}/${name}`,
        size: i + 1,
        contentType: "text/plain",
      })),
    );
    expect(listed[0]!.updatedAt).toBeInstanceOf(Date);
  });

  test("keys are checked before any request: no traversal or odd names", async () => {
    const before = fake.requests.length;
    for (const key of ["../x", "a/../b", "/abs", "a//b", ".hidden"]) {
      await expect(store.stat(key)).rejects.toThrow(TypeError);
      await expect(store.delete(key)).rejects.toThrow(TypeError);
      await expect(store.signRead({ key, expiresInSeconds: 60 })).rejects.toThrow(TypeError);
    }
    expect(fake.requests.length).toBe(before);
  });
});
