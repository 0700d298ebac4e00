#!/usr/bin/env bash
# End to end: two of eight cloudlets refuse every build while their hypervisors still report free
# RAM. Cloudlet 3 has its nova-compute services disabled through the real Nova API (PUT
# /os-services/{id}, microversion 2.53), so its scheduler answers "No valid host was found".
# Cloudlet 6 is started with ram_allocation_ratio 0 (placement has no memory to give), which an
# agent cannot see in os-hypervisors: its builds are really sent there, fail, and must be placed
# again elsewhere. 32 servers created at agent 1 must all end ACTIVE on the other cloudlets, with
# no server left behind (in ERROR or otherwise) on the refusing ones.
# Usage: one_cloud_failure_test.sh /path/to/shoal
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap '[[ -n "${SHOAL_PID:-}" ]] && kill -9 "$SHOAL_PID" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null
N=8
VMS=32
DISABLED=3
NO_ROOM=6
compute=(openstack --os-compute-api-version 2.37)

echo '{"hypervisors": {"ram_allocation_ratio": 0.0}}' >no-room.json
start_shoal_up "$work" -n $N --cloudlet-config-for $NO_ROOM="$work/no-room.json"

echo "== cloudlets $DISABLED and $NO_ROOM refuse builds"
hosts=$(at_cloudlet $DISABLED compute service list --service nova-compute -f value -c Host)
[[ -n "$hosts" ]] || fail "cloudlet $DISABLED lists no nova-compute service"
for host in $hosts; do
  at_cloudlet $DISABLED --os-compute-api-version 2.53 compute service set --disable "$host" nova-compute
done
expect_eq "cloudlet $DISABLED's nova-compute services are disabled" "" \
  "$(at_cloudlet $DISABLED compute service list --service nova-compute -f value -c Status | grep -v '^disabled$' || true)"
# Free RAM as each hypervisor reports it (os-hypervisors/detail), what a load probe would read.
free_ram() {
  at_cloudlet "$1" hypervisor list --long -f json | json_eval 'sum(h["Memory MB"] - h["Memory MB Used"] for h in d)'
}
for k in $DISABLED $NO_ROOM; do
  free_mb=$(free_ram "$k")
  ((free_mb > 0)) || fail "cloudlet $k should still report free RAM, reports $free_mb MB"
  echo "ok: cloudlet $k's hypervisors still report $free_mb MB free"
done
expect_eq "cloudlet $NO_ROOM's placement has no candidate for 512 MB" "" \
  "$(at_cloudlet $NO_ROOM allocation candidate list --resource MEMORY_MB=512 -f value)"

echo "== $VMS servers created at agent 1"
head -c $((1024 * 1024)) /dev/urandom >disk.raw
openstack image create --file disk.raw --disk-format raw --container-format bare img -f value -c id >/dev/null
"${compute[@]}" server create --image img --flavor m1.tiny --nic none --min $VMS --max $VMS vm -f value -c id >/dev/null
settled() {
  local statuses
  statuses=$(openstack server list -f value -c Status)
  [[ $(grep -c . <<<"$statuses") == "$VMS" ]] && ! grep -qv '^ACTIVE$\|^ERROR$' <<<"$statuses"
}
wait_for "$VMS servers settled (ACTIVE or ERROR)" 300 settled
list=$(openstack server list -f json)
expect_eq "all $VMS ACTIVE despite the refusing cloudlets" $VMS \
  "$(json_eval 'sum(s["Status"] == "ACTIVE" for s in d)' <<<"$list")"

total=0
for k in $(seq 1 $N); do
  n=$(at_cloudlet "$k" server list --all-projects -f value -c ID | grep -c . || true)
  echo "   cloudlet $k: $n servers"
  total=$((total + n))
done
expect_eq "the other cloudlets hold the $VMS servers" $VMS $total
for k in $DISABLED $NO_ROOM; do
  expect_eq "cloudlet $k holds no server (no orphan in ERROR)" "" \
    "$(at_cloudlet "$k" server list --all-projects -f value -c ID -c Status)"
done
failures=$("$SHOAL" status --config "$STATE_DIR/agent1/agent.json" --all |
  json_eval 'sum(a.get("api", {}).get("build_failures", 0) for a in d)')
# Cloudlet $NO_ROOM looks free, so among 32 two-choice decisions it is tried (and refuses) with
# near certainty: the re-scheduling path must have run.
((failures > 0)) || fail "no agent counted a failed build: the refusing cloudlet $NO_ROOM was never tried"
echo "ok: the agents placed $failures refused builds again elsewhere"

stop_shoal
echo "PASS: builds refused by two cloudlets are placed on the others (${SECONDS}s)"
