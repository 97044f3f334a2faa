/** Every table, gathered for drizzle-kit and the typed query builder. Each domain owns its own file. */
export * from "../audit/schema";
export * from "../http/idempotency";
export * from "../identity/schema";
export * from "../ledger/schema";
export * from "../notifications/schema";
export * from "../payments/schema";
