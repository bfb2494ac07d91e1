# syntax=docker/dockerfile:1
# One image for every Calbridge process. The default command serves the API; the worker is the same
# image run with `node worker/main.ts`, and migrations with `node db/migrate.ts` (docker-compose.yml).
# There is no build step: Node 24 strips the TypeScript types itself when it loads a .ts file.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Not `npm ci`: the lock file was written through a registry mirror that lacks other platforms'
# optional binaries (several @swc/core-<platform> packages), so it has no entries for them and npm ci
# rejects it as out of sync with package.json. `npm install` with an in-sync lock file installs
# exactly the versions it pins, and only this platform's optional binaries. --omit=dev keeps vitest,
# tsc and biome out of the image.
RUN npm install --omit=dev --no-audit --no-fund --loglevel=error \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
# glibc's allocator tuned as scripts/with-toolchain.sh does for `npm start`: memory freed after a
# burst goes back to the system.
ENV MALLOC_ARENA_MAX=2 MALLOC_TRIM_THRESHOLD_=1048576 MALLOC_MMAP_THRESHOLD_=1048576
WORKDIR /app
# Code and dependencies stay owned by root, so the process cannot rewrite them; only DATA_DIR (.data:
# mail kept as .eml files when SMTP_URL is unset) is writable by the runtime user.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000
CMD ["node", "api/main.ts"]
