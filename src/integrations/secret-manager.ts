/**
 * Google Secret Manager, read-only: every secret of a project whose id starts with a prefix, at its latest
 * version. Through @google-cloud/secret-manager over its REST transport (`fallback`), so an emulator or a test's
 * fake speaking the REST API can stand in for Google at `apiEndpoint` (then no credentials are sent, as to an
 * emulator). The library (and gax's protobufs) load on first use: only the secrets backup needs them.
 */

export interface SecretManagerOptions {
  projectId: string;
  /** Secret ids to read start with this (KESHLESS_). */
  prefix: string;
  /** http(s)://host:port of an emulator or fake instead of Google's endpoint. */
  apiEndpoint?: string;
}

export async function readProjectSecrets(options: SecretManagerOptions): Promise<Record<string, string>> {
  const { SecretManagerServiceClient } = await import("@google-cloud/secret-manager");
  let endpoint = {};
  if (options.apiEndpoint) {
    const url = new URL(options.apiEndpoint);
    const { PassThroughClient } = await import("google-auth-library");
    endpoint = {
      apiEndpoint: url.hostname,
      port: Number(url.port || (url.protocol === "http:" ? 80 : 443)),
      protocol: url.protocol.replace(":", ""),
      authClient: new PassThroughClient(),
    };
  }
  const client = new SecretManagerServiceClient({ fallback: true, projectId: options.projectId, ...endpoint });
  try {
    const secrets: Record<string, string> = {};
    for await (const secret of client.listSecretsAsync(
      { parent: `projects/${options.projectId}` },
      { autoPaginate: false },
    )) {
      const id = secret.name?.split("/").pop() ?? "";
      if (!id.startsWith(options.prefix)) continue;
      const [version] = await client.accessSecretVersion({ name: `${secret.name}/versions/latest` });
      const data = version.payload?.data;
      if (data === undefined || data === null) continue;
      secrets[id] = typeof data === "string" ? data : Buffer.from(data).toString("utf8");
    }
    return secrets;
  } finally {
    await client.close();
  }
}
