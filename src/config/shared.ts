import { z } from "zod";

/** The pieces every slice builds its variables from, and the error a bad configuration stops boot with. */

export class ConfigError extends Error {
  override name = "ConfigError";
}

export const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
export const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** A variable holding JSON, validated by `schema`; its issues are reported under the variable's name. */
export const jsonOf = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx): z.infer<T> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: "custom", message: "is not valid JSON" });
      return z.NEVER;
    }
    const result = schema.safeParse(parsed);
    if (!result.success) {
      ctx.addIssue({
        code: "custom",
        message: result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      });
      return z.NEVER;
    }
    return result.data;
  });

/** A comma-separated list; blanks dropped. */
export const list = (value: string | undefined) =>
  (value ?? "")
    .split(",")
    .map((v) => v.trim())
    .filter(Boolean);
