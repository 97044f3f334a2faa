import { join } from "node:path";
import { createStorage, localStorageRoutes } from "../integrations/storage";
import { API, defineModule } from "../module";

/**
 * Object storage: the documents bucket (KYC) and the backups bucket (backups, reports). On GCS in production;
 * in the embedded default a folder under the data dir whose signed upload and read URLs this app serves.
 */
export const storageModule = defineModule({
  name: "storage",
  create: (core, _peers: Record<string, never>) => {
    const { storage: settings, gcpProject } = core.config;
    return createStorage({
      kind: settings.kind,
      documentsBucket: settings.documentsBucket,
      backupsBucket: settings.backupsBucket,
      local: {
        root: join(core.config.dataDir, "objects"),
        baseUrl: settings.publicUrl,
        key: settings.localKey,
        now: () => core.now(),
      },
      gcs: {
        ...(settings.gcsApiEndpoint ? { apiEndpoint: settings.gcsApiEndpoint } : {}),
        ...(gcpProject ? { projectId: gcpProject } : {}),
        ...(settings.gcsCredentials ? { credentials: settings.gcsCredentials } : {}),
      },
    });
  },
  routes: ({ localStores }) => (localStores.length ? [{ roles: API, router: localStorageRoutes(localStores) }] : []),
});
