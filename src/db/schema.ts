/** Every table, gathered for drizzle-kit and the typed query builder. Each domain owns its own file. */

export * from "../airtime/schema";
export * from "../approvals/schema";
export * from "../audit/schema";
export * from "../cards/schema";
export * from "../http/idempotency";
export * from "../identity/schema";
export * from "../jobs/schema";
export * from "../ledger/schema";
export * from "../notifications/schema";
export * from "../payments/requests-schema";
export * from "../payments/schema";
export * from "../ussd/schema";
export * from "../webhooks/schema";
export * from "../withdrawals/schema";
