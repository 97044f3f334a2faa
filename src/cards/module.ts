import type { Core } from "../core";
import { API, defineModule } from "../module";
import { cardRoutes } from "./routes";
import { type CardsDeps, createCards } from "./service";

/** Physical card requests: the fee is held until an admin approves the card. */
export const cardsModule = defineModule({
  name: "cards",
  create: (core, peers: Omit<CardsDeps, keyof Core>) => createCards({ ...core, ...peers }),
  routes: (cards, _core, { identity }) => [{ roles: API, router: cardRoutes({ cards, identity }) }],
  approvalKinds: (cards) => cards.approvalKinds,
});
