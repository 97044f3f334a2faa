import pino, { type Logger } from "pino";
import type { Config } from "../config";
import { maskPhonesInText } from "../lib/phone";

export type { Logger };

/** Keys whose values never reach a log line, at any depth. */
const SECRET_KEY =
  /^(otp|code|pin|currentpin|newpin|password|secret|token|accesstoken|refreshtoken|authorization|apikey|x-api-key|cookie|totp|pepper|.*secret)$/i;

// Drizzle appends the bound parameters (PIN hashes, codes, names) to its error message and stack.
const QUERY_PARAMS = /\nparams: [\s\S]*?(?=\n {4}at |$)/g;
const errorText = (text: string) => maskPhonesInText(text.replace(QUERY_PARAMS, "\nparams: [REDACTED]"));

/** Walks a log object: secrets become "[REDACTED]", every phone number is masked. */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskPhonesInText(value);
  if (value === null || typeof value !== "object") return value;
  // Returning a too-deep object as it is would let whatever secret it holds through unscrubbed.
  if (depth > 8) return "[TRUNCATED]";
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return {
      type: value.name,
      message: errorText(value.message),
      ...(typeof code === "string" ? { code } : {}),
      ...(value.stack ? { stack: errorText(value.stack) } : {}),
      ...(value.cause !== undefined ? { cause: scrub(value.cause, depth + 1) } : {}),
    };
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) ? "[REDACTED]" : scrub(v, depth + 1);
  return out;
}

/** Path and query for the request log, decoded so every spelling of a phone is masked; secret-named parameters are redacted. */
export function loggableUrl(url: URL): string {
  let path = url.pathname;
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep it encoded
  }
  const query = [...url.searchParams].map(([k, v]) => `${k}=${SECRET_KEY.test(k) ? "[REDACTED]" : v}`).join("&");
  return maskPhonesInText(query ? `${path}?${query}` : path);
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
      // scrub() has already turned errors into plain objects; pino's own err serializer would rename their type to "Object".
      serializers: { err: (err: unknown) => err },
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
