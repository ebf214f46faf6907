# Sluice's image: `sluice run <job>` as PID 1, for Docker and Kubernetes (deploy/k8s/).
#
#   docker build -t sluice:0.1.0 .
#   docker run --rm -p 8081:8081 --stop-timeout 60 sluice:0.1.0 examples/clickstream.ts
#   docker run --rm -p 8081:8081 -v "$PWD/job.ts:/app/jobs/job.ts:ro" -v sluice-state:/app/.sluice sluice:0.1.0
#
# Base: node:22-slim. Debian's glibc is what the prebuilt native modules Sluice loads (lmdb,
# msgpackr-extract, DuckDB) are built and tested against first (Alpine's musl builds exist for
# some, not all, and slim has no compiler to fall back on either way), and Node 22 is the
# oldest LTS Sluice's users run. Another Node: --build-arg NODE_IMAGE=node:24-slim.
ARG NODE_IMAGE=node:22-slim

# Build: all dependencies, the compiled package (dist/), then exactly what `npm publish`
# would ship, unpacked into /pkg.
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci
COPY . .
RUN npm run build \
 && npm pack --pack-destination /tmp \
 && mkdir /pkg \
 && tar -xzf /tmp/sluice-*.tgz -C /pkg --strip-components=1

# Runtime: production dependencies from the lockfile, the package, the examples.
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
# --ignore-scripts: no lifecycle script of the package itself (it has no compiler here); the
# native dependencies load their prebuilt binaries.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /pkg/ ./
COPY --from=build /src/examples ./examples
# `sluice` on the PATH, whatever file package.json's bin names. Job files go in /app/jobs/
# (inside the package, so their `import ... from 'sluice'` resolves to it); checkpoints and
# savepoints in /app/.sluice/, the only place the job writes besides /tmp: mount a volume there.
RUN bin="$(node -p "require('./package.json').bin.sluice")" \
 && chmod 0755 "$bin" \
 && ln -s "/app/$bin" /usr/local/bin/sluice \
 && mkdir -p /app/jobs /app/.sluice \
 && chown 1000:1000 /app/.sluice
# The node user of the base image, by number (Kubernetes' runAsNonRoot checks numbers).
USER 1000:1000
EXPOSE 8081
# `docker stop` and a pod's termination send SIGTERM: with --savepoint-on-stop the job stops
# with a savepoint under /app/.sluice/savepoints/ (give it time: docker stop -t 60).
STOPSIGNAL SIGTERM
# No curl in slim images: Node's own fetch. /healthz answers while the process serves.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8081/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# Serve on all addresses (the default, 127.0.0.1, is unreachable from outside the container):
# the API has no authentication, so --insecure says so; keep port 8081 off untrusted networks.
ENTRYPOINT ["sluice", "run", "--host", "0.0.0.0", "--insecure", "--port", "8081", "--savepoint-on-stop", "--no-progress"]
CMD ["jobs/job.ts"]
