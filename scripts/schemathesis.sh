#!/usr/bin/env bash
# Schemathesis over the whole OpenAPI document the mock serves (GET /_mock/openapi.yaml): every
# operation, positive and negative cases, every check (Schemathesis 4 runs them all by default). The document and the server must agree,
# so any failure ends the step non-zero. Called by .ci/run; run it by hand the same way:
#
#   bash scripts/schemathesis.sh            # SCHEMATHESIS_MAX_TIME=150 by default
#
# Schemathesis is pinned and installed with pip into a venv kept under ~/.cache, so later runs
# on the same machine reuse it. The mock is the debug binary, started on a free loopback port
# (read from its `listening on` line) and stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

VERSION=4.32.5
VENV="${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/truidentidad-mock/schemathesis-$VERSION}"
MAX_TIME="${SCHEMATHESIS_MAX_TIME:-150}"
MAX_EXAMPLES="${SCHEMATHESIS_MAX_EXAMPLES:-30}"

if [ ! -x "$VENV/bin/schemathesis" ]; then
  echo "installing schemathesis==$VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

cargo build --quiet --bin truidentidad-mock
BIN="${CARGO_TARGET_DIR:-target}/debug/truidentidad-mock"

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# --api-key: Schemathesis checks that requests without a valid key are refused, which the
# default server (any non-empty key passes) would not do.
: >"$work/stdout"
"$BIN" serve --port 0 --seed 1 --no-request-log --api-key schemathesis-key >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(sed -n 's/^listening on \(http:\/\/[^ ]*\).*/\1/p' "$work/stdout" | head -n1)"
  [ -n "$url" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/stderr" >&2; echo "the mock exited before listening" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the mock did not print its address within 10 s" >&2; exit 1; }
echo "mock at $url; schemathesis $VERSION, --max-time $MAX_TIME, --max-examples $MAX_EXAMPLES"

# --seed: the same cases on every run, so a failure reproduces.
"$VENV/bin/schemathesis" --config-file scripts/schemathesis.toml run "$url/_mock/openapi.yaml" \
  --url "$url" \
  --header "Truora-API-Key: schemathesis-key" \
  --max-time "$MAX_TIME" \
  --max-examples "$MAX_EXAMPLES" \
  --request-timeout 10 \
  --seed 20 \
  --no-color \
  --report-dir "$work/report"
