import createFetchClient, { type Middleware } from "openapi-fetch";
import createClient from "openapi-react-query";
import { API_URL, accessToken, dropSession, refresh } from "@/auth/session";
import type { paths } from "./schema";

/**
 * Every request carries the in-memory access token; a 401 on it refreshes once and retries, and a second 401
 * means the session is over (signed out elsewhere, expired, admin disabled).
 */
async function authorizedFetch(request: Request): Promise<Response> {
  const retry = request.clone();
  const token = await accessToken();
  if (token) request.headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(request);
  if (response.status !== 401 || !token) return response;
  const renewed = await refresh();
  if (!renewed) {
    dropSession();
    return response;
  }
  retry.headers.set("Authorization", `Bearer ${renewed}`);
  const second = await fetch(retry);
  if (second.status === 401) dropSession();
  return second;
}

// Money-moving POSTs need an Idempotency-Key (API.md "Conventions"); a fresh one per click, never reused.
const idempotency: Middleware = {
  onRequest({ request }) {
    if (request.method === "POST" && !request.headers.has("Idempotency-Key"))
      request.headers.set("Idempotency-Key", crypto.randomUUID());
    return request;
  },
};

export const fetchClient = createFetchClient<paths>({ baseUrl: API_URL, fetch: authorizedFetch });
fetchClient.use(idempotency);

export const api = createClient(fetchClient);

/** The message of whatever a query or mutation threw: the API's own when it answered with its error shape. */
export function messageOf(error: unknown): string {
  if (!error) return "";
  if (typeof error === "object" && error !== null && "error" in error) {
    const inner = (error as { error?: { message?: string } }).error;
    if (inner?.message) return inner.message;
  }
  if (error instanceof Error) return error.message;
  return "Something went wrong.";
}
