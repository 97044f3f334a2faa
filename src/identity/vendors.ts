import type { RequestMeta } from "../audit";
import type { OtpService } from "./otp";
import type { Passwords } from "./secrets";
import type { TokenService } from "./tokens";
import type { IdentityDeps } from "./tx";
import { passwordMatches } from "./vendor-credentials";
import { listDevices, revokeDevice } from "./vendor-devices";
import {
  createVendor,
  findVendorByCode,
  getVendor,
  getVendorView,
  listVendors,
  setVendorStatus,
  type VendorFilter,
  type VendorView,
} from "./vendor-profile";
import { login, refreshVendor, verifyDevice } from "./vendor-sign-in";

/**
 * Vendors: created by admins or the CLI (vendor-profile.ts); email + password (argon2id) + a trusted device to
 * sign in (vendor-sign-in.ts), the password and device credentials (vendor-credentials.ts), and the devices
 * a vendor trusts (vendor-devices.ts).
 */

export type { VendorDevice } from "./vendor-devices";
export type { CreateVendorInput, Vendor, VendorStatus, VendorView } from "./vendor-profile";

/** Told of each vendor once its creation has committed (compliance screens the name at once). */
export type VendorCreatedListener = (vendor: VendorView, meta: RequestMeta) => Promise<unknown>;

export function createVendors(
  deps: IdentityDeps,
  tools: { passwords: Passwords; otp: OtpService; tokens: TokenService },
) {
  const createdListeners: VendorCreatedListener[] = [];
  async function create(args: Parameters<typeof createVendor>[2]): Promise<VendorView> {
    const vendor = await createVendor(deps, tools, args);
    // The vendor exists whatever a listener does; one that fails is logged loudly, not the creation's failure.
    for (const listener of createdListeners)
      await listener(vendor, args.ctx).catch((err) =>
        deps.logger.error({ err, vendorId: vendor.id }, "a listener failed on a new vendor"),
      );
    return vendor;
  }
  return {
    onCreated: (listener: VendorCreatedListener) => {
      createdListeners.push(listener);
    },
    get: (id: string) => getVendor(deps, id),
    findByCode: (code: string) => findVendorByCode(deps, code),
    passwordMatches: (vendorId: string, password: string) => passwordMatches(deps, tools, vendorId, password),
    getView: (id: string) => getVendorView(deps, id),
    create,
    list: (filter: VendorFilter) => listVendors(deps, filter),
    setStatus: (args: Parameters<typeof setVendorStatus>[1]) => setVendorStatus(deps, args),
    login: (args: Parameters<typeof login>[2]) => login(deps, tools, args),
    verifyDevice: (args: Parameters<typeof verifyDevice>[2]) => verifyDevice(deps, tools, args),
    refresh: (args: Parameters<typeof refreshVendor>[2]) => refreshVendor(deps, tools, args),
    devices: (vendorId: string) => listDevices(deps, vendorId),
    revokeDevice: (args: Parameters<typeof revokeDevice>[1]) => revokeDevice(deps, args),
  };
}

export type VendorService = ReturnType<typeof createVendors>;
