import type { MiddlewareHandler } from "hono";
import type { AnyApprovalKind } from "./approvals/service";
import type { Config } from "./config";
import type { Core } from "./core";
import type { Purge, Sweep } from "./db/purge";
import type { AppEnv } from "./http/context";
import type { createRouter } from "./http/router";
import type { JobDefinition } from "./jobs/definition";
import type { Command } from "./lib/command";

/**
 * The contract every domain folder fulfils in its module.ts: how to build its services from the core and the
 * peer services it names (typed as exactly those), and what it adds to the app, the job registry, retention,
 * the approvals queue and the CLI. src/modules.ts installs the modules in one ordered list and folds over it.
 */
export type Role = Config["role"];
export type Router = ReturnType<typeof createRouter>;

/** A router and the deployments (KESHLESS_ROLE) that mount it. */
export interface RouteGroup {
  roles: readonly Role[];
  router: Router;
}

/** Served by the API deployments (keshless-api, keshless-api-dev) and the all-in-one default. */
export const API: readonly Role[] = ["all", "api"];
/** Served by the USSD deployment (keshless-ussd) and the all-in-one default. */
export const USSD: readonly Role[] = ["all", "ussd"];

/** Background work a module runs in process (delivery loops, job loops), started after boot, stopped on SIGTERM. */
export interface Worker {
  start(): void;
  stop(): Promise<void>;
}

export interface ModuleDefinition<Peers, Services> {
  name: string;
  create(core: Core, peers: Peers): Services;
  /** Middleware every request passes (after the request context), e.g. identity's token checker for the guards. */
  middleware?(services: Services, core: Core): MiddlewareHandler<AppEnv>[];
  routes?(services: Services, core: Core, peers: Peers): RouteGroup[];
  jobs?(services: Services, core: Core): JobDefinition[];
  /** Retention rules for the module's own tables, evaluated at `now`. */
  purges?(core: Core, now: Date): Purge[];
  /** Retention beyond table rows (e.g. documents in storage), run by the retention job after the purges. */
  sweeps?(services: Services, core: Core): Sweep[];
  /** Maker-checker kinds this module decides, registered on the approvals queue by the module list. */
  approvalKinds?(services: Services, core: Core): Record<string, AnyApprovalKind>;
  commands?: Record<string, Command<Services>>;
  workers?(services: Services, core: Core): Worker[];
}

/** Declares a module (the identity function, for the types). */
export function defineModule<Peers, Services>(definition: ModuleDefinition<Peers, Services>) {
  return definition;
}
