import { z } from "@hono/zod-openapi";
import { normalizePhone } from "../lib/phone";
import { CONFIGURED_MAXIMUM } from "./router";

/** The request fields every money route shares: one definition each (payments, withdrawals, airtime, cards). */

/**
 * Amounts: integer cents; zero, negative, fractional or non-numeric is a 400 here (zod's int() also refuses
 * anything past 2^53−1). The configured maximum is checked in the service (assertAmount: 400 naming `amount`);
 * /openapi.json publishes it as this field's maximum (CONFIGURED_MAXIMUM).
 */
export const amountField = z
  .number()
  .int()
  .positive()
  .openapi({ example: 1500, [CONFIGURED_MAXIMUM]: "KESHLESS_MAX_AMOUNT" });
export const currencyField = z.literal("SZL");
export const pinField = z.string().regex(/^\d{4,6}$/, "4–6 digits");
export const phoneField = z
  .string()
  .max(32)
  .transform((value, ctx) => {
    const phone = normalizePhone(value);
    if (!phone) {
      ctx.addIssue({ code: "custom", message: "not an Eswatini mobile number (8 digits starting 75–79)" });
      return z.NEVER;
    }
    return phone;
  })
  .openapi({ type: "string", example: "+26876123456" });
