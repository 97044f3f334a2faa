import type { Airtime } from "../airtime";
import type { Audit } from "../audit";
import type { Core } from "../core";
import type { Identity } from "../identity";
import type { Payments } from "../payments";
import type { Withdrawals } from "../withdrawals";

/** What the menus run over: the same services as REST, named by the USSD module. */
export interface UssdDeps extends Core {
  identity: Identity;
  payments: Payments;
  withdrawals: Withdrawals;
  airtime: Airtime;
  audit: Audit;
}
