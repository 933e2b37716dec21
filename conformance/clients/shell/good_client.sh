#!/bin/sh
# Reference TruIdentidad client: POSIX sh + curl (no jq).
#
# Same behaviour as ../python/good_client.py: Truora-API-Key on every request, form-encoded
# create, polls paced like Truora's SDK (1, 2, 4, 8, 16 s, then 30 s) with jitter, Retry-After
# honoured for the rest of the polling, capped back-off on errors, a 5 s timeout on every
# request (--max-time), and a total deadline (TRUORA_POLL_DEADLINE_SECONDS, default 300).
# Prints one JSON object as the last line of stdout.
#
# `--defect no-request-timeout` makes it a corpus breaker with that one defect: curl runs without
# --max-time, so a request the server never answers is never abandoned.
set -u

: "${TRUORA_API_BASE_URL:?missing TRUORA_API_BASE_URL}"
: "${TRUORA_API_KEY:?missing TRUORA_API_KEY}"
: "${TRUORA_ACCOUNT_ID:?missing TRUORA_ACCOUNT_ID}"
DEADLINE="${TRUORA_POLL_DEADLINE_SECONDS:-300}"
BASE="${TRUORA_API_BASE_URL%/}"
MAX_ERRORS=2   # the 3rd failure in a row ends the run
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
FLOOR_MS=1000   # minimum wait; a Retry-After raises it for good
MAX_TIME=5      # seconds for each request; empty: no --max-time at all
[ "${1:-}" = --defect ] && [ "${2:-}" = no-request-timeout ] && MAX_TIME=""

log() { echo "$*" >&2; }

# now_ms: milliseconds since the epoch (GNU date; falls back to whole seconds).
now_ms() { d=$(date +%s%3N 2>/dev/null); case "$d" in *N) echo "$(( $(date +%s) * 1000 ))";; *) echo "$d";; esac; }

# jitter MS: MS times a random factor in [1.1, 1.3].
jitter() { echo $(( $1 * (110 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 21) / 100 )); }

sleep_ms() { sleep "$(( $1 / 1000 )).$(printf '%03d' $(( $1 % 1000 )))"; }

# field NAME FILE: the string value of a top-level JSON field (Truora's fields are plain).
field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$2" | head -n1; }

# request METHOD PATH [FORM]: sets STATUS (000 on timeout/reset) and RETRY_AFTER_MS; body in $TMP/body.
request() {
  if [ -n "${3:-}" ]; then
    STATUS=$(curl -sS ${MAX_TIME:+--max-time "$MAX_TIME"} -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' -X "$1" \
      -H "Truora-API-Key: $TRUORA_API_KEY" -H 'Content-Type: application/x-www-form-urlencoded' \
      --data "$3" "$BASE$2" 2>"$TMP/err") || STATUS=000
  else
    STATUS=$(curl -sS ${MAX_TIME:+--max-time "$MAX_TIME"} -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' \
      -H "Truora-API-Key: $TRUORA_API_KEY" "$BASE$2" 2>"$TMP/err") || STATUS=000
  fi
  RETRY_AFTER_MS=""
  ra=$(tr -d '\r' <"$TMP/headers" 2>/dev/null | sed -n 's/^[Rr]etry-[Aa]fter: *//p' | head -n1)
  case "$ra" in
    "") ;;
    *[!0-9]*) t=$(date -d "$ra" +%s 2>/dev/null) && RETRY_AFTER_MS=$(( (t - $(date +%s)) * 1000 )) ;;
    *) RETRY_AFTER_MS=$(( ra * 1000 )) ;;
  esac
  [ -n "$RETRY_AFTER_MS" ] && [ "$RETRY_AFTER_MS" -lt 0 ] && RETRY_AFTER_MS=0
  return 0
}

retryable() { [ "$STATUS" = 000 ] || [ "$STATUS" = 429 ] || [ "$STATUS" -ge 500 ]; }

# wait_after_error ERRORS: sets WAIT_MS from Retry-After (raising the floor) or back-off.
wait_after_error() {
  if [ -n "$RETRY_AFTER_MS" ]; then
    [ "$RETRY_AFTER_MS" -gt "$FLOOR_MS" ] && FLOOR_MS=$RETRY_AFTER_MS
    # The floor, not this Retry-After: a shorter one later does not undo a slow-down.
    w=$FLOOR_MS; [ "$w" -lt 1000 ] && w=1000
  else
    w=$(( 1000 << ($1 - 1) )); [ "$w" -gt 30000 ] && w=30000
    [ "$w" -lt "$FLOOR_MS" ] && w=$FLOOR_MS
  fi
  WAIT_MS=$(jitter "$w")
}

fail() { log "error: $*"; echo '{"validation_status":"error"}'; exit 1; }

START_MS=$(now_ms)

# --- create (re-sent at most once after an ambiguous failure) ---
FORM="type=government&account_id=$TRUORA_ACCOUNT_ID&user_authorized=true"
errors=0; ambiguous=0
while :; do
  request POST /v1/validations "$FORM"
  [ "$STATUS" = 200 ] && break
  retryable || fail "create: $STATUS $(head -c 200 "$TMP/body")"
  errors=$((errors + 1))
  if [ -z "$RETRY_AFTER_MS" ]; then
    ambiguous=$((ambiguous + 1)); [ "$ambiguous" -gt 1 ] && fail "create failed twice without an answer"
  fi
  [ "$errors" -gt "$MAX_ERRORS" ] && fail "create kept failing"
  log "create: $STATUS; retrying"
  wait_after_error "$errors"; sleep_ms "$WAIT_MS"
done
VID=$(field validation_id "$TMP/body")
[ -n "$VID" ] || fail "the create response has no validation_id"
log "created $VID"

# --- poll ---
step=0; errors=0
WAIT_MS=$(jitter 1000)
while :; do
  elapsed_ms=$(( $(now_ms) - START_MS ))
  if [ $(( elapsed_ms + WAIT_MS )) -gt $(( DEADLINE * 1000 )) ]; then
    log "$VID: still pending at the deadline, giving up"
    echo "{\"validation_id\":\"$VID\",\"validation_status\":\"pending\"}"; exit 0
  fi
  sleep_ms "$WAIT_MS"
  request GET "/v1/validations/$VID"
  status=""
  [ "$STATUS" = 200 ] && status=$(field validation_status "$TMP/body")
  if [ -z "$status" ]; then
    { [ "$STATUS" = 200 ] || retryable; } || fail "poll: $STATUS $(head -c 200 "$TMP/body")"
    errors=$((errors + 1))
    if [ "$errors" -gt "$MAX_ERRORS" ]; then
      log "$VID: $errors errors in a row, giving up"
      echo "{\"validation_id\":\"$VID\",\"validation_status\":\"pending\"}"; exit 0
    fi
    log "$VID: $STATUS; backing off"
    wait_after_error "$errors"; continue
  fi
  errors=0
  failure=$(field failure_status "$TMP/body")
  if [ "$status" != pending ] || [ -n "$failure" ]; then
    if [ -n "$failure" ]; then
      echo "{\"validation_id\":\"$VID\",\"validation_status\":\"$status\",\"failure_status\":\"$failure\"}"
    else
      echo "{\"validation_id\":\"$VID\",\"validation_status\":\"$status\"}"
    fi
    exit 0
  fi
  step=$((step + 1))
  case $step in 1) s=2000;; 2) s=4000;; 3) s=8000;; 4) s=16000;; *) s=30000;; esac
  [ "$s" -lt "$FLOOR_MS" ] && s=$FLOOR_MS
  WAIT_MS=$(jitter "$s")
done
