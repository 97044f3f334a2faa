import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { HOTP, Secret } from "otpauth";
import {
  base32Decode,
  base32Encode,
  matchTotp,
  newTotpSecret,
  TOTP_STEP_SECONDS,
  totpCode,
  totpStep,
} from "../../src/identity/secrets";

/** RFC 6238, Appendix B: SHA-1, secret "12345678901234567890" (ASCII), 30-second steps, 8 digits. */
const RFC6238_SHA1: [unixSeconds: number, code: string][] = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];
const RFC_SECRET = base32Encode(Buffer.from("12345678901234567890", "ascii"));

describe("TOTP (otpauth)", () => {
  test("RFC 6238 SHA-1 test vectors (8 digits)", () => {
    expect(RFC_SECRET).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    for (const [seconds, code] of RFC6238_SHA1) {
      const step = totpStep(new Date(seconds * 1000));
      expect(step).toBe(Math.floor(seconds / TOTP_STEP_SECONDS));
      const eight = HOTP.generate({
        secret: Secret.fromBase32(RFC_SECRET),
        algorithm: "SHA1",
        digits: 8,
        counter: step,
      });
      expect(eight).toBe(code);
      // Our 6-digit code is the same truncation, modulo 10^6: the last six digits.
      expect(totpCode(RFC_SECRET, step)).toBe(code.slice(2));
    }
  });

  test("the same 6-digit codes as the hand-written RFC 6238 code it replaced", () => {
    const before = (secret: string, step: number) => {
      const counter = Buffer.alloc(8);
      counter.writeBigUInt64BE(BigInt(step));
      const h = createHmac("sha1", base32Decode(secret)).update(counter).digest();
      const offset = h[h.length - 1]! & 15;
      return String((h.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
    };
    for (let i = 0; i < 50; i++) {
      const secret = newTotpSecret();
      const step = Math.floor(Math.random() * 2 ** 40);
      expect(totpCode(secret, step)).toBe(before(secret, step));
    }
  });

  test("matchTotp: the step of a code now, one before or one after; nothing else", () => {
    const at = new Date(1111111111 * 1000);
    const now = totpStep(at);
    for (const delta of [-1, 0, 1])
      expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, now + delta), at)).toBe(now + delta);
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, now + 2), at)).toBeNull();
    expect(matchTotp(RFC_SECRET, totpCode(RFC_SECRET, now - 2), at)).toBeNull();
    expect(matchTotp(RFC_SECRET, "14050471", at)).toBeNull(); // 8 digits: not our format
    expect(matchTotp(RFC_SECRET, "abcdef", at)).toBeNull();
  });

  test("base32 round-trips (RFC 4648); a new secret is 20 random bytes in base32", () => {
    for (const bytes of [[], [0], [255, 1], [1, 2, 3, 4, 5], [...Buffer.from("foobar")]]) {
      const text = base32Encode(Uint8Array.from(bytes));
      expect([...base32Decode(text)]).toEqual(bytes);
    }
    expect(base32Encode(Buffer.from("foobar"))).toBe("MZXW6YTBOI");
    expect(base32Decode("mzxw 6ytb oi==").toString()).toBe("foobar");
    expect(() => base32Decode("not base32!")).toThrow("invalid base32");
    const secret = newTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(base32Decode(secret)).toHaveLength(20);
    expect(newTotpSecret()).not.toBe(secret);
  });
});
