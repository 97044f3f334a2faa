import { createHash, createHmac, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

export const sha256Hex = (value: string) => createHash("sha256").update(value).digest("hex");

export const hmacSha256Hex = (key: string | Buffer, value: string) =>
  createHmac("sha256", key).update(value).digest("hex");

export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export const randomToken = (bytes = 32) => randomBytes(bytes).toString("base64url");

/** A uniformly random string of `length` decimal digits (OTP codes). */
export const randomDigits = (length: number) => Array.from({ length }, () => randomInt(0, 10)).join("");
