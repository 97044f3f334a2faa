import { useSyncExternalStore } from "react";
import type { components } from "@/api/schema";

export type Admin = components["schemas"]["Admin"];

interface Session {
  accessToken: string;
  refreshToken: string;
  /** ms since the epoch when the access token stops working. */
  expiresAt: number;
  admin: Admin;
}

export const API_URL = import.meta.env.VITE_API_URL as string;

/**
 * The session lives in this module's memory only — never localStorage or sessionStorage — so a script injected
 * into the page later cannot read a token left behind, and a closed tab leaves nothing. Reloading signs out.
 */
let session: Session | null = null;
const listeners = new Set<() => void>();

function set(next: Session | null) {
  session = next;
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void) {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function useSession(): Session | null {
  return useSyncExternalStore(subscribe, () => session);
}

export function currentAdmin(): Admin | null {
  return session?.admin ?? null;
}

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The API's one error shape, `{error:{code,message}}`, as an ApiError. */
export async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => null)) as { error?: { code?: string; message?: string } } | null;
  return new ApiError(
    body?.error?.message ?? `The server answered ${response.status}.`,
    response.status,
    body?.error?.code ?? "UNKNOWN",
  );
}

type SessionBody = { accessToken: string; refreshToken: string; expiresIn: number; admin: Admin };

function adopt(body: SessionBody) {
  set({
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    expiresAt: Date.now() + body.expiresIn * 1000,
    admin: body.admin,
  });
}

async function post(path: string, body: unknown, token?: string): Promise<Response> {
  return fetch(`${API_URL}${path}`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body ?? {}),
  });
}

export async function signIn(input: { email: string; password: string; totp: string }): Promise<void> {
  const response = await post("/admin/v1/auth/login", input);
  if (!response.ok) throw await errorOf(response);
  adopt(await response.json());
}

let refreshing: Promise<string | null> | null = null;

/**
 * Exchanges the refresh token for a new pair (the API rotates it on every use and ends the session when a used
 * one comes back), once at a time: concurrent requests share one exchange rather than racing into "reuse".
 */
export function refresh(): Promise<string | null> {
  if (!session) return Promise.resolve(null);
  refreshing ??= (async () => {
    const refreshToken = session?.refreshToken;
    try {
      const response = await post("/admin/v1/auth/refresh", { refreshToken });
      if (!response.ok) {
        set(null);
        return null;
      }
      adopt(await response.json());
      return session?.accessToken ?? null;
    } catch {
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** A live access token: the one held while it has 30 s left, else a refreshed one; null when signed out. */
export async function accessToken(): Promise<string | null> {
  if (!session) return null;
  if (session.expiresAt - Date.now() > 30_000) return session.accessToken;
  return refresh();
}

/** Ends the session on the API (it refuses its tokens from then on), then forgets it here. */
export async function signOut(): Promise<void> {
  const token = session?.accessToken;
  set(null);
  if (token) await post("/admin/v1/auth/logout", {}, token).catch(() => undefined);
}

/** Ends every session of this admin on the API — other tabs and devices too — then forgets this one. */
export async function signOutEverywhere(): Promise<void> {
  const token = session?.accessToken;
  if (token) {
    const response = await post("/admin/v1/auth/logout-all", {}, token);
    if (!response.ok) throw await errorOf(response);
  }
  set(null);
}

/** The API refused our token for good (ended elsewhere, disabled admin): forget the session. */
export function dropSession() {
  set(null);
}

export function updateAdmin(admin: Admin) {
  if (session) set({ ...session, admin });
}

export function can(permission: string): boolean {
  return session?.admin.permissions.includes(permission) ?? false;
}
