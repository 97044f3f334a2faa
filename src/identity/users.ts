import type { RequestMeta } from "../audit";
import type { Executor } from "../db/client";
import type { OtpService } from "./otp";
import type { Peppers } from "./secrets";
import type { TokenService } from "./tokens";
import type { IdentityDeps } from "./tx";
import { changePinAfterUssdCheck, pinProof, pinRefused, setPin, verifyPin } from "./user-pin";
import {
  findUserByPhone,
  getUser,
  registerUser,
  searchUsers,
  setUserStatus,
  type UserFilter,
  userView,
} from "./user-profile";
import { refreshUser, requestOtp, verifyOtp } from "./user-sign-in";

/**
 * Users: phone + OTP to sign in (user-sign-in.ts), a PIN to move money (user-pin.ts), and who they are —
 * lookups, registration with the wallet, what admins see and change (user-profile.ts).
 */

export type { AdminUserView, User, UserStatus } from "./user-profile";

export function createUsers(deps: IdentityDeps, tools: { peppers: Peppers; otp: OtpService; tokens: TokenService }) {
  return {
    get: (id: string) => getUser(deps, id),
    findByPhone: (phone: string) => findUserByPhone(deps, phone),
    pinProof: (userId: string, pin: string) => pinProof(tools, userId, pin),
    pinRefused: (userId: string, outcome: Parameters<typeof pinRefused>[2], meta: RequestMeta) =>
      pinRefused(deps, userId, outcome, meta),
    register: (input: Parameters<typeof registerUser>[1], tx?: Executor) => registerUser(deps, input, tx),
    requestOtp: (args: Parameters<typeof requestOtp>[2]) => requestOtp(deps, tools, args),
    verifyOtp: (args: Parameters<typeof verifyOtp>[2]) => verifyOtp(deps, tools, args),
    refresh: (args: Parameters<typeof refreshUser>[2]) => refreshUser(deps, tools, args),
    verifyPin: (input: Parameters<typeof verifyPin>[2], meta?: RequestMeta) => verifyPin(deps, tools, input, meta),
    setPin: (args: Parameters<typeof setPin>[2]) => setPin(deps, tools, args),
    changePinAfterUssdCheck: (args: Parameters<typeof changePinAfterUssdCheck>[2]) =>
      changePinAfterUssdCheck(deps, tools, args),
    setStatus: (args: Parameters<typeof setUserStatus>[1]) => setUserStatus(deps, args),
    view: (id: string) => userView(deps, id),
    search: (filter: UserFilter) => searchUsers(deps, filter),
  };
}

export type UserService = ReturnType<typeof createUsers>;
