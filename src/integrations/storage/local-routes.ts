import { createRoute, z } from "@hono/zod-openapi";
import type { AppContext } from "../../http/context";
import { AppError } from "../../http/errors";
import { createRouter, errorResponses } from "../../http/router";
import type { LocalStore } from "./local";

const params = z.object({
  bucket: z.string().openapi({ example: "keshless-documents" }),
  key: z.string().openapi({ description: "The object key; it may contain `/`.", example: "kyc/usr_…/Qm9…" }),
});

const signedQuery = z.object({
  expires: z.string().openapi({ description: "Unix seconds after which the URL is refused" }),
  token: z.string().openapi({ description: "HMAC-SHA-256 of the request the URL allows, hex" }),
});

const putRoute = createRoute({
  method: "put",
  path: "/storage/{bucket}/{key}",
  tags: ["storage"],
  summary: "Upload to a signed URL (embedded default storage)",
  description:
    "The `upload.url` of `POST /v1/kyc/documents` when the app stores objects itself. Send the bytes with " +
    "`upload.headers`, before `upload.expiresAt`. The URL is the credential: a tampered, expired or " +
    "read-only URL, or another Content-Type, is 403; more bytes than the URL allows is 413 and stores nothing.",
  security: [],
  request: {
    params,
    query: signedQuery.extend({
      contentType: z.string().openapi({ description: "The Content-Type the upload must carry" }),
      maxLength: z.string().openapi({ description: "The most bytes the upload may have" }),
    }),
    body: {
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
      description: "The object's bytes, as the Content-Type the URL was signed for (any type, not only this one)",
    },
  },
  responses: { 200: { description: "Stored" }, ...errorResponses(403, 413) },
});

const getRoute = createRoute({
  method: "get",
  path: "/storage/{bucket}/{key}",
  tags: ["storage"],
  summary: "Read from a signed URL (embedded default storage)",
  description: "A signed read URL (admin KYC review). Tampered, expired or upload URLs are 403.",
  security: [],
  request: { params, query: signedQuery },
  responses: {
    200: {
      description: "The object, with its stored Content-Type",
      content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } },
    },
    ...errorResponses(403, 404),
  },
});

/**
 * The HTTP side of the local adapter: PUT and GET on the URLs its stores sign. Plain handlers (registered in
 * the document by hand) because a key spans path segments, which an OpenAPI path parameter cannot.
 */
export function localStorageRoutes(stores: LocalStore[]) {
  const router = createRouter();
  const byBucket = new Map(stores.map((store) => [store.bucket, store]));
  router.openAPIRegistry.registerPath(putRoute);
  router.openAPIRegistry.registerPath(getRoute);

  router.on("PUT", "/storage/:bucket/:key{.+}", async (c) => {
    const { store, key, grant } = authorize(c, byBucket, "PUT");
    const contentType = c.req.header("content-type")?.trim();
    if (contentType !== grant.contentType)
      throw new AppError("FORBIDDEN", "Send the Content-Type this URL was signed for.");
    const max = grant.maxLength ?? 0;
    const declared = c.req.header("content-length");
    if (declared !== undefined && !/^\d+$/.test(declared))
      throw new AppError("VALIDATION_FAILED", "Content-Length is not a number.");
    // Refused before a byte is read; a body sent without a length is counted as it streams instead.
    if (declared !== undefined && Number(declared) > max)
      throw new AppError("PAYLOAD_TOO_LARGE", `The body is larger than the ${max} bytes this URL allows.`);
    await store.receive(key, c.req.raw.body, contentType, max);
    return c.body(null, 200);
  });

  router.get("/storage/:bucket/:key{.+}", async (c) => {
    const { store, key } = authorize(c, byBucket, "GET");
    const found = await store.open(key);
    if (!found) throw new AppError("NOT_FOUND", "Nothing is stored under this URL.");
    return c.body(found.stream, 200, {
      "Content-Type": found.object.contentType ?? "application/octet-stream",
      "Content-Length": String(found.object.size),
      "Cache-Control": "private, no-store",
      // The URL is the credential, as on GCS: the dashboard (another origin) may show it in an <img>.
      "Cross-Origin-Resource-Policy": "cross-origin",
    });
  });

  return router;
}

function authorize(c: AppContext, stores: Map<string, LocalStore>, method: "PUT" | "GET") {
  const store = stores.get(c.req.param("bucket") ?? "");
  if (!store) throw new AppError("FORBIDDEN", "This is not a signed storage URL.");
  const key = c.req.param("key") ?? "";
  const grant = store.verify(method, key, new URL(c.req.url).searchParams);
  if ("refused" in grant) throw new AppError("FORBIDDEN", grant.refused);
  return { store, key, grant };
}
