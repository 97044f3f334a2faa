import type { Context } from "hono";
import type { Core } from "../core";

/** What every request carries in Hono's context: the request id, and whoever the auth guard let in. */
export interface Principal {
  kind: "user" | "vendor" | "admin" | "partner" | "job" | "gateway";
  id: string;
  role?: string;
  scopes?: string[];
}

export interface AppEnv {
  Variables: {
    requestId: string;
    core: Core;
    principal?: Principal;
  };
}

export type AppContext = Context<AppEnv>;

export type ActorType = "admin" | "user" | "vendor" | "partner" | "system" | "anonymous";

export interface Actor {
  type: ActorType;
  id?: string | null;
}

/** Who asked, from where: what services need of the request to audit it (built by http/auth requestMeta). */
export interface RequestMeta {
  actor?: Actor;
  ip?: string;
  requestId?: string;
}
