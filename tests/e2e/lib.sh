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
  # Emptied here, not by the background redirect: that runs after the fork, so a previous run's
  # `ready` in the same file could otherwise be read before the new process truncates it.
  : >"$out"
  : >"$log"
  "$SHOAL" "$@" >"$out" 2>"$log" &
  SHOAL_PID=$!
  local deadline=$((SECONDS + 180))
  until grep -q '^ready$' "$out"; do
    kill -0 "$SHOAL_PID" 2>/dev/null || fail "shoal $* exited before it was ready"
    ((SECONDS < deadline)) || fail "shoal $* not ready after 180s"
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

# --- `shoal up` (one shoal in one process: identity provider + N agents with embedded cloudlets)

# start_shoal_up DIR args...: starts `shoal up args...` with stdout in DIR/up.out and stderr in
# DIR/up.log, waits for `ready` and the trailer, and loads the demo user's `export OS_...` lines
# (at agent 1). Sets AGENT_URL[K] (agent K's API), ADMIN_OPENRC, DEMO_OPENRC, IDP_URL, STATE_DIR and, from
# cloudlets.json, CLOUDLET_URL[K], CLOUDLET_USER[K], CLOUDLET_PASSWORD[K], CLOUDLET_PROJECT[K].
start_shoal_up() {
  local dir=$1
  shift
  # Without --state-dir, shoal's temporary directory goes under DIR too (removed with it).
  TMPDIR=$dir start_shoal "$dir/up.out" "$dir/up.log" up "$@"
  wait_for "shoal up printed its trailer" 30 grep -q '^state dir: ' "$dir/up.out"
  AGENT_URL=()
  local k url
  while read -r k url; do AGENT_URL[$k]=$url; done < <(sed -n 's/^agent \([0-9]*\): \(.*\)$/\1 \2/p' "$dir/up.out")
  ADMIN_OPENRC=$(sed -n 's/^admin openrc: //p' "$dir/up.out")
  DEMO_OPENRC=$(sed -n 's/^demo openrc: //p' "$dir/up.out")
  IDP_URL=$(sed -n 's/^identity provider: //p' "$dir/up.out")
  STATE_DIR=$(sed -n 's/^state dir: //p' "$dir/up.out")
  local cloudlets user password project
  cloudlets=$(sed -n 's/^cloudlets: //p' "$dir/up.out")
  CLOUDLET_URL=() CLOUDLET_USER=() CLOUDLET_PASSWORD=() CLOUDLET_PROJECT=()
  while read -r k url user password project; do
    CLOUDLET_URL[$k]=$url CLOUDLET_USER[$k]=$user CLOUDLET_PASSWORD[$k]=$password CLOUDLET_PROJECT[$k]=$project
  done < <(python3 -c '
import json, sys
for c in json.load(open(sys.argv[1])):
    print(c["agent"][len("agent"):], c["cloudlet_auth_url"], c["admin_user"], c["admin_password"], c["admin_project"])
' "$cloudlets")
}

# at_agent K command...: runs the command with OS_AUTH_URL at agent K (same user).
at_agent() {
  local k=$1
  shift
  OS_AUTH_URL=${AGENT_URL[$k]}/identity/v3 "$@"
}

# as_admin K command...: the shoal's admin (the identity provider's), authenticated at agent K.
as_admin() {
  local k=$1
  shift
  (
    source "$ADMIN_OPENRC"
    OS_AUTH_URL=${AGENT_URL[$k]}/identity/v3 "$@"
  )
}

# at_cloudlet K openstack-args...: `openstack` straight at cloudlet K, as its own admin.
at_cloudlet() {
  local k=$1
  shift
  OS_AUTH_URL=${CLOUDLET_URL[$k]} OS_USERNAME=${CLOUDLET_USER[$k]} OS_PASSWORD=${CLOUDLET_PASSWORD[$k]} \
    OS_PROJECT_NAME=${CLOUDLET_PROJECT[$k]} OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default \
    openstack "$@"
}

# json_eval EXPR: evaluates a Python expression over the JSON document `d` read from stdin.
json_eval() {
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}
