import { describe, expect, test } from "bun:test";
import { createCipheriv, createHmac, randomBytes } from "node:crypto";
import { CompactEncrypt } from "jose";
import { sha256Hex } from "../../src/lib/crypto";
import { createSealer } from "../../src/lib/sealer";

const OLD = "legacy-sealer-test-secret-0123456789abcdef";
const NEW = "rotated-sealer-test-secret-0123456789abcdef";
const keyOf = (secret: string) => new Uint8Array(createHmac("sha256", secret).update("keshless-seal-v1").digest());
const kidOf = (secret: string) => sha256Hex(`seal:${secret}`).slice(0, 8);

/** The first sealer's seal(), as it was in src/identity/secrets.ts: "v1.<kid>.<iv>.<data>.<tag>". */
function legacySeal(secret: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", keyOf(secret), iv);
  const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
  const tag = cipher.getAuthTag();
  return ["v1", kidOf(secret), iv.toString("base64url"), data.toString("base64url"), tag.toString("base64url")].join(
    ".",
  );
}

const joseSeal = (secret: string, plain: string) =>
  new CompactEncrypt(new TextEncoder().encode(plain))
    .setProtectedHeader({ alg: "dir", enc: "A256GCM", kid: kidOf(secret) })
    .encrypt(keyOf(secret));

describe("sealer", () => {
  test("seal → open round-trips; each seal differs; the output names its kid (v1.<kid>.<iv>.<data>.<tag>)", () => {
    const sealer = createSealer(NEW);
    const a = sealer.seal("JBSWY3DPEHPK3PXP");
    const b = sealer.seal("JBSWY3DPEHPK3PXP");
    expect(a).not.toBe(b);
    expect(a).not.toContain("JBSWY3DPEHPK3PXP");
    expect(sealer.open(a)).toBe("JBSWY3DPEHPK3PXP");
    expect(sealer.open(sealer.seal(""))).toBe("");
    expect(sealer.open(sealer.seal("ünïcødé ✓"))).toBe("ünïcødé ✓");
    expect(a.split(".")).toHaveLength(5);
    expect(a.startsWith(`v1.${kidOf(NEW)}.`)).toBe(true);
    expect(sealer.kid).toBe(kidOf(NEW));
  });

  test("values sealed by the old sealer (v1.<kid>.<iv>.<data>.<tag>) still open", () => {
    // Written by the sealer of commit 3e09607 (src/identity/secrets.ts) under OLD.
    const stored = {
      "v1.8c6e511e.UliEZDxs_GwUjGQW.H9DwF-Tvzz46DJd3F3A-Cw.glv34kYB54WPgazTTCuVEg": "JBSWY3DPEHPK3PXP",
      "v1.8c6e511e.bBIu-yzbRmcs2rYm.5BLRFDD4sKlTWmYa.NSUIOMCPOiFOnpGxFsqPJg": "whsec_legacy",
      "v1.8c6e511e.gouB-AAQFNtYD5-R..1nxxtvcOdUiN3nWbAgdaEA": "",
    };
    for (const sealer of [createSealer(OLD), createSealer(NEW, [OLD])]) {
      for (const [sealed, plain] of Object.entries(stored)) expect(sealer.open(sealed)).toBe(plain);
      expect(sealer.open(legacySeal(OLD, "sealed:otp 123456"))).toBe("sealed:otp 123456");
    }
    expect(() => createSealer(NEW).open(Object.keys(stored)[0]!)).toThrow("unknown key");
  });

  test("rotation: seals with the current key, opens with the current or any previous one", () => {
    const before = createSealer(OLD);
    const older = createSealer("oldest-sealer-test-secret-0123456789abcdef");
    const after = createSealer(NEW, [OLD, "oldest-sealer-test-secret-0123456789abcdef"]);
    expect(after.open(before.seal("a"))).toBe("a");
    expect(after.open(older.seal("b"))).toBe("b");
    expect(after.open(after.seal("c"))).toBe("c");
    expect(after.seal("d").split(".")[1]).toBe(kidOf(NEW));
    // A previous key only opens: the old sealer cannot read what the rotated one wrote.
    expect(() => before.open(after.seal("e"))).toThrow("unknown key");
    // Retired (no longer listed): unreadable.
    expect(() => createSealer(NEW).open(before.seal("f"))).toThrow("unknown key");
  });

  test("tampering or garbage is refused", async () => {
    const sealer = createSealer(NEW);
    const flip = (s: string) => (s[0] === "A" ? `B${s.slice(1)}` : `A${s.slice(1)}`);
    const [v, kid, iv, data, tag] = sealer.seal("secret value").split(".") as [string, string, string, string, string];
    expect(() => sealer.open([v, kid, iv, flip(data), tag].join("."))).toThrow();
    expect(() => sealer.open([v, kid, iv, data, flip(tag)].join("."))).toThrow();
    expect(() => sealer.open([v, kid, flip(iv), data, tag].join("."))).toThrow();
    expect(() => sealer.open([v, "00000000", iv, data, tag].join("."))).toThrow("unknown key");

    const jwe = (await joseSeal(NEW, "secret value")).split(".") as [string, string, string, string, string];
    const [h, k] = jwe;
    expect(sealer.open(jwe.join("."))).toBe("secret value");
    expect(() => sealer.open([h, k, jwe[2], flip(jwe[3]), jwe[4]].join("."))).toThrow();
    expect(() => sealer.open([h, k, jwe[2], jwe[3], flip(jwe[4])].join("."))).toThrow();
    // The header is authenticated: changing it, naming another algorithm or dropping the kid is refused.
    const header = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
    const rest = jwe.slice(2).join(".");
    expect(() =>
      sealer.open(`${header({ alg: "dir", enc: "A256GCM", kid: kidOf(NEW), x: 1 })}.${k}.${rest}`),
    ).toThrow();
    expect(() => sealer.open(`${header({ alg: "dir", enc: "A128GCM", kid: kidOf(NEW) })}.${k}.${rest}`)).toThrow(
      "unsupported",
    );
    expect(() => sealer.open(`${header({ alg: "dir", enc: "A256GCM" })}.${k}.${rest}`)).toThrow("unknown key");
    for (const junk of ["", "v1", "v1.....", "a.b.c.d.e", `${jwe.join(".")}.x`, "not sealed"]) {
      expect(() => sealer.open(junk)).toThrow();
    }
  });

  test("also opens jose's compact JWE (dir + A256GCM, kid) under the current or a previous key", async () => {
    const sealer = createSealer(NEW, [OLD]);
    for (const secret of [NEW, OLD])
      expect(sealer.open(await joseSeal(secret, `jose ${secret}`))).toBe(`jose ${secret}`);
    const retired = await joseSeal(OLD, "retired");
    expect(() => createSealer(NEW).open(retired)).toThrow("unknown key");
  });
});
