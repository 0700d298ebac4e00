#!/usr/bin/env bash
# Fault injection, real processes on 127.0.0.1: a tenant's home agent is SIGKILLed while 40 of its
# creates are in flight, then restarted on its state (SQLite). Round 1 kills it from inside, at a
# named injection point (SHOAL_FAULTS, docs/reliability.md) chosen at random, at a random hit;
# round 2 with kill -9 from outside after a random delay; round 3 while its deletes are carried
# out. After each restart, from every cloudlet's own admin API and from the user's view: every
# acknowledged server ends ACTIVE (or deleted, as asked), none stays in BUILD, no server exists on
# any cloudlet that shoal does not map (each carries exactly one of the user's ids, each id is on
# one server), and no user-visible id changed.
# Usage: home_crash_test.sh /path/to/shoal   (FAULT_SEED=N replays a run's random choices)
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
fault_seed

echo "== an identity provider and $N cloudlets (shoal cloudlet), each with its own state file"
start_idp_and_cloudlets $N

echo "== $N agents (shoal agent) on SQLite; the demo project's home is agent1 (static mapping)"
start_agents $N sqlite "{ \"mode\": \"static\", \"table\": { \"$PROJECT\": \"agent1\" } }"
with_seeds 1 "[\"$(a2a_of agent2)\"]"  # agent1 rejoins through agent2 after each restart
all_members() { all_see $N $(seq 1 $N); }

# The user talks to agent2 only; agent2 forwards to the home, agent1.
user_at agent2
upload_image

all_settled() { [[ "$(openstack server list -f value -c Status | sort -u | tr '\n' ' ')" == "ACTIVE " ]]; }
restart_home() {
  spawn agent1 agent --config agent1.json
  wait_for "the restarted home is a member again" 60 all_members
  echo "ok: the restarted home $(grep -o 'resumed [0-9]* boots and [0-9]* undos' agent1.log | tail -1 || echo 'resumed nothing')"
}
burst() {  # $1: name prefix. SEEN_IDS: the ids the user could list at once (the home may be dying).
  "${compute[@]}" server create --image fault-img --flavor m1.tiny --nic none --min $VMS --max $VMS "$1" >/dev/null
  echo "ok: a create of $VMS answered 202"
  SEEN_IDS=$(openstack server list -f value -c ID -c Name 2>/dev/null | awk -v p="$1" '$2 ~ "^"p {print $1}' | sort || true)
}
kept_every_id() {  # $1 within $2: no id the user saw before the crash is gone
  [[ -z "$1" ]] || [[ -z "$(comm -23 <(echo "$1") <(echo "$2"))" ]] || fail "ids seen before the crash are gone"
}

POINTS=(boot.ask_loads.after boot.hold.after boot.ensure_image.after boot.record.before boot.record.after
  boot.send_create.before boot.send_create.after boot.watch.before boot.watch.after)
point=${POINTS[$((RANDOM % ${#POINTS[@]}))]}
hit=$((RANDOM % VMS + 1))
echo "== round 1: the home crashes itself at $point, hit $hit, with $VMS creates in flight"
kill -9 "${PID[agent1]}"
wait "${PID[agent1]}" 2>/dev/null || true
SHOAL_FAULTS="$point=crash@$hit" spawn agent1 agent --config agent1.json
wait_for "the home, armed, is a member again" 60 all_members
t0=$SECONDS
burst r1
wait_for "the home died at $point" 120 bash -c "! kill -0 ${PID[agent1]} 2>/dev/null"
died_of_sigkill agent1
restart_home
wait_for "every server of round 1 ACTIVE after the restart" 180 all_settled
echo "ok: recovered in $((SECONDS - t0)) s from the create"
R1=$(ids_of r1)
expect_eq "round 1: all $VMS acknowledged servers are there" "$VMS" "$(wc -l <<<"$R1")"
kept_every_id "$SEEN_IDS" "$R1"
check_invariants $N "$R1"

delay_ms=$((RANDOM % 800))
echo "== round 2: kill -9 of the home ${delay_ms} ms after a create of $VMS was answered"
t0=$SECONDS
"${compute[@]}" server create --image fault-img --flavor m1.tiny --nic none --min $VMS --max $VMS r2 >/dev/null
sleep "0.$(printf '%03d' "$delay_ms")"
SEEN_IDS=""
kill -9 "${PID[agent1]}"
died_of_sigkill agent1
restart_home
wait_for "every server of rounds 1 and 2 ACTIVE after the restart" 180 all_settled
echo "ok: recovered in $((SECONDS - t0)) s from the create"
R2=$(ids_of r2)
expect_eq "round 2: all $VMS acknowledged servers are there" "$VMS" "$(wc -l <<<"$R2")"
kept_every_id "$SEEN_IDS" "$R2"
check_invariants $N "$(sort <<<"$R1"$'\n'"$R2")"

echo "== round 3: the home is killed while it deletes all $((2 * VMS)) servers"
openstack server list -f value -c ID | xargs openstack server delete
kill -9 "${PID[agent1]}"
died_of_sigkill agent1
restart_home
wait_for "every server deleted, at shoal and at every cloudlet" 120 no_servers_left $N
echo "PASS: the home agent killed three times with work in flight; nothing acknowledged was lost or orphaned (${SECONDS}s, seed $SEED)"
