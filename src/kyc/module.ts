import type { Audit } from "../audit";
import { applyKycTier, type Identity, phoneOfUser } from "../identity";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import type { Storage } from "../storage";
import { createKycProviders } from "./providers";
import { sweepDocuments } from "./retention";
import { kycRoutes } from "./routes";
import { createKyc } from "./service";

interface KycPeers {
  identity: Identity;
  audit: Audit;
  notifications: Notifications;
  storage: { storage: Storage };
}

/** KYC: documents by signed URL, background verification (ID reading, face match, ID number), tiers, review. */
export const kycModule = defineModule({
  name: "kyc",
  create: (core, peers: KycPeers) => {
    const providers = createKycProviders(core);
    const kyc = createKyc({
      ...core,
      store: peers.storage.storage.documents,
      providers,
      apply: (tx, change) => applyKycTier(tx, change, core.now()),
      phoneOf: phoneOfUser,
      audit: peers.audit,
      notifications: peers.notifications,
    });
    return { ...kyc, providers, store: peers.storage.storage.documents };
  },
  routes: (kyc, _core, { identity }) => [{ roles: API, router: kycRoutes({ kyc, identity }) }],
  sweeps: (kyc, core) => [{ name: "kyc_documents", run: (now) => sweepDocuments({ ...core, store: kyc.store }, now) }],
  workers: (kyc) => [
    {
      start: () => kyc.worker.start(),
      stop: async () => {
        await kyc.worker.stop();
        kyc.providers.close();
      },
    },
  ],
});
