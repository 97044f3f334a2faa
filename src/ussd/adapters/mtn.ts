import { z } from "@hono/zod-openapi";
import { normalizePhone } from "../../lib/phone";
import type { UssdEvent, UssdReply } from "../types";

/**
 * MTN MADAPI USSD (INTEGRATIONS.md §2): JSON in, JSON out; `ussdString` carries the latest input only.
 * messageType 0 Begin · 1 Continue · 2 End · 3 Notification · 4 Abort · 5 Timeout, as a string or a number.
 */
export const mtnRequestSchema = z
  .object({
    sessionId: z.string().min(1).max(128),
    messageType: z.union([z.enum(["0", "1", "2", "3", "4", "5"]), z.number().int().min(0).max(5)]),
    msisdn: z.string().min(1).max(32),
    serviceCode: z.string().max(64),
    ussdString: z.string().max(512).default(""),
    cellId: z.string().max(64).optional(),
    language: z.string().max(16).optional(),
    imsi: z.string().max(32).optional(),
  })
  .openapi("MtnUssdRequest", {
    example: {
      sessionId: "01235",
      messageType: "0",
      msisdn: "26876123456",
      serviceCode: "321123",
      ussdString: "*321#",
    },
  });

export const mtnResponseSchema = z
  .object({
    statusCode: z.string(),
    statusMessage: z.string(),
    transactionId: z.string(),
    data: z.object({
      inboundResponse: z.string(),
      userInputRequired: z.boolean(),
      messageType: z.union([z.literal(1), z.literal(2)]),
      serviceCode: z.string(),
      msisdn: z.string(),
    }),
  })
  .openapi("MtnUssdResponse");

type MtnRequest = z.infer<typeof mtnRequestSchema>;

/** null for a notification (3): it belongs to no session and needs only an acknowledgement. */
export function mtnToEvent(body: MtnRequest): UssdEvent | null {
  const type = Number(body.messageType);
  if (type === 3) return null;
  return {
    gateway: "mtn",
    sessionId: body.sessionId,
    phone: normalizePhone(body.msisdn),
    // On Begin, ussdString is the code dialled (*321#), not an answer.
    input: type === 0 ? "" : body.ussdString,
    isNew: type === 0,
    ended: type === 2 || type === 4 || type === 5,
    raw: `${type}:${body.ussdString}`,
    exact: false,
  };
}

export function mtnFromReply(reply: UssdReply, body: MtnRequest, transactionId: string) {
  return {
    statusCode: "0000",
    statusMessage: "",
    transactionId,
    data: {
      inboundResponse: reply.text,
      userInputRequired: !reply.end,
      messageType: reply.end ? (2 as const) : (1 as const),
      serviceCode: body.serviceCode,
      msisdn: body.msisdn,
    },
  };
}
