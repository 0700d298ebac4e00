#!/usr/bin/env bash
# `shoal bench --scenario smoke`: the three systems at size 4, a few servers, two repetitions.
# Asserts the structure and sanity of the results (every server accounted for, per-host
# counts add up, plots written), never their speed.
set -euo pipefail
SHOAL=${1:?usage: $0 path/to/shoal}
source "$(dirname "$0")/../e2e/lib.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Bad input is a usage error with a clear message, not a crash.
set +e
out=$("$SHOAL" bench --scenario nope 2>&1); rc=$?
set -e
[[ $rc == 2 ]] || fail "unknown scenario: exit $rc, expected 2 ($out)"
grep -q "unknown scenario 'nope'" <<<"$out" || fail "unknown scenario: no clear message: $out"
set +e
out=$("$SHOAL" bench --scenario smoke --systems shoal,bogus 2>&1); rc=$?
set -e
[[ $rc == 2 ]] || fail "unknown system: exit $rc, expected 2"
grep -q "unknown system 'bogus'" <<<"$out" || fail "unknown system: no clear message: $out"

"$SHOAL" bench --scenario smoke --json "$work/smoke.json" >"$work/out.txt" 2>"$work/err.txt" ||
  { cat "$work/out.txt" "$work/err.txt"; fail "shoal bench --scenario smoke failed"; }
cat "$work/out.txt"

check() {  # check EXPR MESSAGE: EXPR is Python over the results `d`
  [[ $(json_eval "$1" <"$work/smoke.json") == True ]] || fail "$2"
}
check "sorted(s['system'] for s in d['steps']) == ['direct', 'shoal', 'standard']" "one step per system"
check "all(s['size'] == 4 and s['error'] == '' for s in d['steps'])" "every step ran at size 4"
check "all(s['requested'] == s['users'] * s['servers_per_user'] * s['repetitions'] == 12 for s in d['steps'])" \
  "requested = users x servers x repetitions"
check "all(s['active'] + s['failed'] == s['requested'] for s in d['steps'])" "active + failed = requested"
check "all(s['failed'] == 0 and s['failure_rate'] == 0 for s in d['steps'])" "no boot failed (capacity suffices)"
check "all(s['startup_s']['count'] == s['active'] for s in d['steps'])" "one start-up time per ACTIVE server"
check "all(0 < s['startup_s']['min'] <= s['startup_s']['p50'] <= s['startup_s']['p95'] <= s['startup_s']['p99'] <= s['startup_s']['max'] for s in d['steps'])" \
  "start-up percentiles are ordered"
check "all(r['on_hosts'] == r['active'] and r['hosts_counted'] == 4 for s in d['steps'] for r in s['per_repetition'])" \
  "per repetition, the servers counted on the 4 hosts are the ACTIVE ones"
check "all(sum(s['servers_per_host']['total'].values()) == s['active'] and s['servers_per_host']['hosts'] == 4 for s in d['steps'])" \
  "per-host totals add up to the ACTIVE servers"
check "all(s['delete_failures'] == 0 for s in d['steps'])" "every server was deleted"
check "d['systems']['standard']['controller']['api_workers'] == 2 * d['systems']['shoal']['controller']['api_workers']" \
  "the standard controller model has twice the workers"
for metric in startup startup-p95 failures stddev; do
  [[ -s "$work/smoke-$metric.png" ]] || fail "plot smoke-$metric.png not written"
done
echo "PASS bench smoke"
