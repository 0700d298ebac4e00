#!/usr/bin/env bash
# Fault injection, real processes on 127.0.0.1: what happens to boots when a cloudlet or the agent
# beside it fails. Three rounds of 40 creates each:
#   1. SIGKILL the agent beside cloudlet 3 while it builds: lists at once show its servers as a
#      down cell (UNKNOWN from 2.69); builds there fail over after the build timeout and are placed
#      elsewhere; the agent restarts, its servers come back and the abandoned builds are undone.
#   2. SIGKILL cloudlet 2 itself (its agent stays): the same, and it restarts on its state file.
#   3. SIGSTOP cloudlet 1 for longer than the build timeout, then SIGCONT.
# After each round: every acknowledged server ACTIVE, the cloudlets hold exactly the mapped ones.
# Usage: cloudlet_faults_test.sh /path/to/shoal   (FAULT_SEED=N replays a run's random choices)
set -euo pipefail
SHOAL=$(realpath "$1")
here=$(dirname "$0")
source "$here/../e2e/lib.sh"
work=$(mktemp -d)
source "$here/lib.sh"
trap fault_cleanup EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null
N=3
VMS=40
BUILD_TIMEOUT_MS=8000
fault_seed

start_idp_and_cloudlets $N
echo "== $N agents (shoal agent) on SQLite; the demo project's home is agent1"
start_agents $N sqlite "{ \"mode\": \"static\", \"table\": { \"$PROJECT\": \"agent1\" } }"
user_at agent1
upload_image

all_active() { [[ "$(openstack server list -f value -c Status | sort -u | tr '\n' ' ')" == "ACTIVE " ]]; }
burst() {
  "${compute[@]}" server create --image fault-img --flavor m1.tiny --nic none --min $VMS --max $VMS "$1" >/dev/null
  echo "ok: a create of $VMS answered 202"
  sleep "0.$(printf '%03d' $((200 + RANDOM % 700)))"
}
ALL=""
finish_round() {  # $1: prefix; every server ACTIVE, the cloudlets hold exactly the mapped ones
  wait_for "every server ACTIVE" 180 all_active
  local ids
  ids=$(ids_of "$1")
  expect_eq "all $VMS acknowledged servers of $1 are there" "$VMS" "$(wc -l <<<"$ids")"
  ALL=$(sort <<<"${ALL:+$ALL$'\n'}$ids")
  check_invariants $N "$ALL"
}
port_of() { python3 -c 'import sys, urllib.parse; print(urllib.parse.urlparse(sys.argv[1]).port)' "$1"; }

echo "== round 1: SIGKILL the agent beside cloudlet 3 while it builds"
burst r1
kill -9 "${PID[agent3]}"
died_of_sigkill agent3
# The list answers at once, the dead agent's servers a down cell; the boots there fail over.
listed=$(openstack --os-compute-api-version 2.69 server list -f value -c ID | wc -l)
expect_eq "a list at 2.69 shows every acknowledged server, the down cell's included" "$VMS" "$listed"
t0=$SECONDS
wait_for "the home finished every boot (the dead agent's builds placed elsewhere)" 120 home_idle 1
echo "ok: failed over in $((SECONDS - t0)) s"
with_seeds 3 "[\"$(a2a_of agent1)\"]"
spawn agent3 agent --config agent3.json
wait_for "agent3 is a member again" 60 all_see $N 1 2 3
finish_round r1

echo "== round 2: SIGKILL cloudlet 2 itself while it builds"
burst r2
kill -9 "${PID[cloudlet2]}"
died_of_sigkill cloudlet2
t0=$SECONDS
wait_for "the home finished every boot while cloudlet 2 is down" 120 home_idle 1
echo "ok: failed over in $((SECONDS - t0)) s"
spawn cloudlet2 cloudlet --config cloudlet.json --name cloudlet2 --hypervisors 2 --boot-delay-ms 1500 \
  --state cloudlet2.db --port "$(port_of "$(export_of cloudlet2 OS_AUTH_URL)")"
finish_round r2

echo "== round 3: SIGSTOP cloudlet 1 for longer than the build timeout, then SIGCONT"
burst r3
kill -STOP "${PID[cloudlet1]}"
t0=$SECONDS
wait_for "the home finished every boot while cloudlet 1 is stopped" 180 home_idle 1
echo "ok: failed over in $((SECONDS - t0)) s"
kill -CONT "${PID[cloudlet1]}"
finish_round r3

openstack server list -f value -c ID | xargs openstack server delete
wait_for "every server deleted, at shoal and at every cloudlet" 180 no_servers_left $N
echo "PASS: an agent, a cloudlet and a stopped cloudlet, each while it built; nothing lost or orphaned (${SECONDS}s, seed $SEED)"
