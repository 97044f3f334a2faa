import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "postgresql",
  // Every table, where its owner defines it: each domain's schema file, and the platform's own tables
  // (src/http: idempotency keys, rate limits). The app itself needs none of them gathered (src/db/client.ts).
  schema: ["./src/*/schema.ts", "./src/*/*-schema.ts", "./src/http/idempotency.ts"],
  out: "./drizzle",
  casing: "snake_case",
});
