import { migrate } from "../db/migrate";
import type { Identity } from "../identity";
import type { Kyc } from "../kyc";
import { API, defineModule } from "../module";
import type { Payments } from "../payments";
import type { Storage } from "../storage";
import { devCliRoutes, type RunCommand } from "./dev-cli";
import { opsRoutes } from "./routes";
import { type SeedDeps, seedCommand } from "./seed";

/** Health and readiness, the embedded server's CLI bridge, migrations and demo data. */
export const opsModule = defineModule({
  name: "ops",
  create: (
    core,
    peers: { identity: Identity; payments: Payments; kyc: Kyc; storage: Storage; run: RunCommand },
  ): SeedDeps & { run: RunCommand } => ({
    ...core,
    ...peers,
  }),
  routes: (ops) => [
    // Every deployment answers /health and /ready.
    { roles: ["all", "api", "ussd"], router: opsRoutes({ database: ops.database }) },
    { roles: API, router: devCliRoutes(ops) },
  ],
  commands: {
    "db:migrate": {
      describe: "apply every pending migration",
      run: async (ops) => ({ result: { ok: true, ...(await migrate(ops.database)) } }),
    },
    seed: seedCommand,
  },
});
