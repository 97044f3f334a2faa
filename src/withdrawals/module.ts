import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import type { Payments } from "../payments";
import { withdrawalRoutes } from "./routes";
import { createWithdrawals } from "./service";

interface WithdrawalsPeers {
  ledger: Ledger;
  payments: Payments;
  identity: Identity;
  approvals: Approvals;
  notifications: Notifications;
  audit: Audit;
}

/** Cash-out to a bank or an agent through a hold; large ones wait for a finance approval. */
export const withdrawalsModule = defineModule({
  name: "withdrawals",
  create: (core, peers: WithdrawalsPeers) => createWithdrawals({ ...core, ...peers }),
  routes: (withdrawals, _core, { identity }) => [{ roles: API, router: withdrawalRoutes({ identity, withdrawals }) }],
  approvalKinds: (withdrawals) => withdrawals.approvalKinds,
});
