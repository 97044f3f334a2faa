import { randomBytes } from "node:crypto";

/** Prefixed, URL-safe, sortable-enough ids: `txn_` + 20 random base32 characters (100 bits). */
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";

export type IdPrefix =
  | "usr"
  | "kyd"
  | "kys"
  | "vnd"
  | "adm"
  | "prt"
  | "key"
  | "txn"
  | "acc"
  | "hld"
  | "req"
  | "otp"
  | "dev"
  | "aud"
  | "ntf"
  | "ses"
  | "rtk"
  | "whk"
  | "whd"
  | "evt"
  | "prq"
  | "rvr"
  | "apr"
  | "job"
  | "crd"
  | "fnd"
  | "snm"
  | "aml"
  | "rpt";

export function newId(prefix: IdPrefix, length = 20): string {
  const bytes = randomBytes(length);
  let out = `${prefix}_`;
  for (const b of bytes) out += ALPHABET[b & 31];
  return out;
}
