import type { UssdDeps } from "./deps";
import { createUssdEngine } from "./engine";

export type { UssdEngine } from "./engine";

/** The USSD channel: gateway adapters and menus over the same in-process services as REST. */
export function createUssd(deps: UssdDeps) {
  return createUssdEngine(deps);
}
