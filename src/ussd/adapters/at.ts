import { z } from "@hono/zod-openapi";
import { normalizePhone } from "../../lib/phone";
import type { UssdEvent, UssdReply } from "../types";

/**
 * Africa's Talking style USSD (INTEGRATIONS.md §2): a form POST whose `text` is every input so far
 * joined by `*` ("" on the first hop); the reply is text/plain starting `CON ` (more) or `END ` (done).
 * Only the latest input is used — back/home and the screen stack live in our session, as for MTN.
 */
export const atRequestSchema = z
  .object({
    sessionId: z.string().min(1).max(128),
    serviceCode: z.string().max(64),
    phoneNumber: z.string().min(1).max(32),
    networkCode: z.string().max(16).optional(),
    text: z.string().max(2048).default(""),
  })
  .openapi("AtUssdRequest");

/** The end-of-session notice AT posts to a second URL. */
export const atEndSchema = z
  .object({
    sessionId: z.string().min(1).max(128),
    status: z.string().max(32),
    phoneNumber: z.string().max(32).optional(),
    serviceCode: z.string().max(64).optional(),
    networkCode: z.string().max(16).optional(),
    input: z.string().max(2048).optional(),
    hopsCount: z.string().max(16).optional(),
    errorMessage: z.string().max(1024).optional(),
  })
  .openapi("AtUssdEndNotice");

export function atToEvent(body: z.infer<typeof atRequestSchema>): UssdEvent {
  const inputs = body.text === "" ? [] : body.text.split("*");
  return {
    gateway: "at",
    sessionId: body.sessionId,
    phone: normalizePhone(body.phoneNumber),
    input: inputs.at(-1) ?? "",
    isNew: inputs.length === 0,
    ended: false,
    // The whole history: a resent hop is exactly the same text, and no later hop ever is.
    raw: body.text,
    exact: true,
  };
}

export function atEndToEvent(body: z.infer<typeof atEndSchema>): UssdEvent {
  return {
    gateway: "at",
    sessionId: body.sessionId,
    phone: body.phoneNumber ? normalizePhone(body.phoneNumber) : null,
    input: "",
    isNew: false,
    ended: true,
    raw: "",
    exact: true,
  };
}

export const atFromReply = (reply: UssdReply) => `${reply.end ? "END" : "CON"} ${reply.text}`;
