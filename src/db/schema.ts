/** Every table, gathered for drizzle-kit and the typed query builder. Each domain owns its own file. */
export * from "../ledger/schema";
