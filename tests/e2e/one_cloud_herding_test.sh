#!/usr/bin/env bash
# End to end: 64 concurrent single-server creates (separate `openstack server create` processes,
# 16 at a time, through all eight agents) on eight equal, empty cloudlets. With power-of-two
# choices and builds in flight counted, no cloudlet may end up with more than 10 (the mean is 8).
# Usage: one_cloud_herding_test.sh /path/to/shoal
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap '[[ -n "${SHOAL_PID:-}" ]] && kill -9 "$SHOAL_PID" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null
N=8
VMS=64
BATCH=16
MAX_PER_CLOUDLET=10
compute=(openstack --os-compute-api-version 2.37)

start_shoal_up "$work" -n $N

head -c $((1024 * 1024)) /dev/urandom >disk.raw
openstack image create --file disk.raw --disk-format raw --container-format bare img -f value -c id >/dev/null
echo "ok: image uploaded"

echo "== $VMS concurrent single-server creates, $BATCH processes at a time, over agents 1..$N"
for ((i = 0; i < VMS; i += BATCH)); do
  pids=()
  for ((j = i; j < i + BATCH && j < VMS; j++)); do
    at_agent $((j % N + 1)) "${compute[@]}" server create --image img --flavor m1.tiny --nic none "h$j" \
      -f value -c id >"create$j.out" 2>&1 &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || fail "a server create failed: $(cat create*.out)"; done
done
echo "ok: $VMS creates accepted"
all_active() { [[ $(openstack server list -f value -c Status | grep -c '^ACTIVE$') == "$VMS" ]]; }
wait_for "$VMS servers ACTIVE" 300 all_active

total=0 most=0
for k in $(seq 1 $N); do
  n=$(at_cloudlet "$k" server list --all-projects -f value -c ID | grep -c . || true)
  echo "   cloudlet $k: $n servers"
  total=$((total + n))
  ((n > most)) && most=$n
done
expect_eq "the cloudlets hold the $VMS servers" $VMS $total
((most <= MAX_PER_CLOUDLET)) || fail "one cloudlet holds $most servers (herding; want <= $MAX_PER_CLOUDLET)"
echo "ok: no cloudlet holds more than $MAX_PER_CLOUDLET (most: $most)"
# A cloudlet gives one tenant at most 10 instances (Nova's default quota), so the bound above
# could also come from refused builds placed again; with good placement none was refused.
failures=$("$SHOAL" status --config "$STATE_DIR/agent1/agent.json" --all |
  json_eval 'sum(a.get("api", {}).get("build_failures", 0) for a in d)')
expect_eq "no build was refused and placed again" 0 "$failures"

stop_shoal
echo "PASS: concurrent creates spread over the cloudlets (${SECONDS}s)"
