# One image for every eventrunner process: `operator`, `ingest` and `process` (the operator puts
# its configured image, by default this one, into the workloads it creates). Three stages: `deps`
# installs production dependencies only, `build` compiles TypeScript with the dev dependencies,
# and the runtime stage takes node_modules from the first and dist/ from the second, so no
# compiler or test tool reaches the image. It runs as a non-root user with a numeric UID, so
# Kubernetes' runAsNonRoot can verify it.
#
#   docker build -t eventrunner:0.1.0 .
#   docker run --rm eventrunner:0.1.0 --help
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
# No production dependency needs its install script (protobufjs' only prints version warnings).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY cli ./cli
COPY operator ./operator
COPY runtime ./runtime
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim
LABEL org.opencontainers.image.title="eventrunner" \
      org.opencontainers.image.description="eventrunner operator, ingest and processor" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV NODE_ENV=production
WORKDIR /app
# What the npm package ships (package.json "files"): the CLI, the compiled code, the CRDs and the
# gRPC ingest protos, which the ingest server loads at run time.
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
COPY api/proto ./api/proto
# The dashboard's page script and styles, served by `eventrunner dashboard`.
COPY runtime/dashboard/static ./runtime/dashboard/static
# The same UID/GID the operator's workloads and the Helm chart set in their securityContext.
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/eventrunner.js"]
CMD ["--help"]
