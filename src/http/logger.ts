import pino, { type Logger } from "pino";
import type { Config } from "../config";
import { maskPhonesInText } from "../lib/phone";

export type { Logger };

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY =
  /^(otp|code|pin|currentpin|newpin|password|secret|token|accesstoken|refreshtoken|authorization|apikey|x-api-key|cookie|totp|pepper|.*secret)$/i;

/** Walks a log object: secrets become "[REDACTED]", every phone number is masked. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskPhonesInText(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (value instanceof Error) return { type: value.name, message: maskPhonesInText(value.message) };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[REDACTED]" : scrub(v, depth + 1);
  return out;
}

const SEVERITY: Record<string, string> = {
  trace: "DEBUG",
  debug: "DEBUG",
  info: "INFO",
  warn: "WARNING",
  error: "ERROR",
  fatal: "CRITICAL",
};

/** pino in Cloud Logging's structured JSON shape (severity, message, httpRequest, trace). */
export function createLogger(config: Pick<Config, "logLevel">, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level: config.logLevel,
      messageKey: "message",
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ severity: SEVERITY[label] ?? "DEFAULT", level: label }),
        log: (object) => scrub(object) as Record<string, unknown>,
      },
      hooks: {
        logMethod(args, method) {
          method.apply(
            this,
            args.map((a) => (typeof a === "string" ? maskPhonesInText(a) : a)) as Parameters<typeof method>,
          );
        },
      },
    },
    destination,
  );
}
