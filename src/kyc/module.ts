import type { Audit } from "../audit";
import type { Sanctions } from "../compliance";
import { applyKycTier, type Identity, phoneOfUser } from "../identity";
import { API, defineModule } from "../module";
import type { Notifications } from "../notifications";
import type { TierLimitsCache } from "../payments";
import type { Storage } from "../storage";
import { createKycProviders } from "./providers";
import { sweepDocuments } from "./retention";
import { kycRoutes } from "./routes";
import { createKyc } from "./service";

interface KycPeers {
  compliance: { sanctions: Sanctions };
  identity: Identity;
  audit: Audit;
  notifications: Notifications;
  payments: { tierLimits: Pick<TierLimitsCache, "read"> };
  storage: { storage: Storage };
}

/** KYC: documents by signed URL, background verification (ID reading, face match, ID number), tiers, review. */
export const kycModule = defineModule({
  name: "kyc",
  create: (core, peers: KycPeers) => {
    const { sanctions } = peers.compliance;
    const providers = {
      ...createKycProviders(core),
      async screenName(userId: string, name: string, dateOfBirth: string | null) {
        // Null (no list synced yet): not screened, so a person reviews it.
        const matches = await sanctions.screenSubject({ type: "user", id: userId, name }, { dateOfBirth });
        return matches?.map((m) => ({ dataid: m.dataid, matchedName: m.matchedName, score: m.score })) ?? null;
      },
    };
    const kyc = createKyc({
      ...core,
      store: peers.storage.storage.documents,
      providers,
      apply: (tx, change) => applyKycTier(tx, change, core.now()),
      phoneOf: phoneOfUser,
      kycLimits: peers.payments.tierLimits.read,
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
