# syntax=docker/dockerfile:1.7
# The one image behind keshless-api, keshless-api-dev and keshless-ussd (KESHLESS_ROLE picks the routes).
# Bun runs the TypeScript directly: there is no build step, only production dependencies.

ARG BUN_VERSION=1.4.4
# pg_dump and pg_restore (the backups, README "Disaster recovery") must be at least the server's major version:
# take them from PGDG, not the distribution's older client. A backup run checks and refuses an older one.
ARG PG_MAJOR=17

FROM oven/bun:${BUN_VERSION}-slim AS deps
WORKDIR /app
COPY package.json bun.lock ./
# bun install applies them (patchedDependencies): the postgres.js fixes for closed connections.
COPY patches ./patches
RUN bun install --frozen-lockfile --production --ignore-scripts

FROM oven/bun:${BUN_VERSION}-slim AS runtime
ARG PG_MAJOR
RUN set -eux; \
    apt-get update; \
    apt-get install -y --no-install-recommends ca-certificates curl; \
    install -d /usr/share/postgresql-common/pgdg; \
    curl -fsSL -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc https://www.postgresql.org/media/keys/ACCC4CF8.asc; \
    . /etc/os-release; \
    echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] https://apt.postgresql.org/pub/repos/apt ${VERSION_CODENAME}-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list; \
    apt-get update; \
    apt-get install -y --no-install-recommends "postgresql-client-${PG_MAJOR}"; \
    apt-get purge -y --auto-remove curl; \
    rm -rf /var/lib/apt/lists/*; \
    pg_dump --version; \
    pg_restore --version

WORKDIR /app
# KESHLESS_ENV defaults to production so an image started without its configuration refuses to boot
# (no simulators, no outbox, no embedded database) instead of quietly running the development setup.
ENV NODE_ENV=production \
    KESHLESS_ENV=production \
    PORT=8080 \
    KESHLESS_DATA_DIR=/tmp/keshless
COPY --from=deps /app/node_modules ./node_modules
COPY package.json bun.lock tsconfig.json ./
COPY src ./src
COPY drizzle ./drizzle

# The bun user (uid 1000) comes with the oven/bun images; the code stays root-owned and read-only to it.
USER bun
EXPOSE 8080
# Cloud Run ignores HEALTHCHECK (it probes the port); this serves `docker run` and compose.
HEALTHCHECK --interval=30s --timeout=3s --start-period=30s --retries=3 \
  CMD ["bun", "-e", "fetch(`http://127.0.0.1:${process.env.PORT ?? 8080}/health`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bun", "src/index.ts"]
