import { defineModule } from "../module";
import { createLedger, type Ledger } from "./service";

/** The double-entry core: no routes, knows no one; every money module names it as a peer. */
export const ledgerModule = defineModule({
  name: "ledger",
  create: (core, _peers: Record<string, never>) => createLedger(core),
  commands: {
    "ledger:verify": {
      describe: "check every ledger invariant; exit 1 when any fails",
      run: async (ledger: Ledger) => {
        const report = await ledger.verify();
        return { result: report, ok: report.ok };
      },
    },
  },
});
