import type { Core } from "../core";
import { API, defineModule } from "../module";
import { withdrawalRoutes } from "./routes";
import { createWithdrawals, type WithdrawalsDeps } from "./service";

/** Cash-out to a bank or an agent through a hold; large ones wait for a finance approval. */
export const withdrawalsModule = defineModule({
  name: "withdrawals",
  create: (core, peers: Omit<WithdrawalsDeps, keyof Core>) => createWithdrawals({ ...core, ...peers }),
  routes: (withdrawals, _core, { identity }) => [{ roles: API, router: withdrawalRoutes({ identity, withdrawals }) }],
  approvalKinds: (withdrawals) => withdrawals.approvalKinds,
});
