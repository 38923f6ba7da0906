# One image for every eventrunner process: `operator`, `ingest` and `process` (the operator fills
# this image into the workloads it creates). Multi-stage: the build stage compiles TypeScript; the
# runtime stage carries production dependencies only and runs as a non-root user.
ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY api ./api
COPY cli ./cli
COPY operator ./operator
COPY runtime ./runtime
RUN npm run build && npm prune --omit=dev

FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
COPY api ./api
USER 65532:65532
ENTRYPOINT ["node", "/app/bin/eventrunner.js"]
CMD ["--help"]
