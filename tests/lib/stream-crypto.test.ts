import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  createDecryptStream,
  createEncryptStream,
  createKeyring,
  type Keyring,
  StreamCryptoError,
} from "../../src/lib/stream-crypto";

/**
 * The STREAM construction of src/lib/stream-crypto.ts: what goes in comes out at every length around the chunk
 * boundaries, however the input is split; and every way of damaging a sealed stream — a flipped bit in the
 * header or a chunk, a chunk dropped, repeated or swapped, the end cut off (at a boundary or inside a chunk),
 * bytes appended — is refused, as are a wrong key under the right id and an unknown key id.
 */

const key = (id: string) => ({ id, key: randomBytes(32) });
const ring = createKeyring(key("k1"));
const CHUNK = 64;
const TAG = 16;

/** Feeds `pieces` through `transform`, collecting what comes out. */
async function through(transform: ReadableWritablePair<Uint8Array, Uint8Array>, pieces: Uint8Array[]) {
  const source = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const piece of pieces) controller.enqueue(piece);
      controller.close();
    },
  });
  return new Uint8Array(await new Response(source.pipeThrough(transform)).arrayBuffer());
}

const seal = (plain: Uint8Array, keyring: Keyring = ring, pieces = [plain]) =>
  through(createEncryptStream(keyring, { chunkSize: CHUNK }), pieces);
const open = (sealed: Uint8Array, keyring: Keyring = ring) => through(createDecryptStream(keyring), [sealed]);

async function refusal(sealed: Uint8Array, keyring: Keyring = ring): Promise<StreamCryptoError> {
  try {
    await open(sealed, keyring);
  } catch (error) {
    expect(error).toBeInstanceOf(StreamCryptoError);
    return error as StreamCryptoError;
  }
  throw new Error("the damaged stream was accepted");
}

/** The header's length for key id "k1": magic 8, version 1, id length 1, id 2, chunk size 4, salt 16, prefix 7. */
const HEADER = 8 + 1 + 1 + 2 + 4 + 16 + 7;
const chunkAt = (i: number) => HEADER + i * (CHUNK + TAG);
const cut = (bytes: Uint8Array, from: number, to: number) =>
  new Uint8Array(Buffer.concat([bytes.subarray(0, from), bytes.subarray(to)]));

describe("round trip", () => {
  for (const length of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 1, 10 * CHUNK + 7])
    test(`${length} bytes`, async () => {
      const plain = randomBytes(length);
      const sealed = await seal(plain);
      expect(Buffer.from(await open(sealed)).equals(plain)).toBe(true);
      // Every chunk but the last is full; an empty input is one empty chunk.
      const chunks = Math.max(1, Math.ceil(length / CHUNK));
      expect(sealed.length).toBe(HEADER + length + chunks * TAG);
    });

  test("however the input and the sealed stream are split", async () => {
    const plain = randomBytes(5 * CHUNK + 3);
    const pieces = [1, 63, 64, 65, 2, 130].reduce<{ at: number; out: Uint8Array[] }>(
      (acc, size) => ({ at: acc.at + size, out: [...acc.out, plain.subarray(acc.at, acc.at + size)] }),
      { at: 0, out: [] },
    ).out;
    pieces.push(plain.subarray(pieces.reduce((n, p) => n + p.length, 0)));
    const sealed = await seal(plain, ring, pieces);
    const bytewise = Array.from(sealed, (b) => new Uint8Array([b]));
    const opened = await through(createDecryptStream(ring), bytewise);
    expect(Buffer.from(opened).equals(plain)).toBe(true);
  });

  test("counts chunks and bytes, and names the key", async () => {
    const decrypt = createDecryptStream(ring);
    await through(decrypt, [await seal(randomBytes(3 * CHUNK + 1))]);
    expect(decrypt.stats).toEqual({ chunks: 4, bytes: 3 * CHUNK + 1, keyId: "k1" });
  });

  test("the same plaintext seals differently each time (fresh salt and nonce prefix)", async () => {
    const plain = randomBytes(CHUNK);
    expect(Buffer.from(await seal(plain)).equals(await seal(plain))).toBe(false);
  });

  test("the plaintext does not appear in the sealed stream", async () => {
    const plain = new TextEncoder().encode("Sipho Dlamini +26876123456 ".repeat(20));
    const sealed = Buffer.from(await seal(plain));
    expect(sealed.includes(Buffer.from("Sipho Dlamini"))).toBe(false);
    expect(sealed.includes(Buffer.from("+26876123456"))).toBe(false);
  });
});

