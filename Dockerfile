# The Evident server as a container image (docs/deploy.md).
#
#   podman build -t evident .        (or docker build)
#   podman run -d -p 8080:8080 -v evident-data:/data evident
#
# Three stages: build packs the CLI from source exactly as `npm pack` makes a release (the build runs in
# prepack); install installs that tarball with its runtime dependencies only, compiling better-sqlite3;
# the last stage is the runtime image with the installed package and no compilers, sources or dev tools.
# The images are build arguments: no registry is reachable where this is tested, so there the test builds
# both from Debian packages (scripts/test-container.sh). BUILD_IMAGE needs node, npm, g++, make and
# python3; BASE_IMAGE needs the same Node release and a compatible glibc (same Debian release).
ARG BUILD_IMAGE=docker.io/library/node:24-bookworm
ARG BASE_IMAGE=docker.io/library/node:24-bookworm-slim

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the build needs no native module (better-sqlite3 is compiled in the install stage).
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm pack --silent --pack-destination /tmp && mv /tmp/evident-*.tgz /tmp/evident.tgz

FROM ${BUILD_IMAGE} AS install
COPY --from=build /tmp/evident.tgz /tmp/evident.tgz
RUN npm install -g --prefix /opt/evident --no-audit --no-fund --loglevel=error /tmp/evident.tgz

FROM ${BASE_IMAGE}
COPY --from=install /opt/evident /opt/evident
# A fixed non-root uid (no passwd entry needed): the data directory belongs to it.
RUN mkdir -p /data && chown 10001:10001 /data
USER 10001:10001
ENV PATH=/opt/evident/bin:$PATH \
    HOME=/data \
    EVIDENT_DATA_DIR=/data \
    EVIDENT_BIND=0.0.0.0 \
    EVIDENT_PORT=8080 \
    EVIDENT_NO_DEMO=1
VOLUME ["/data"]
EXPOSE 8080
# /healthz answers while the process serves; node's fetch, since slim images have no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.EVIDENT_PORT || 8080) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM (docker/podman stop) shuts the server down gracefully: docs/server.md "Stopping".
STOPSIGNAL SIGTERM
ENTRYPOINT ["evident"]
CMD ["server"]
