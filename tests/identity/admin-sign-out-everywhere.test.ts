import { describe, expect, test } from "bun:test";
import { createAdmin, signInAdmin } from "../support/factories";
import { createTestContext } from "../support/harness";

const t = await createTestContext();

describe("POST /admin/v1/auth/logout-all", () => {
  test("ends every session of the admin — both devices' access and refresh tokens — and no one else's; audited", async () => {
    const admin = await createAdmin(t, "compliance");
    const laptop = await signInAdmin(t, admin);
    const phone = await signInAdmin(t, admin);
    const colleague = await signInAdmin(t, await createAdmin(t, "compliance"));

    const res = await t.request("POST", "/admin/v1/auth/logout-all", { token: phone.accessToken });
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ ended: 2 });

    for (const session of [laptop, phone]) {
      expect((await t.request("GET", "/admin/v1/me", { token: session.accessToken })).status).toBe(401);
      const refreshed = await t.request("POST", "/admin/v1/auth/refresh", {
        body: { refreshToken: session.refreshToken },
      });
      expect(refreshed.status).toBe(401);
    }
    expect((await t.request("GET", "/admin/v1/me", { token: colleague.accessToken })).status).toBe(200);
    const audit = await t.deps.audit.list({ limit: 5, action: "admin.logout.all", targetId: admin.id });
    expect(audit.data.map((r) => r.details)).toEqual([{ ended: 2 }]);
    expect((await t.request("POST", "/admin/v1/auth/logout-all")).status).toBe(401);
  });
});
