import type { Core } from "../core";
import type { RequestMeta } from "../http/context";
import type { ObjectStore } from "../integrations/storage/types";
import { createPoller } from "../lib/poller";
import { type ContentType, completeDocument, type DocumentType, declareDocument } from "./documents";
import type { OutcomeDeps } from "./outcome";
import { decideSubmission, getSubmission, listSubmissions, setUserTier } from "./review";
import { kycStatus, type SubmissionStatus, type SubmissionsDeps, submit } from "./submissions";
import { type KycProviders, verificationDue, verifyDue } from "./verify";

export interface KycDeps extends Core, OutcomeDeps, Pick<SubmissionsDeps, "kycLimits"> {
  store: ObjectStore;
  providers: KycProviders;
}

/** KYC as the routes and the worker see it; each piece is a top-level function taking what it uses. */
export function createKyc(deps: KycDeps) {
  const log = deps.logger.child({ component: "kyc" });
  const worker = createPoller({
    intervalMs: deps.config.kyc.workerIntervalMs,
    pass: async () => {
      const { checked, retried } = await verifyDue({ ...deps, logger: log });
      return { more: checked + retried > 0 };
    },
    onError: (err, failing) =>
      log.warn({ err, retryInMs: failing.retryInMs }, "kyc verification pass failed; backing off"),
    onRecover: (recovered) => log.info(recovered, "kyc verification recovered"),
  });
  return {
    declare: (userId: string, input: { type: DocumentType; contentType: ContentType; sizeBytes: number }) =>
      declareDocument(deps, userId, input),
    complete: (userId: string, id: string) => completeDocument(deps, userId, id),
    submit: async (userId: string, input: { idNumber: string; documentIds: string[] }) => {
      const submitted = await submit(deps, userId, input);
      worker.kick();
      return submitted;
    },
    status: (user: { id: string; kycTier: number }) => kycStatus(deps, user),
    list: (filter: { status?: SubmissionStatus; userId?: string; limit: number; cursor?: string }) =>
      listSubmissions(deps, filter),
    get: (id: string) => getSubmission(deps, id),
    decide: (
      id: string,
      decision: { status: "approved"; tier: number; note?: string } | { status: "rejected"; reason: string },
      admin: { id: string },
      meta: RequestMeta,
    ) => decideSubmission(deps, id, decision, admin, meta),
    setTier: (input: { userId: string; tier: number; reason: string }, admin: { id: string }, meta: RequestMeta) =>
      setUserTier(deps, input, admin, meta),
    /** One pass of the verification worker (tests and the CLI drive it directly). */
    verifyDue: () => verifyDue({ ...deps, logger: log }),
    verificationDue: () => verificationDue(deps),
    worker,
  };
}

export type Kyc = ReturnType<typeof createKyc>;
