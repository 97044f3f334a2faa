import type { RequestMeta } from "../audit";
import { CliError, type Command, requireFlag } from "../lib/command";
import type { Identity } from ".";

const cli: RequestMeta = { actor: { type: "system", id: "cli" } };

/** Operator commands: the first admin, vendors and partners before any dashboard exists. */
export const identityCommands: Record<string, Command<Identity>> = {
  "admin:create": {
    describe: "create an admin: --email E --password P --role super_admin|compliance|finance|support",
    flags: ["email", "password", "role"],
    run: async (identity, flags) => {
      const admin = await identity.admins.create({
        ctx: cli,
        input: {
          email: requireFlag(flags, "email"),
          password: requireFlag(flags, "password"),
          role: requireFlag(flags, "role"),
        },
      });
      return {
        result: {
          id: admin.id,
          email: admin.email,
          role: admin.role,
          totpSecret: admin.totpSecret,
          otpauthUrl: admin.otpauthUrl,
        },
      };
    },
  },

  "vendor:create": {
    describe: "create a vendor and its wallet: --name N --email E --password P --phone PH",
    flags: ["name", "email", "password", "phone", "registration-number", "address", "category"],
    run: async (identity, flags) => {
      const vendor = await identity.vendors.create({
        ctx: cli,
        input: {
          name: requireFlag(flags, "name"),
          email: requireFlag(flags, "email"),
          password: requireFlag(flags, "password"),
          phone: requireFlag(flags, "phone"),
          registrationNumber: flags["registration-number"],
          address: flags.address,
          category: flags.category,
        },
      });
      return { result: { id: vendor.id, code: vendor.code, name: vendor.name, phone: vendor.phone } };
    },
  },

  "partner:create": {
    describe:
      "create a partner, its settlement account and an API key (shown once), live at once (the operator's channel, " +
      "with database access; admins over HTTP need a second admin's approval): --name N [--scopes a,b] " +
      "[--funding-limit CENTS (default KESHLESS_PARTNER_DEFAULT_FUNDING_LIMIT: 0 in production)]",
    flags: ["name", "scopes", "funding-limit"],
    run: async (identity, flags) => {
      const scopes = flags.scopes
        ?.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      const limit = flags["funding-limit"];
      if (limit !== undefined && !/^\d{1,16}$/.test(limit))
        throw new CliError("--funding-limit must be a whole number of cents, 0 or more");
      const partner = await identity.partners.create({
        ctx: cli,
        input: {
          name: requireFlag(flags, "name"),
          ...(scopes?.length ? { scopes } : {}),
          ...(limit !== undefined ? { fundingLimit: Number(limit) } : {}),
        },
      });
      return {
        result: {
          id: partner.id,
          apiKey: partner.apiKey,
          name: partner.name,
          scopes: partner.key.scopes,
          fundingLimit: partner.fundingLimit,
        },
      };
    },
  },
};
