import { describe, expect, test } from "bun:test";
import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import { loggableUrl, scrub } from "../../src/http/logger";
import { createRouter, jsonContent } from "../../src/http/router";
import { createTestContext } from "../support/harness";

const PHONE = "+26876123456";
const PHONE_SPELLINGS = ["+26876123456", "26876123456", "76123456", "+268 7612 3456", "7612 3456", "7612-3456"];
const PIN = "918273";
const TOKEN = "tok_live_Zx81QwErTy55";

const t = await createTestContext();

/** A handler that does what careless service code might: logs its input, then fails with the phone in the message. */
function routes() {
  const router = createRouter();
  router.openapi(
    createRoute({
      method: "post",
      path: "/v1/test/login",
      request: {
        body: {
          required: true,
          content: { "application/json": { schema: z.object({ phone: z.string(), pin: z.string() }) } },
        },
      },
      responses: { 200: jsonContent(z.object({}), "never") },
    }),
    async (c) => {
      const input = c.req.valid("json");
      c.get("core").logger.info({ input, headers: c.req.header() }, `login attempt from ${input.phone}`);
      if (c.req.query("db") === "1")
        // A real driver error: drizzle puts the bound parameters (here the PIN) into its message.
        await c.get("core").database.db.execute(sql`select ${input.pin}::int / 0 as boom`);
      throw new Error(`no wallet for ${input.phone} (pin ${input.pin.length} digits)`);
    },
  );
  return router;
}
t.app.route("/", routes());

function linesOf(requestId: string) {
  return t.logs.filter((line) => line.includes(requestId));
}

function expectNoSecrets(text: string) {
  for (const spelling of PHONE_SPELLINGS) expect(text).not.toContain(spelling);
  expect(text).not.toContain(PIN);
  expect(text).not.toContain(TOKEN);
}

describe("scrub", () => {
  test("secret-named keys are redacted at any depth, phones masked in every spelling", () => {
    const out = scrub({
      pin: PIN,
      user: { password: "hunter2", refreshToken: TOKEN, profile: { phone: PHONE, note: "call 7612 3456" } },
      headers: { authorization: `Bearer ${TOKEN}`, "x-api-key": TOKEN, "X-Job-Secret": "s" },
      list: [{ otp: "123456" }, `from ${PHONE_SPELLINGS.join(" / ")}`],
    });
    const text = JSON.stringify(out);
    expectNoSecrets(text);
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("123456");
    expect((out as any).pin).toBe("[REDACTED]");
    expect((out as any).user.profile.phone).toMatch(/^\*+456$/);
  });

  test("an object nested too deep to walk is dropped, not passed through", () => {
    let deep: Record<string, unknown> = { pin: PIN };
    for (let i = 0; i < 20; i++) deep = { next: deep };
    expect(JSON.stringify(scrub(deep))).not.toContain(PIN);
  });

  test("errors keep type, code, stack and cause, without phones or query parameters", () => {
    const cause = Object.assign(new Error(`duplicate key: (phone)=(${PHONE})`), { code: "23505" });
    const wrapped = new Error(`Failed query: insert into users values ($1, $2)\nparams: ${PHONE},${PIN}`, { cause });
    const out = scrub(wrapped) as any;
    expectNoSecrets(JSON.stringify(out));
    expect(out.type).toBe("Error");
    expect(out.message).toContain("params: [REDACTED]");
    expect(out.stack).toContain("logging.test.ts");
    expect(out.cause.code).toBe("23505");
  });

  test("loggableUrl redacts secret-named query parameters and masks encoded phones", () => {
    const url = new URL(
      `http://x/v1/users/%2B268%207612%203456?pin=${PIN}&token=${TOKEN}&phone=%2B268+7612+3456&limit=5`,
    );
    const logged = loggableUrl(url);
    expectNoSecrets(logged);
    expect(logged).toContain("limit=5");
    expect(logged).toContain("pin=[REDACTED]");
  });
});

describe("a real request", () => {
  test("no secret or full phone number reaches the logs", async () => {
    const requestId = "log-test-handler";
    const res = await t.request("POST", `/v1/test/login?phone=%2B268%207612%203456&pin=${PIN}&ref=ok`, {
      body: { phone: PHONE, pin: PIN },
      headers: { "x-request-id": requestId, authorization: `Bearer ${TOKEN}`, "x-api-key": TOKEN },
    });
    expect(res.status).toBe(500);
    expectNoSecrets(res.text);
    const lines = linesOf(requestId);
    // The handler's own line, the unhandled error, and the request line.
    expect(lines).toHaveLength(3);
    const text = lines.join("\n");
    expectNoSecrets(text);
    expect(text).toContain("ref=ok");
    expect(text).toMatch(/\*+456/);
  });

  test("a driver error carrying the PIN as a query parameter is logged without it", async () => {
    const requestId = "log-test-db";
    const res = await t.request("POST", "/v1/test/login?db=1", {
      body: { phone: PHONE, pin: PIN },
      headers: { "x-request-id": requestId },
    });
    expect(res.status).toBe(500);
    const errorLine = linesOf(requestId).find((line) => line.includes("unhandled error"));
    expect(errorLine).toBeDefined();
    // It is the database's error that got logged, and it still says what failed.
    expect(errorLine).toContain("22012");
    expectNoSecrets(linesOf(requestId).join("\n"));
  });
});
