#!/usr/bin/env bash
# `shoal bench --scenario real` against the two real cloudlets: real-direct (users straight at
# them) and real-shoal (`up::Shoal` with one agent in front of each, c1's Keystone the identity
# provider). Asserts the structure and sanity of the results, never their speed. Hermetic: the
# cloudlets may hold servers no test made (tests/real/bystanders.sh puts some there), so the
# census is compared to what was on the hypervisors before, and "nothing left" means no server
# that was not there before.
# Usage: bench_real_test.sh /path/to/shoal   (environment: see one_cloud_real_test.sh)
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/../e2e/lib.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
read -r -a URLS <<<"${SHOAL_REAL_AUTH_URLS:-}"
((${#URLS[@]} >= 2)) || fail "SHOAL_REAL_AUTH_URLS must name two real cloudlets (tests/real/provision.sh)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
at_cloudlet() {  # at_cloudlet URL command...: as the cloudlet's admin
  local u=$1
  shift
  OS_CLIENT_CONFIG_FILE=/dev/null OS_AUTH_URL=$u OS_USERNAME=admin OS_PASSWORD=${SHOAL_REAL_PASSWORD:-secret} \
    OS_PROJECT_NAME=admin OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}

set +e
out=$("$SHOAL" bench --scenario real 2>&1); rc=$?
set -e
[[ $rc == 2 ]] || fail "no --real-cloudlet: exit $rc, expected 2 ($out)"
expect_contains "no --real-cloudlet: a clear message" "need --real-cloudlet" "$out"

# What the cloudlets held before: their servers, and the servers on their hypervisors (the
# census reads Nova's running_vms, which counts every project's).
before_on_hosts=0
for k in "${!URLS[@]}"; do
  at_cloudlet "${URLS[$k]}" openstack server list --all-projects -f value -c ID | sort >"$work/before$k.ids"
  n=$(at_cloudlet "${URLS[$k]}" openstack hypervisor stats show -f value -c running_vms)
  before_on_hosts=$((before_on_hosts + n))
done

"$SHOAL" bench --scenario real --real-cloudlet "${URLS[0]}" --real-cloudlet "${URLS[1]}" \
  --real-password "${SHOAL_REAL_PASSWORD:-secret}" --concurrency 4 --repetitions 1 --json "$work/real.json" \
  >"$work/out.txt" 2>"$work/err.txt" || { cat "$work/out.txt" "$work/err.txt"; fail "shoal bench --scenario real failed"; }
cat "$work/out.txt"
check() {  # check EXPR MESSAGE: EXPR is Python over the results `d`
  [[ $(json_eval "$1" <"$work/real.json") == True ]] || fail "$2"
}
check "sorted(s['system'] for s in d['steps']) == ['real-direct', 'real-shoal']" "one step per system"
check "all(s['error'] == '' and s['size'] == 2 for s in d['steps'])" "both steps ran over the 2 real cloudlets"
check "all(s['active'] == s['requested'] == 4 and s['failed'] == 0 for s in d['steps'])" "4 servers ACTIVE in each"
check "all(s['startup_s']['count'] == 4 and s['startup_s']['min'] > 0 for s in d['steps'])" "4 start-up times each"
check "all(r['on_hosts'] == 4 + $before_on_hosts for s in d['steps'] for r in s['per_repetition'])" \
  "the census counts the 4 servers on the real cloudlets' hypervisors (and the $before_on_hosts there before)"
check "d['systems']['real-shoal']['agents'] == 2 and d['systems']['real-direct']['agents'] == 0" "systems described"
for k in "${!URLS[@]}"; do
  at_cloudlet "${URLS[$k]}" openstack server list --all-projects -f value -c ID | sort >"$work/after$k.ids"
  expect_eq "no server left at ${URLS[$k]}" "" "$(comm -13 "$work/before$k.ids" "$work/after$k.ids")"
done
echo "PASS: shoal bench against real OpenStack"
