#!/usr/bin/env bash
# Browser tests of the mock's web side: Playwright core (npm) driving Debian's chromium.
# Installs what it needs, builds and starts `truidentidad-mock serve --port 0`, runs
# `node --test`, stops the server. Exits non-zero when anything fails.
# Screenshots land in e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
ROOT="$(cd .. && pwd)"

if [ ! -x /usr/bin/chromium ]; then
  echo "e2e: installing chromium (Debian package)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error

(cd "$ROOT" && cargo build --quiet --bin truidentidad-mock)

rm -rf artifacts && mkdir -p artifacts
OUT="$(mktemp)"
# The binary cargo just built (CARGO_TARGET_DIR when set); tests that need a server of their
# own (another flag, an isolated store) start it from MOCK_BIN.
export MOCK_BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/truidentidad-mock"
"$MOCK_BIN" serve --port 0 --no-request-log >"$OUT" 2>artifacts/server.log &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$OUT"; }
trap cleanup EXIT

URL=""
for _ in $(seq 1 100); do
  URL="$(head -n1 "$OUT" | sed -n 's/^listening on //p')"
  [ -n "$URL" ] && break
  kill -0 "$SERVER" 2>/dev/null || { echo "e2e: the server exited:"; cat artifacts/server.log; exit 1; }
  sleep 0.1
done
[ -n "$URL" ] || { echo "e2e: the server did not print its address"; exit 1; }
echo "e2e: mock at $URL"

MOCK_URL="$URL" timeout 300 node --test --test-concurrency=1 tests/
