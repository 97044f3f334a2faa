import { createAdmins } from "./admins";
import { createOtp } from "./otp";
import { createPartnerFunding } from "./partner-funding";
import { createPartners } from "./partners";
import { createPasswords, createPeppers } from "./secrets";
import { createTokens } from "./tokens";
import type { IdentityDeps } from "./tx";
import { createUsers } from "./users";
import { createVendors } from "./vendors";

export type { Admin } from "./admins";
// The route guards other domains mount: bearer tokens of users, vendors and admins, partners' API keys.
export {
  adminAuth,
  partnerAuth,
  requireSession,
  sessionIdOf,
  userAuth,
  userTokenAuth,
  vendorAuth,
} from "./guards";
export type { FundingChange, PartnerFunding } from "./partner-funding";
export type { Partner, PartnerKey } from "./partners";
export type { TokenKind, Tokens } from "./tokens";
export type { IdentityDeps } from "./tx";
export type { User, UserStatus } from "./users";
export type { Vendor, VendorStatus } from "./vendors";

/**
 * Users, vendors, admins and partners, and the tokens and codes that let them in.
 * `deps.identity.users.verifyPin`, `.register`, `vendors.findByCode` … are what other domains call.
 */
export function createIdentity(deps: IdentityDeps) {
  const peppers = createPeppers(deps.config);
  const passwords = createPasswords(deps.config);
  const tokens = createTokens(deps);
  const otp = createOtp(deps, peppers);
  return {
    tokens,
    users: createUsers(deps, { peppers, otp, tokens }),
    vendors: createVendors(deps, { passwords, otp, tokens }),
    admins: createAdmins(deps, { passwords, tokens }),
    partners: createPartners(deps),
    /** Partners' funding limits: top-ups (maker-checker), decreases, what each has used. */
    partnerFunding: createPartnerFunding(deps),
  };
}

export type Identity = ReturnType<typeof createIdentity>;
export { pinLimit } from "./attempts";
export { applyKycTier, phoneOfUser } from "./kyc-tier";
export { weakPinReason } from "./secrets";
