import { createRoute, z } from "@hono/zod-openapi";
import { jobAuth, requestMeta } from "../http/auth";
import { AppError } from "../http/errors";
import { createRouter, errorResponses, jsonContent, listOf, paginationQuery } from "../http/router";
import { adminAuth } from "../identity";
import type { Jobs } from "./service";

const jobResultSchema = z
  .object({
    jobRunId: z.string().openapi({ example: "job_…" }),
    status: z.enum(["succeeded", "failed"]),
    summary: z.record(z.string(), z.unknown()),
  })
  .openapi("JobResult");

const jobRunSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    trigger: z.string().openapi({ description: "http · loop · cli" }),
    status: z.enum(["running", "succeeded", "failed", "abandoned"]),
    startedAt: z.string(),
    finishedAt: z.string().nullable(),
    summary: z.record(z.string(), z.unknown()),
    error: z.string().nullable(),
  })
  .openapi("JobRun");

const jobSchema = z
  .object({
    name: z.string(),
    path: z.string(),
    schedule: z.string().openapi({ description: "Cloud Scheduler cron (Africa/Mbabane)" }),
    summary: z.string(),
    loop: z.boolean().openapi({ description: "Also runs in-process whenever it has work due" }),
    nextRunAt: z
      .string()
      .nullable()
      .openapi({ description: "When the schedule next comes due (read in Africa/Mbabane); null if it never will" }),
    lastRun: jobRunSchema.nullable(),
  })
  .openapi("Job");

/** Every job in the registry at its endpoint (X-Job-Secret), and the job runs for admins. */
export function jobRoutes(deps: { jobs: Jobs }) {
  const router = createRouter();

  for (const job of deps.jobs.definitions()) {
    const params = deps.jobs.queryOf(job.name);
    router.openapi(
      createRoute({
        method: "post",
        path: job.path,
        tags: ["jobs"],
        summary: job.summary,
        description: `Schedule: \`${job.schedule}\`. One run at a time across all instances: a second is 409. A failed run answers 500 with its jobRunId, and 503 when the database failed under it; running it again is safe.`,
        security: [{ jobSecret: [] }],
        middleware: [jobAuth] as const,
        ...(params ? { request: { query: params } } : {}),
        responses: {
          200: jsonContent(jobResultSchema, "The run"),
          ...errorResponses(...(params ? [400] : []), 401, 409, 500, 503),
        },
      }),
      async (c) => {
        // Validated by the route (a 400 before any run) when the job takes parameters.
        const query = params ? (c.req.valid as (target: "query") => Record<string, unknown>)("query") : undefined;
        const run = await deps.jobs.runJob(job.name, "http", requestMeta(c), query);
        if (run.status !== "succeeded")
          throw new AppError("INTERNAL", `The ${job.name} run did not complete cleanly; run it again.`, {
            jobRunId: run.id,
            status: run.status,
            summary: run.summary,
          });
        return c.json({ jobRunId: run.id, status: "succeeded" as const, summary: run.summary }, 200);
      },
    );
  }

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/jobs",
      tags: ["admin: jobs"],
      summary: "Every scheduled job with its last run",
      security: [{ bearer: [] }],
      middleware: [adminAuth("jobs:read")] as const,
      responses: { 200: jsonContent(z.object({ data: z.array(jobSchema) }), "The jobs"), ...errorResponses(401, 403) },
    }),
    async (c) => {
      const { jobs } = deps;
      const latest = await jobs.latest();
      return c.json({ data: jobs.definitions().map((j) => ({ ...j, lastRun: latest[j.name] ?? null })) }, 200);
    },
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/job-runs",
      tags: ["admin: jobs"],
      summary: "Job runs, newest first",
      security: [{ bearer: [] }],
      middleware: [adminAuth("jobs:read")] as const,
      request: {
        query: paginationQuery.extend({
          name: z.string().max(64).optional(),
          status: z.enum(["running", "succeeded", "failed", "abandoned"]).optional(),
        }),
      },
      responses: { 200: jsonContent(listOf(jobRunSchema), "A page"), ...errorResponses(400, 401, 403) },
    }),
    async (c) => c.json(await deps.jobs.list(c.req.valid("query")), 200),
  );

  router.openapi(
    createRoute({
      method: "get",
      path: "/admin/v1/job-runs/{id}",
      tags: ["admin: jobs"],
      summary: "One job run",
      security: [{ bearer: [] }],
      middleware: [adminAuth("jobs:read")] as const,
      request: { params: z.object({ id: z.string().max(64) }) },
      responses: { 200: jsonContent(jobRunSchema, "The run"), ...errorResponses(401, 403, 404) },
    }),
    async (c) => {
      const run = await deps.jobs.get(c.req.valid("param").id);
      if (!run) throw new AppError("NOT_FOUND", "No such job run.");
      return c.json(run, 200);
    },
  );

  return router;
}
