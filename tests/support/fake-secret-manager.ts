/**
 * A wire-level fake of Google Secret Manager's REST API (v1), the part the secrets backup uses through
 * @google-cloud/secret-manager's REST transport: `projects.secrets.list` (paged, as Google pages it, with
 * nextPageToken) and `projects.secrets.versions.access` of `latest`. Like Google, it names secrets by the project
 * NUMBER in what it returns (projects/<number>/secrets/<id>) and accepts either the id or the number in paths;
 * errors are Google's JSON error shape. It checks no credentials: with an endpoint set the client sends none.
 */

export interface FakeSecretManager {
  url: string;
  /** Secret id → its versions' values, oldest first (`latest` is the last). */
  secrets: Map<string, string[]>;
  /** Secrets per list page. */
  pageSize: number;
  requests: { method: string; path: string }[];
  stop(): Promise<void>;
}

export function startFakeSecretManager(projectId: string, projectNumber = "314159265358"): FakeSecretManager {
  const error = (status: number, code: string, message: string) =>
    Response.json({ error: { code: status, message, status: code } }, { status });
  const project = (p: string) => p === projectId || p === projectNumber;

  const fake: FakeSecretManager = {
    url: "",
    secrets: new Map(),
    pageSize: 100,
    requests: [],
    stop: async () => {},
  };

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const url = new URL(request.url);
      fake.requests.push({ method: request.method, path: url.pathname });
      if (request.method !== "GET") return error(405, "UNIMPLEMENTED", "Only reads are faked.");
      const list = /^\/v1\/projects\/([^/]+)\/secrets$/.exec(url.pathname);
      if (list) {
        if (!project(list[1]!)) return error(403, "PERMISSION_DENIED", `Permission denied on project ${list[1]}.`);
        const ids = [...fake.secrets.keys()].sort();
        const from = Number(url.searchParams.get("pageToken") || 0);
        const page = ids.slice(from, from + fake.pageSize);
        const next = from + fake.pageSize < ids.length ? String(from + fake.pageSize) : undefined;
        return Response.json({
          secrets: page.map((id) => ({
            name: `projects/${projectNumber}/secrets/${id}`,
            replication: { automatic: {} },
            createTime: "2026-01-05T08:00:00.000000Z",
            etag: '"1"',
          })),
          ...(next ? { nextPageToken: next } : {}),
          totalSize: ids.length,
        });
      }
      const access = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/([^/:]+):access$/.exec(url.pathname);
      if (access) {
        const [, p, id, version] = access as unknown as [string, string, string, string];
        const versions = fake.secrets.get(id);
        if (!project(p) || !versions?.length)
          return error(404, "NOT_FOUND", `Secret [projects/${p}/secrets/${id}] not found or has no versions.`);
        const index = version === "latest" ? versions.length - 1 : Number(version) - 1;
        const value = versions[index];
        if (value === undefined) return error(404, "NOT_FOUND", `Secret Version [${version}] not found.`);
        return Response.json({
          name: `projects/${projectNumber}/secrets/${id}/versions/${index + 1}`,
          payload: { data: Buffer.from(value).toString("base64") },
        });
      }
      return error(404, "NOT_FOUND", `Not faked: ${url.pathname}`);
    },
  });
  fake.url = `http://127.0.0.1:${server.port}`;
  fake.stop = async () => {
    await server.stop(true);
  };
  return fake;
}
