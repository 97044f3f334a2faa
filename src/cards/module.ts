import type { Approvals } from "../approvals";
import type { Audit } from "../audit";
import type { Identity } from "../identity";
import type { Ledger } from "../ledger";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import type { Payments } from "../payments";
import { cardRoutes } from "./routes";
import { createCards } from "./service";

interface CardsPeers {
  ledger: Ledger;
  payments: Payments;
  identity: Identity;
  approvals: Approvals;
  notifications: Notifications;
  audit: Audit;
}

/** Physical card requests: the fee is held until an admin approves the card. */
export const cardsModule = defineModule({
  name: "cards",
  create: (core, peers: CardsPeers) => createCards({ ...core, ...peers }),
  routes: (cards, _core, { identity }) => [{ roles: API, router: cardRoutes({ cards, identity }) }],
  approvalKinds: (cards) => cards.approvalKinds,
});
