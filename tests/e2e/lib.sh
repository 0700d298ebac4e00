# Helpers for the end-to-end tests that drive shoal with the real OpenStack clients.
# Sourced by the *_test.sh scripts; each test prints what it checks and stops at the first failure.

fail() {
  echo "FAIL: $*" >&2
  if [[ -n "${SHOAL_LOG:-}" && -f "$SHOAL_LOG" ]]; then
    echo "--- last lines of the shoal log ($SHOAL_LOG):" >&2
    tail -n 40 "$SHOAL_LOG" >&2
  fi
  exit 1
}

# expect_eq DESCRIPTION EXPECTED ACTUAL
expect_eq() {
  if [[ "$2" == "$3" ]]; then echo "ok: $1 ($3)"; else fail "$1: expected '$2', got '$3'"; fi
}

# expect_contains DESCRIPTION NEEDLE HAYSTACK
expect_contains() {
  if grep -qF -- "$2" <<<"$3"; then echo "ok: $1"; else fail "$1: '$2' not in: $3"; fi
}

expect_not_contains() {
  if grep -qF -- "$2" <<<"$3"; then fail "$1: '$2' unexpectedly in: $3"; else echo "ok: $1"; fi
}

# expect_fail DESCRIPTION NEEDLE-IN-STDERR command...
expect_fail() {
  local desc=$1 needle=$2
  shift 2
  local out
  if out=$("$@" 2>&1); then fail "$desc: command succeeded: $*"; fi
  expect_contains "$desc" "$needle" "$out"
}

# wait_for DESCRIPTION SECONDS command...: retries until the command succeeds.
wait_for() {
  local desc=$1 limit=$2
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || fail "$desc: not true after ${limit}s"
    sleep 0.5
  done
  echo "ok: $desc"
}

# start_shoal OUTFILE LOGFILE args...: starts shoal in the background, waits for `ready`,
# and loads the printed `export OS_...` lines into this shell. Sets SHOAL_PID.
start_shoal() {
  local out=$1 log=$2
  shift 2
  SHOAL_LOG=$log
  "$SHOAL" "$@" >"$out" 2>"$log" &
  SHOAL_PID=$!
  local deadline=$((SECONDS + 60))
  until grep -q '^ready$' "$out"; do
    kill -0 "$SHOAL_PID" 2>/dev/null || fail "shoal $* exited before it was ready"
    ((SECONDS < deadline)) || fail "shoal $* not ready after 60s"
    sleep 0.1
  done
  eval "$(grep '^export ' "$out")"
}

# stop_shoal: SIGTERM, and the process must exit cleanly (0) on its own.
stop_shoal() {
  [[ -n "${SHOAL_PID:-}" ]] || return 0
  kill -TERM "$SHOAL_PID" 2>/dev/null || true
  local rc=0
  wait "$SHOAL_PID" || rc=$?
  SHOAL_PID=""
  expect_eq "shoal exits cleanly on SIGTERM" 0 "$rc"
}
