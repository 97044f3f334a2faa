import type { MiddlewareHandler } from "hono";
import { airtimeModule } from "./airtime/module";
import { approvalsModule } from "./approvals/module";
import type { AnyApprovalKind } from "./approvals/service";
import { auditModule } from "./audit/module";
import { cardsModule } from "./cards/module";
import { complianceModule } from "./compliance/module";
import type { Config } from "./config";
import { buildCore, type CoreOverrides } from "./core";
import type { Purge, Sweep } from "./db/purge";
import type { AppEnv } from "./http/context";
import { identityModule } from "./identity/module";
import type { JobDefinition } from "./jobs/definition";
import { jobsModule } from "./jobs/module";
import { kycModule } from "./kyc/module";
import { ledgerModule } from "./ledger/module";
import { CliError, type Command, type Flags } from "./lib/command";
import type { ModuleDefinition, RouteGroup, Worker } from "./module";
import { notificationsModule } from "./notifications/module";
import { operationsModule } from "./operations/module";
import { opsModule } from "./ops/module";
import { paymentsModule } from "./payments/module";
import { reportsModule } from "./reports/module";
import { storageModule } from "./storage/module";
import { ussdModule } from "./ussd/module";
import { webhooksModule } from "./webhooks/module";
import { withdrawalsModule } from "./withdrawals/module";

/**
 * THE list of modules, in build order: a module comes after every peer it names. The app mounts their routes
 * and middleware in this order, the job registry, retention, the approvals queue and the CLI fold over it.
 * Adding a domain is a folder with a module.ts, one line here and one `install` line in buildSystem.
 */
export const MODULES = [
  ledgerModule,
  storageModule,
  auditModule,
  notificationsModule,
  approvalsModule,
  identityModule,
  complianceModule,
  webhooksModule,
  paymentsModule,
  withdrawalsModule,
  cardsModule,
  airtimeModule,
  ussdModule,
  kycModule,
  operationsModule,
  reportsModule,
  jobsModule,
  opsModule,
] as const;

/** What a module added to the system, bound to its services. */
export interface InstalledModule {
  name: string;
  routes: RouteGroup[];
  middleware: MiddlewareHandler<AppEnv>[];
  jobs: JobDefinition[];
  purges: (now: Date) => Purge[];
  sweeps: Sweep[];
  approvalKinds: Record<string, AnyApprovalKind>;
  commands: Record<string, (flags: Flags) => Promise<{ result: unknown; ok?: boolean }>>;
  workers: Worker[];
}

/** Every command's description and flags, without building anything (usage, and parsing before a server is asked). */
export function commandCatalog(): Record<string, Pick<Command<unknown>, "describe" | "flags">> {
  const catalog: Record<string, Pick<Command<unknown>, "describe" | "flags">> = {};
  for (const module of MODULES as readonly { commands?: Record<string, Command<never>> }[])
    for (const [name, { describe, flags }] of Object.entries(module.commands ?? {}))
      catalog[name] = { describe, ...(flags ? { flags } : {}) };
  return catalog;
}

/** The composition root's view: the core, every module's services, and the installed modules. */
export async function buildSystem(config: Config, overrides: CoreOverrides = {}) {
  const { core, clock } = await buildCore(config, overrides);
  const installed: InstalledModule[] = [];

  function install<Peers, Services>(definition: ModuleDefinition<Peers, Services>, peers: Peers): Services {
    if ((MODULES as readonly unknown[])[installed.length] !== definition)
      throw new Error(`modules: ${definition.name} is installed out of the order of MODULES`);
    const services = definition.create(core, peers);
    installed.push({
      name: definition.name,
      routes: definition.routes?.(services, core, peers) ?? [],
      middleware: definition.middleware?.(services, core) ?? [],
      jobs: definition.jobs?.(services, core) ?? [],
      purges: (now) => definition.purges?.(core, now) ?? [],
      sweeps: definition.sweeps?.(services, core) ?? [],
      approvalKinds: definition.approvalKinds?.(services, core) ?? {},
      commands: Object.fromEntries(
        Object.entries(definition.commands ?? {}).map(([name, command]) => [
          name,
          (flags: Flags) => command.run(services, flags),
        ]),
      ),
      workers: definition.workers?.(services, core) ?? [],
    });
    return services;
  }

  async function runCommand(name: string, flags: Flags): Promise<{ result: unknown; ok: boolean }> {
    const command = installed.find((m) => m.commands[name])?.commands[name];
    if (!command) throw new CliError(`unknown command ${name}`);
    const { result, ok = true } = await command(flags);
    return { result, ok };
  }

  const ledger = install(ledgerModule, {});
  const storage = install(storageModule, {});
  const audit = install(auditModule, {});
  const notifications = install(notificationsModule, {});
  const approvals = install(approvalsModule, { audit });
  const identity = install(identityModule, { audit, notifications, approvals, ledger });
  const compliance = install(complianceModule, { audit, identity, notifications });
  const webhooks = install(webhooksModule, { audit, identity });
  const payments = install(paymentsModule, { ledger, identity, approvals, audit, notifications, webhooks });
  const withdrawals = install(withdrawalsModule, {
    ledger,
    payments: payments.payments,
    identity,
    approvals,
    notifications,
    audit,
  });
  const cards = install(cardsModule, {
    ledger,
    payments: payments.payments,
    identity,
    approvals,
    notifications,
    audit,
  });
  const airtime = install(airtimeModule, { ledger, payments: payments.payments, identity, notifications, audit });
  const ussd = install(ussdModule, { identity, payments: payments.payments, withdrawals, airtime, audit });
  const kyc = install(kycModule, { identity, audit, notifications, storage, compliance, payments });
  const operations = install(operationsModule, { storage: storage.storage });
  const reports = install(reportsModule, { storage: storage.storage });
  const before = [...installed];
  const jobs = install(jobsModule, {
    jobs: before.flatMap((m) => m.jobs),
    purges: (now) => before.flatMap((m) => m.purges(now)),
    sweeps: before.flatMap((m) => m.sweeps),
  });
  install(opsModule, { identity, payments: payments.payments, kyc, storage: storage.storage, run: runCommand });

  for (const module of installed)
    for (const [kind, handler] of Object.entries(module.approvalKinds)) approvals.register(kind, handler);

  const system = {
    ...core,
    core,
    modules: installed as readonly InstalledModule[],
    runCommand,
    ledger,
    audit,
    notifications,
    approvals,
    identity,
    webhooks,
    payments: payments.payments,
    paymentsFastLane: payments.fastLane,
    paymentRequests: payments.requests,
    paymentsAdmin: payments.admin,
    paymentsTierLimits: payments.tierLimits,
    withdrawals,
    cards,
    airtime,
    ussd,
    jobs,
    storage: storage.storage,
    kyc,
    operations,
    reports,
  };
  // Tests move time for every module at once by assigning `system.now`.
  Object.defineProperty(system, "now", {
    get: () => clock.now,
    set: (now: () => Date) => {
      clock.now = now;
    },
    enumerable: true,
  });
  return system;
}

export type System = Awaited<ReturnType<typeof buildSystem>>;
