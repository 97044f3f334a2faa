import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { sha256Hex } from "./crypto";

/**
 * Encryption at rest (TOTP secrets, webhook signing secrets, sealed notification bodies, refresh
 * successors): AES-256-GCM, one sealer per purpose, built from a current secret and any number of
 * previous, open-only ones. The key and its id are derived from each secret as the first sealer did.
 *
 * `seal` writes "v1.<kid>.<iv>.<data>.<tag>" under the current key — the format every stored value
 * already has (and tests pin) — so the output names its key. `open` picks the key by kid among the
 * current and previous ones. It also reads a compact JWE (RFC 7516, `alg: "dir"`, `enc: "A256GCM"`,
 * `kid` in the protected header — what jose's CompactEncrypt writes; tests check it), so a later
 * writer in that format can roll out while instances running this one still read its values.
 * node:crypto rather than jose because jose is async and the callers are not.
 */
export function createSealer(current: string, previous: readonly string[] = []) {
  const keyFor = (secret: string) => ({
    kid: sha256Hex(`seal:${secret}`).slice(0, 8),
    key: createHmac("sha256", secret).update("keshless-seal-v1").digest(),
  });
  const now = keyFor(current);
  const keys = new Map<string, Buffer>([[now.kid, now.key]]);
  for (const old of previous) {
    const k = keyFor(old);
    if (!keys.has(k.kid)) keys.set(k.kid, k.key);
  }

  function decrypt(key: Buffer, iv: string, data: string, tag: string, aad?: string): string {
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
    if (aad !== undefined) decipher.setAAD(Buffer.from(aad, "ascii"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
  }

  function openJwe(sealed: string): string {
    const [protectedHeader, encryptedKey, iv, data, tag, extra] = sealed.split(".");
    if (extra !== undefined || encryptedKey !== "" || !protectedHeader || !iv || data === undefined || !tag) {
      throw new Error("not a sealed value");
    }
    let parsed: { alg?: unknown; enc?: unknown; kid?: unknown; zip?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(protectedHeader, "base64url").toString("utf8"));
    } catch {
      throw new Error("not a sealed value");
    }
    if (parsed.alg !== "dir" || parsed.enc !== "A256GCM" || parsed.zip !== undefined) {
      throw new Error("sealed with an unsupported algorithm");
    }
    const key = typeof parsed.kid === "string" ? keys.get(parsed.kid) : undefined;
    if (!key) throw new Error("sealed with an unknown key");
    return decrypt(key, iv, data, tag, protectedHeader);
  }

  return {
    /** The id of the key new values are sealed with. */
    kid: now.kid,
    seal(plain: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", now.key, iv);
      const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
      return [
        "v1",
        now.kid,
        iv.toString("base64url"),
        data.toString("base64url"),
        cipher.getAuthTag().toString("base64url"),
      ].join(".");
    },
    open(sealed: string): string {
      if (!sealed.startsWith("v1.")) return openJwe(sealed);
      // The kid in the clear; no additional data.
      const [, id, iv, data, tag, extra] = sealed.split(".");
      const key = id ? keys.get(id) : undefined;
      if (!key || !iv || data === undefined || !tag || extra !== undefined)
        throw new Error("sealed with an unknown key");
      return decrypt(key, iv, data, tag);
    },
  };
}

export type Sealer = ReturnType<typeof createSealer>;
