# Shared by the fault tests (tests/faults/*_test.sh): a shoal of `shoal` processes on 127.0.0.1 (an
# identity provider, cloudlets, agents), each started, killed and restarted by the test. Needs
# SHOAL and work set, and tests/e2e/lib.sh sourced. docs/reliability.md.
declare -A PID=()
fault_cleanup() {
  for p in "${PID[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  for p in "${PID[@]}"; do kill -CONT "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
compute=(openstack --os-compute-api-version 2.37)

# spawn NAME args...: `shoal args...` in the background (NAME.out, NAME.log), until it says ready.
spawn() {
  local name=$1
  shift
  : >"$name.out"
  : >"$name.log"
  "$SHOAL" "$@" >"$name.out" 2>"$name.log" &
  PID[$name]=$!
  SHOAL_LOG=$work/$name.log
  wait_for "$name ready" 120 grep -q '^ready$' "$name.out"
}
# export_of NAME VAR: a value from NAME's `export VAR=...` lines.
export_of() { sed -n "s/^export $2=//p" "$1.out" | tr -d "'\""; }
a2a_of() { sed -n 's/^agent [^ ]* a2a //p' "$1.out"; }
api_of() { sed -n 's/^api //p' "$1.out"; }

# died_of_sigkill NAME: waits for NAME's process (in this shell: a $(...) subshell could not).
died_of_sigkill() {
  local rc=0
  wait "${PID[$1]}" 2>/dev/null || rc=$?
  expect_eq "$1 died of SIGKILL" 137 "$rc"
}

# start_idp_and_cloudlets N: an identity provider with the project and user demo (password
# s3cret), and N cloudlets with room and quota for the bursts, each with its own state file.
start_idp_and_cloudlets() {
  spawn idp cloudlet --name idp --state idp.db
  IDP=$(export_of idp OS_AUTH_URL)
  PROJECT=$(as_admin_of idp openstack project create demo -f value -c id)
  as_admin_of idp openstack user create --password s3cret --project demo demo -f value -c id >/dev/null
  as_admin_of idp openstack role add --project demo --user demo member
  # Quotas as an operator sets them for a shoal (Nova's default of 10 instances would refuse a burst).
  echo '{ "quota": { "instances": 200, "cores": 400, "ram_mb": 409600 } }' >cloudlet.json
  local k
  for k in $(seq 1 "$1"); do
    spawn "cloudlet$k" cloudlet --config cloudlet.json --name "cloudlet$k" --hypervisors 2 --boot-delay-ms 1500 \
      --state "cloudlet$k.db"
  done
}
# as_admin_of NAME command...: as the admin of a `shoal cloudlet` process, directly.
as_admin_of() {
  local name=$1
  shift
  OS_AUTH_URL=$(export_of "$name" OS_AUTH_URL) OS_USERNAME=$(export_of "$name" OS_USERNAME) \
    OS_PASSWORD=$(export_of "$name" OS_PASSWORD) OS_PROJECT_NAME=$(export_of "$name" OS_PROJECT_NAME) \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}

# write_agent_config K SEEDS STATE MAPPING: agentK.json beside cloudletK.
write_agent_config() {
  local k=$1 seeds=$2 state=$3 mapping=$4
  cat >"agent$k.json" <<EOC
{ "id": "agent$k", "listen": "127.0.0.1:0", "seeds": $seeds, "secret": "fault-test-secret",
  "cloudlet": { "auth_url": "$(export_of "cloudlet$k" OS_AUTH_URL)", "username": "$(export_of "cloudlet$k" OS_USERNAME)",
                "password": "$(export_of "cloudlet$k" OS_PASSWORD)", "project": "$(export_of "cloudlet$k" OS_PROJECT_NAME)",
                "region": "RegionOne" },
  "state": $state,
  "overlay": { "period_ms": 300 },
  "mapping": $mapping,
  "api": { "port": 0, "idp_auth_url": "$IDP", "build_timeout_ms": ${BUILD_TIMEOUT_MS:-60000} } }
EOC
}
# with_seeds K SEEDS: agentK.json with other seeds (to rejoin through a live agent after a restart).
with_seeds() {
  python3 - "$1" "$2" <<'EOP'
import json, sys
c = json.load(open(f"agent{sys.argv[1]}.json")); c["seeds"] = json.loads(sys.argv[2])
json.dump(c, open(f"agent{sys.argv[1]}.json", "w"))
EOP
}
# sees_members K N: agent K's member list has N members.
sees_members() {
  [[ $("$SHOAL" status --config "agent$1.json" --agent "$(a2a_of "agent$1")" | json_eval 'len(d["overlay"]["members"])') == "$2" ]]
}
# user_at NAME: the demo user's environment, at agent NAME's API.
user_at() {
  export OS_AUTH_URL=$(api_of "$1")/identity/v3 OS_USERNAME=demo OS_PASSWORD=s3cret OS_PROJECT_NAME=demo \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3
}

# cloudlet_servers K: "status tag" per server on cloudlet K (all projects), from its own admin API.
cloudlet_servers() {
  local k=$1 token nova
  token=$(as_admin_of "cloudlet$k" openstack token issue -f value -c id)
  nova=$(export_of "cloudlet$k" OS_AUTH_URL)
  nova=${nova%/identity/v3}/compute/v2.1
  curl -sf -H "X-Auth-Token: $token" "$nova/servers/detail?all_tenants=1" | python3 -c '
import json, sys
for s in json.load(sys.stdin)["servers"]:
    print(s["status"], s.get("metadata", {}).get("shoal:server", "-"))'
}
# cloudlets_hold N IDS: true once cloudlets 1..N hold exactly IDS (sorted), one server each, ACTIVE.
cloudlets_hold() {
  local n=$1 expected=$2 at="" k
  for k in $(seq 1 "$n"); do at+=$(cloudlet_servers "$k")$'\n'; done
  at=$(grep -v '^$' <<<"$at" || true)
  SEEN=$at
  [[ "$(cut -d' ' -f2 <<<"$at" | sort)" == "$expected" ]] || return 1
  [[ -z "$(cut -d' ' -f1 <<<"$at" | grep -v '^ACTIVE$')" ]]
}
wait_for_quietly() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}
# check_invariants N IDS: the user sees exactly IDS, all ACTIVE; the cloudlets hold exactly those.
check_invariants() {
  local n=$1 expected=$2
  [[ "$(openstack server list -f value -c ID | sort)" == "$expected" ]] ||
    fail "the ids the user sees changed: $(diff <(echo "$expected") <(openstack server list -f value -c ID | sort) | head)"
  echo "ok: the user sees the same $(wc -l <<<"$expected") ids it was given"
  expect_eq "every acknowledged server is ACTIVE" " $(wc -l <<<"$expected") ACTIVE " \
    "$(openstack server list -f value -c Status | sort | uniq -c | tr -s ' ' | tr '\n' ' ')"
  # A failed build being undone may still be at its cloudlet for a moment.
  if ! wait_for_quietly 90 cloudlets_hold "$n" "$expected"; then
    echo "cloudlets hold (count status tag), duplicates and strays:"
    sort -k2 <<<"$SEEN" | uniq -c | awk '$1 > 1 || $2 != "ACTIVE"' | head
    fail "the cloudlets do not hold exactly the acknowledged servers, each once and ACTIVE"
  fi
  echo "ok: each server at a cloudlet is one of the user's ids, each id exactly once, all ACTIVE (no orphan, no duplicate)"
}
# ids_of PREFIX: the user's servers whose names start with PREFIX.
ids_of() { openstack server list -f value -c ID -c Name | awk -v p="$1" '$2 ~ "^"p {print $1}' | sort; }
# no_servers_left N: none at shoal, none at any cloudlet.
no_servers_left() {
  [[ -z $(openstack server list -f value -c ID) ]] || return 1
  local k
  for k in $(seq 1 "$1"); do [[ -z $(cloudlet_servers "$k") ]] || return 1; done
}
# boots_running K: how many boots and deletes agent K runs now (its status).
boots_running() {
  "$SHOAL" status --config "agent$1.json" --agent "$(a2a_of "agent$1")" | json_eval 'd["api"]["boots_running"]'
}
home_idle() { [[ "$(boots_running "$1")" == 0 ]]; }
# fault_seed: SEED from FAULT_SEED, else at random; bash's RANDOM seeded with it, so a run replays.
fault_seed() {
  SEED=${FAULT_SEED:-$((RANDOM % 10000))}
  RANDOM=$SEED
  echo "== seed $SEED (FAULT_SEED=$SEED replays these choices)"
}
# start_agents N STATE MAPPING: agents 1..N beside cloudlets 1..N, each joining through the one
# before, until every one sees N members. STATE: "sqlite" (a file each) or the JSON of a store
# config; MAPPING: the JSON of a mapping config.
start_agents() {
  local n=$1 state=$2 mapping=$3 seeds="[]" k s
  for k in $(seq 1 "$n"); do
    s=$state
    [[ "$state" == sqlite ]] && s="{ \"backend\": \"sqlite\", \"path\": \"$work/agent$k.db\" }"
    write_agent_config "$k" "$seeds" "$s" "$mapping"
    spawn "agent$k" agent --config "agent$k.json"
    seeds="[\"$(a2a_of "agent$k")\"]"
  done
  wait_for "every agent sees $n members" 60 all_see "$n" $(seq 1 "$n")
}
# all_see N K...: agents K... each see N members.
all_see() {
  local n=$1 k
  shift
  for k in "$@"; do sees_members "$k" "$n" || return 1; done
}
# upload_image: a small raw image, fault-img, as the user.
upload_image() {
  head -c 65536 /dev/urandom >disk.raw
  openstack image create --file disk.raw --disk-format raw --container-format bare fault-img -f value -c id >/dev/null
  echo "ok: image fault-img uploaded"
}
