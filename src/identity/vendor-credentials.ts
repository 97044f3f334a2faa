import { eq } from "drizzle-orm";
import { randomToken, sha256Hex } from "../lib/crypto";
import { vendors } from "./schema";
import type { Passwords } from "./secrets";
import type { IdentityDeps } from "./tx";

/** What proves a vendor: the password (argon2id) and the credential each trusted device holds. */

/** Device credentials start with this, so a stale one is told from an install's name. */
const CREDENTIAL_PREFIX = "kdc_";

/** Only the hash of a device credential is stored, so a leaked table lets no device in. */
export const deviceCredentialHash = (credential: string) => sha256Hex(credential);

/** The device's proof from now on: high-entropy, shown once (in the answer that issues it), stored only as a hash. */
export function newDeviceCredential(): { credential: string; hash: string } {
  const credential = `${CREDENTIAL_PREFIX}${randomToken(32)}`;
  return { credential, hash: deviceCredentialHash(credential) };
}

/** A credential that no longer counts (revoked, replaced) must not become the device's stored name. */
export function deviceNameFor(deviceId: string): string {
  return deviceId.startsWith(CREDENTIAL_PREFIX) ? `device-${deviceCredentialHash(deviceId).slice(0, 8)}` : deviceId;
}

/** Whether `password` is this vendor's (a step-up check, e.g. before a withdrawal); as slow for an unknown id. */
export async function passwordMatches(
  deps: Pick<IdentityDeps, "database">,
  tools: { passwords: Passwords },
  vendorId: string,
  password: string,
): Promise<boolean> {
  const [r] = await deps.database.db
    .select({ hash: vendors.passwordHash })
    .from(vendors)
    .where(eq(vendors.id, vendorId));
  if (!r) {
    await tools.passwords.burn(password);
    return false;
  }
  return tools.passwords.verify(password, r.hash);
}
