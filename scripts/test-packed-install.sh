#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (the build runs in prepack), then `npm install -g` of the
# tarball into an empty prefix, from a directory outside the checkout and with an empty HOME, so nothing
# resolves from the source tree. Then the installed `evident`: --help and --version, a server started from
# it (its /healthz, its web UI, SIGTERM exits 0), and CLI commands against it, `evident run --report`
# among them. Called by .ci/run after the suite; run it alone with `bash scripts/test-packed-install.sh`.
set -euo pipefail

src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/evident-packed-XXXXXX")"
server_pid=""
cleanup() {
  [ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "packed install: FAILED: $*" >&2; [ ! -f "$work/server.err" ] || tail -n 20 "$work/server.err" >&2; exit 1; }
step() { echo "packed install: $*"; }

version="$(node -p 'require(process.argv[1]).version' "$src/package.json")"
step "npm pack (evident $version)"
(cd "$src" && npm pack --silent --pack-destination "$work" >/dev/null)
tarball="$work/evident-$version.tgz"
[ -f "$tarball" ] || fail "npm pack made no $tarball"
# What ships: the CLI (its CommonJS bin and the fast bundles of its groups, its answer checks, its ES entry and chunks), its worker, the web UI, the pinned dependency tree; not the tests or sources.
listing="$(tar -tzf "$tarball")"
for f in package/dist/cli/evident.cjs package/dist/cli/evident-{fast,cmd}-{version,log,flows,artifact,trails,attest}.cjs package/dist/cli/answers/{FlowSummaryPage,ErrorBody}.cjs package/dist/cli/answer-explain.cjs package/dist/cli/evident.js package/dist/cli/parse-worker.js package/dist/cli/run-replay.js package/dist/web/index.html package/npm-shrinkwrap.json; do
  grep -qx "$f" <<<"$listing" || fail "the tarball lacks $f"
done
if grep -qE '^package/(src|test|dist/src|dist/test)/' <<<"$listing"; then fail "the tarball carries sources or tests"; fi
[ ! -e "$src/npm-shrinkwrap.json" ] || fail "postpack left npm-shrinkwrap.json in the checkout"

mkdir -p "$work/home" "$work/prefix" "$work/cwd"
# The machine's npm configuration stays (registry, CA file, nodedir: where native modules find Node's
# headers when they cannot be downloaded); its HOME and working directory do not.
npm_config_userconfig="$(npm config get userconfig)"
export npm_config_userconfig
export HOME="$work/home"
cd "$work/cwd"
step "npm install -g into an empty prefix"
npm install -g --prefix "$work/prefix" --no-audit --no-fund --loglevel=error "$tarball" >/dev/null
# Only the runtime dependencies: nothing the build or the tests need.
for dev in typescript vitest esbuild eslint playwright-core preact; do
  [ ! -e "$work/prefix/lib/node_modules/evident/node_modules/$dev" ] || fail "a dev dependency was installed: $dev"
done
export PATH="$work/prefix/bin:$PATH"
[ "$(command -v evident)" = "$work/prefix/bin/evident" ] || fail "evident is not the installed one"

help="$(evident --help)" || fail "evident --help"
grep -q 'server' <<<"$help" || fail "evident --help does not list server"
[ "$(evident --version)" = "$version" ] || fail "evident --version is not $version"

step "evident server from the installed package"
port_file="$work/server.json"
evident --output json server --port 0 --data-dir "$work/data" --no-demo --log-level warn >"$port_file" 2>"$work/server.err" &
server_pid=$!
url=""
for _ in $(seq 1 240); do
  # The report is one JSON document, complete once it parses (jq accepts an empty file: check the value).
  url="$(jq -r '.url // empty' "$port_file" 2>/dev/null || true)"
  [ -z "$url" ] || break
  kill -0 "$server_pid" 2>/dev/null || fail "the server exited"
  sleep 0.5
done
[ -n "$url" ] || fail "no start-up report"
token="$(jq -r .first_admin.token "$port_file")"
[ "$(curl -fsS "$url/healthz" | jq -r .status)" = ok ] || fail "/healthz"
page="$(curl -fsS "$url/")" || fail "the web UI is not served"
grep -q '<div id="app">' <<<"$page" || fail "the web UI is not served"

export EVIDENT_HOST="$url" EVIDENT_ORG=default EVIDENT_API_TOKEN="$token"
step "CLI commands against it"
evident create flow packed >/dev/null || fail "create flow"
flows="$(evident list flows --output json)" || fail "list flows"
grep -q '"packed"' <<<"$flows" || fail "list flows"
# A pipeline's steps, each from the fast bundle of its group: a trail, an attestation, a report uploaded as evidence.
evident begin trail t1 --flow packed >/dev/null || fail "begin trail"
evident attest generic --name check --flow packed --trail t1 >/dev/null || fail "attest generic"
mkdir -p "$work/results"
printf '<testsuite name="s" tests="1" failures="0" errors="0"><testcase name="a"/></testsuite>\n' >"$work/results/junit.xml"
evident attest junit --results-dir "$work/results" --name unit --flow packed --trail t1 | grep -q '1 tests, 0 failures' || fail "attest junit"
evident get trail t1 --flow packed --output json | grep -q '"unit"' || fail "get trail"

mkdir -p "$work/checkout/src" && cd "$work/checkout"
printf 'int main;\n' >src/main.c
cat >attest.yaml <<'YAML'
version: "0.1"
name: packed
steps:
  build:
    run: "mkdir -p out && cp src/main.c out/app.c"
    inputs: [src/]
    outputs: [out/]
YAML
evident run --report --commit "$(printf 'a%.0s' $(seq 1 40))" >"$work/run.out" || { cat "$work/run.out"; fail "evident run --report"; }
grep -q '\[OK\] build' "$work/run.out" || fail "evident run did not run the step"
evident verify log --full >/dev/null || fail "verify log --full"

step "SIGTERM"
kill -TERM "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=""
[ "$code" = 0 ] || fail "the server exited $code on SIGTERM"
step "ok"
