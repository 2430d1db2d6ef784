# The tandem worker image. Multi-stage: the build stage runs the same install and type check as CI (.ci/run) and
# compiles the sources into dist/ (scripts/build.cjs); the runtime stage keeps production dependencies and the compiled
# code, and runs it as the unprivileged `node` user with no TypeScript compiler.
# Not built on the development machine (no Docker engine there); test/deployment.test.ts checks what it can.

FROM node:20-bookworm-slim AS build
WORKDIR /app
# The image talks to a Temporal server over the network; it needs no local `temporal` CLI.
ENV TANDEM_SKIP_TEMPORAL_CLI=1
COPY package.json package-lock.json ./
COPY scripts ./scripts
RUN npm install --no-audit --no-fund
COPY . .
RUN npm run typecheck
RUN npm run build
RUN npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    TANDEM_SKIP_TEMPORAL_CLI=1 \
    TANDEM_STATE_DIR=/data \
    TANDEM_STORE_URL=/data/store \
    TANDEM_WORKSPACE_ROOT=/data/workspaces
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data/store /data/workspaces && chown -R node:node /data
USER node
VOLUME ["/data"]
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["node", "dist/worker/healthcheck.js"]
CMD ["node", "dist/worker/main.js"]