describe("tampering is refused", () => {
  const plain = randomBytes(4 * CHUNK + 10); // chunks 0–3 full, chunk 4 the last (10 bytes)

  test("a flipped bit in each chunk, and in every header byte", async () => {
    const sealed = await seal(plain);
    for (const at of [chunkAt(0), chunkAt(1) + 5, chunkAt(3) + CHUNK + 3, sealed.length - 1]) {
      const damaged = new Uint8Array(sealed);
      damaged[at]! ^= 0x01;
      expect((await refusal(damaged)).reason).toBe("damaged");
    }
    for (let at = 0; at < HEADER; at++) {
      const damaged = new Uint8Array(sealed);
      damaged[at]! ^= 0x01;
      const error = await refusal(damaged);
      expect(["not_encrypted", "unsupported_version", "unknown_key", "damaged", "truncated"]).toContain(error.reason);
    }
  });

  test("a dropped chunk (in the middle, the first, the last)", async () => {
    const sealed = await seal(plain);
    expect((await refusal(cut(sealed, chunkAt(1), chunkAt(2)))).reason).toBe("damaged");
    expect((await refusal(cut(sealed, chunkAt(0), chunkAt(1)))).reason).toBe("damaged");
    // Without its last chunk the stream ends on a full chunk that was not sealed as the last.
    expect((await refusal(sealed.subarray(0, chunkAt(4)))).reason).toBe("damaged");
  });

  test("two chunks swapped, and a chunk repeated", async () => {
    const sealed = Buffer.from(await seal(plain));
    const c1 = sealed.subarray(chunkAt(1), chunkAt(2));
    const c2 = sealed.subarray(chunkAt(2), chunkAt(3));
    const swapped = Buffer.concat([sealed.subarray(0, chunkAt(1)), c2, c1, sealed.subarray(chunkAt(3))]);
    expect((await refusal(swapped)).reason).toBe("damaged");
    const repeated = Buffer.concat([sealed.subarray(0, chunkAt(2)), c1, sealed.subarray(chunkAt(2))]);
    expect((await refusal(repeated)).reason).toBe("damaged");
  });

  test("truncated anywhere: inside the header, at a chunk boundary, inside a chunk, to the header alone", async () => {
    const sealed = await seal(plain);
    expect((await refusal(sealed.subarray(0, 5))).reason).toBe("truncated");
    expect((await refusal(sealed.subarray(0, HEADER - 1))).reason).toBe("truncated");
    expect((await refusal(sealed.subarray(0, HEADER))).reason).toBe("truncated");
    expect((await refusal(sealed.subarray(0, chunkAt(2)))).reason).toBe("damaged");
    expect((await refusal(sealed.subarray(0, chunkAt(2) + 20))).reason).toBe("damaged");
    expect((await refusal(sealed.subarray(0, sealed.length - 1))).reason).toBe("damaged");
    expect((await refusal(new Uint8Array(0))).reason).toBe("truncated");
  });

  test("bytes appended after the last chunk", async () => {
    const sealed = Buffer.from(await seal(plain));
    expect((await refusal(Buffer.concat([sealed, Buffer.from([0])]))).reason).toBe("damaged");
    expect((await refusal(Buffer.concat([sealed, sealed.subarray(chunkAt(4))]))).reason).toBe("damaged");
  });

  test("a damaged chunk passes on nothing of itself or after it", async () => {
    const sealed = await seal(plain);
    const damaged = new Uint8Array(sealed);
    damaged[chunkAt(2) + 1]! ^= 0x80;
    const received: Uint8Array[] = [];
    const source = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(damaged);
        controller.close();
      },
    });
    await expect(
      source.pipeThrough(createDecryptStream(ring)).pipeTo(
        new WritableStream({
          write(chunk) {
            received.push(chunk);
          },
        }),
      ),
    ).rejects.toBeInstanceOf(StreamCryptoError);
    // At most the two genuine chunks before it (the error may also discard what was still queued).
    const got = Buffer.concat(received);
    expect(got.length).toBeLessThanOrEqual(2 * CHUNK);
    expect(got.equals(plain.subarray(0, got.length))).toBe(true);
  });

  test("not an encrypted stream at all", async () => {
    expect((await refusal(new TextEncoder().encode("PGDMP custom format archive, in the clear"))).reason).toBe(
      "not_encrypted",
    );
  });
});

describe("keys", () => {
  test("a wrong key under the right id is refused at the first chunk", async () => {
    const sealed = await seal(randomBytes(100));
    const error = await refusal(sealed, createKeyring({ id: "k1", key: randomBytes(32) }));
    expect(error.reason).toBe("damaged");
    expect(error.message).toContain("key is wrong");
  });

  test("an unknown key id is refused, naming it", async () => {
    const sealed = await seal(randomBytes(100));
    const error = await refusal(sealed, createKeyring(key("k2")));
    expect(error.reason).toBe("unknown_key");
    expect(error.keyId).toBe("k1");
    expect(error.message).toContain("k1");
  });

  test("after a rotation, what the previous key sealed still opens; new streams use the new key", async () => {
    const old = key("2025-01");
    const before = createKeyring(old);
    const plain = randomBytes(3 * CHUNK);
    const sealedBefore = await seal(plain, before);
    const rotated = createKeyring(key("2026-01"), [old]);
    expect(Buffer.from(await open(sealedBefore, rotated)).equals(plain)).toBe(true);
    const sealedAfter = await seal(plain, rotated);
    const decrypt = createDecryptStream(rotated);
    await through(decrypt, [sealedAfter]);
    expect(decrypt.stats.keyId).toBe("2026-01");
    // The old keyring alone cannot open what the new key sealed.
    expect((await refusal(sealedAfter, before)).reason).toBe("unknown_key");
  });

  test("a keyring refuses short keys, bad ids and an id given twice", () => {
    expect(() => createKeyring({ id: "k", key: randomBytes(16) })).toThrow(/32 bytes/);
    expect(() => createKeyring({ id: "with space", key: randomBytes(32) })).toThrow(/printable/);
    expect(() => createKeyring(key("a"), [key("a")])).toThrow(/twice/);
  });
});
