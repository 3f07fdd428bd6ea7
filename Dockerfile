# The chargebench command in a container: docker build -t chargebench:latest .
# Build stage: the toolchain that sqlite3's native binding compiles with, and TypeScript.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
COPY tools/lint/package.json tools/lint/
RUN npm ci --no-audit --no-fund --ignore-scripts && npm rebuild sqlite3 esbuild
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Runtime stage: the built code, production dependencies and the scenario library, run as `node`.
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/bin/chargebench.js ./bin/
COPY --from=build /app/dist ./dist
COPY --from=build /app/scenarios ./scenarios
RUN ln -s /app/bin/chargebench.js /usr/local/bin/chargebench \
  && mkdir -p reports/out data && chown node:node reports/out data
USER node
ENTRYPOINT ["chargebench"]
CMD ["--help"]
