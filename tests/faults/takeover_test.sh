#!/usr/bin/env bash
# Fault injection, real processes on 127.0.0.1: agents share their state in a three-member etcd
# (started here) with dynamic mapping. While 40 creates of a tenant are in flight, one etcd member
# is SIGKILLed, then the tenant's home agent, for good. The member list drops the dead home, the
# tenant's new home (consistent hashing over the live members) takes its boots over from etcd
# and finishes them: servers the dead agent's cloudlet held show as a down cell (UNKNOWN at 2.69),
# builds in flight there are placed elsewhere. Then the etcd member and the agent come back: every
# acknowledged server is ACTIVE, and the cloudlets hold exactly the mapped servers.
# Usage: takeover_test.sh /path/to/shoal   (FAULT_SEED=N replays a run's random choices)
set -euo pipefail
SHOAL=$(realpath "$1")
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
work=$(mktemp -d)
source "$here/lib.sh"
cleanup() {
  fault_cleanup
  for p in "${ETCD[@]}"; do kill -9 "$p" 2>/dev/null || true; done
}
declare -A ETCD=()
trap cleanup EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null
N=3
VMS=40
BUILD_TIMEOUT_MS=10000  # builds on the dead agent's cloudlet fail over after this
fault_seed

echo "== a three-member etcd"
read -r -a ports < <(python3 -c '
import socket
ss = [socket.socket() for _ in range(6)]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
cluster=""
for i in 1 2 3; do cluster+="${cluster:+,}e$i=http://127.0.0.1:${ports[$((2 * i - 1))]}"; done
ETCD_DIR=/dev/shm
[[ -d /dev/shm && -w /dev/shm ]] || ETCD_DIR=$work
start_etcd() {  # $1: member, $2: new or existing
  local i=$1
  etcd --name "e$i" --data-dir "$ETCD_DIR/shoal-fault-etcd-$$-$i" \
    --listen-client-urls "http://127.0.0.1:${ports[$((2 * i - 2))]}" \
    --advertise-client-urls "http://127.0.0.1:${ports[$((2 * i - 2))]}" \
    --listen-peer-urls "http://127.0.0.1:${ports[$((2 * i - 1))]}" \
    --initial-advertise-peer-urls "http://127.0.0.1:${ports[$((2 * i - 1))]}" \
    --initial-cluster "$cluster" --initial-cluster-state "$2" --initial-cluster-token "shoal-fault-$$" \
    >"etcd$i.log" 2>&1 &
  ETCD[$i]=$!
}
for i in 1 2 3; do start_etcd "$i" new; done
endpoints=""
for i in 1 2 3; do endpoints+="${endpoints:+,}\"http://127.0.0.1:${ports[$((2 * i - 2))]}\""; done
healthy() { etcdctl --endpoints "http://127.0.0.1:${ports[0]}" endpoint health >/dev/null 2>&1; }
wait_for "etcd is healthy" 60 healthy
trap 'cleanup; rm -rf "$ETCD_DIR"/shoal-fault-etcd-$$-*' EXIT

start_idp_and_cloudlets $N
echo "== $N agents (shoal agent) on the shared etcd, dynamic mapping"
start_agents $N "{ \"backend\": \"etcd\", \"endpoints\": [$endpoints], \"prefix\": \"/fault-$$/\" }" \
  '{ "mode": "dynamic" }'
home=$("$SHOAL" status --config agent1.json --agent "$(a2a_of agent1)" --home-of "$PROJECT" | cut -d' ' -f1)
home=${home#agent}
others=()
for k in $(seq 1 $N); do [[ $k == "$home" ]] || others+=("$k"); done
echo "ok: the demo project's home is agent$home; the user talks to agent${others[0]}"
user_at "agent${others[0]}"
upload_image

echo "== $VMS creates; an etcd member and then the home are SIGKILLed while they are in flight"
"${compute[@]}" server create --image fault-img --flavor m1.tiny --nic none --min $VMS --max $VMS tk >/dev/null
delay_ms=$((100 + RANDOM % 900))
sleep "0.$(printf '%03d' $delay_ms)"
victim=$((RANDOM % 3 + 1))
kill -9 "${ETCD[$victim]}"
echo "ok: etcd member e$victim killed ${delay_ms} ms after the create"
sleep 0.5
kill -9 "${PID[agent$home]}"
died_of_sigkill "agent$home"
t0=$SECONDS
wait_for "the live agents drop the dead home" 60 all_see $((N - 1)) "${others[@]}"
new_home=$("$SHOAL" status --config "agent${others[0]}.json" --agent "$(a2a_of "agent${others[0]}")" --home-of "$PROJECT" | cut -d' ' -f1)
echo "ok: the new home is $new_home"
[[ "$new_home" != "agent$home" ]] || fail "the dead agent is still the home"
settled() {  # 40 servers, none BUILD or ERROR (those on the dead agent's cloudlet are UNKNOWN)
  local s
  s=$(openstack --os-compute-api-version 2.69 server list -f value -c Status | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
  [[ "$(openstack --os-compute-api-version 2.69 server list -f value -c ID | wc -l)" == "$VMS" ]] || return 1
  [[ ! "$s" =~ BUILD|ERROR ]]
}
# Builds in flight at the dead agent's cloudlet cannot be watched: they fail over after the build
# timeout and are placed elsewhere. The new home's runners then all end.
nh=${new_home#agent}
wait_for "the new home finished every boot it took over" 240 home_idle "$nh"
echo "ok: the new home $(grep -o 'resumed [0-9]* boots and [0-9]* undos' "agent$nh.log" | tail -1 || echo 'resumed nothing')"
wait_for "no server in BUILD or ERROR (those on the dead agent's cloudlet are UNKNOWN, a down cell)" 60 settled
echo "ok: taken over and finished in $((SECONDS - t0)) s: $(openstack --os-compute-api-version 2.69 server list -f value -c Status | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
echo "ok: $(json_eval 'd["api"]["build_failures"]' < <("$SHOAL" status --config "agent$nh.json" --agent "$(a2a_of "agent$nh")")) builds failed over at the new home"
IDS=$(openstack --os-compute-api-version 2.69 server list -f value -c ID | sort)  # the down cell's included
expect_eq "all $VMS acknowledged servers are there" "$VMS" "$(wc -l <<<"$IDS")"

echo "== the etcd member and the dead agent come back"
start_etcd "$victim" existing
with_seeds "$home" "[\"$(a2a_of "agent${others[0]}")\"]"
spawn "agent$home" agent --config "agent$home.json"
wait_for "every agent sees $N members again" 60 all_see $N 1 2 3
all_active() { [[ "$(openstack server list -f value -c Status | sort -u | tr '\n' ' ')" == "ACTIVE " ]]; }
wait_for "every server ACTIVE once its cloudlet is reachable again" 120 all_active
check_invariants $N "$IDS"

openstack server list -f value -c ID | xargs openstack server delete
wait_for "every server deleted, at shoal and at every cloudlet" 120 no_servers_left $N
echo "PASS: a home lost for good (and an etcd member meanwhile); its tenant's boots finished elsewhere, nothing lost or orphaned (${SECONDS}s, seed $SEED)"
