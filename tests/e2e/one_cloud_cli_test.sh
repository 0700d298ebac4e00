#!/usr/bin/env bash
# End to end: `shoal up -n 8` (an identity provider and eight agents, each beside an embedded
# cloudlet) used as ONE cloud through the real `openstack` CLI: one catalog of agent endpoints,
# an image uploaded once and imported once per cloudlet that needs it, 32 servers spread over
# the cloudlets and visible at every agent under shoal ids, tenant isolation, and clean deletion.
# Usage: one_cloud_cli_test.sh /path/to/shoal
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap '[[ -n "${SHOAL_PID:-}" ]] && kill -9 "$SHOAL_PID" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null  # no clouds.yaml of the machine may interfere
N=8
VMS=32
compute=(openstack --os-compute-api-version 2.37)

echo "== shoal up -n $N"
start_shoal_up "$work" -n $N --state-dir "$work/state"
expect_eq "one API URL per agent" $N ${#AGENT_URL[@]}
expect_eq "the demo openrc points at agent 1" "${AGENT_URL[1]}/identity/v3" "$OS_AUTH_URL"
for f in admin-openrc.sh demo-openrc.sh cloudlets.json agent1/state.db agent$N/agent.json; do
  [[ -s "$work/state/$f" ]] || fail "shoal up did not write state/$f"
done
echo "ok: openrc files, cloudlets.json, agent state and configs are in the state dir"
expect_eq "cloudlets.json lists one cloudlet per agent" $N ${#CLOUDLET_URL[@]}
expect_eq "every agent sees all $N members (shoal status)" $N \
  "$("$SHOAL" status --config "$work/state/agent$N/agent.json" | json_eval 'len(d["overlay"]["members"])')"

echo "== identity, at agent 1"
project_id=$(openstack token issue -f value -c project_id)
[[ -n "$project_id" ]] || fail "token issue printed no project_id"
echo "ok: token issue at agent 1 (project $project_id)"
catalog=$(openstack catalog list -f json)
urls=$(json_eval '"\n".join(sorted(set(__import__("re").findall(r"https?://[^\"\x27 ,]+", json.dumps(d)))))' <<<"$catalog")
[[ -n "$urls" ]] || fail "catalog has no URLs: $catalog"
while read -r url; do
  [[ "$url" == "${AGENT_URL[1]}"/* || "$url" == "${AGENT_URL[1]}" ]] || fail "catalog URL $url is not agent 1's"
done <<<"$urls"
echo "ok: every catalog URL is agent 1's ($(wc -l <<<"$urls") URLs)"
for k in $(seq 1 $N); do
  expect_not_contains "catalog does not show cloudlet $k" "${CLOUDLET_URL[$k]%/identity/v3}" "$urls"
done
expect_not_contains "catalog does not show the identity provider" "${IDP_URL%/identity/v3}" "$urls"
for svc in identity image compute; do
  expect_contains "catalog has $svc" "\"$svc\"" "$catalog"
done

echo "== image, uploaded once at agent 1"
head -c $((2 * 1024 * 1024)) /dev/urandom >disk.raw
image_id=$(openstack image create --file disk.raw --disk-format raw --container-format bare img1 -f value -c id)
[[ -n "$image_id" ]] || fail "image create printed no id"
expect_eq "img1 is active" active "$(openstack image show img1 -f value -c status)"
expect_eq "img1 size" $((2 * 1024 * 1024)) "$(openstack image show img1 -f value -c size)"

echo "== $VMS servers, created at agent 1"
"${compute[@]}" server create --image img1 --flavor m1.tiny --nic none --min $VMS --max $VMS --wait vm -f value -c id \
  >/dev/null
active_at() { [[ $(at_agent "$1" openstack server list -f value -c Status | grep -c '^ACTIVE$') == "$2" ]]; }
wait_for "$VMS servers ACTIVE, listed at agent 5" 300 active_at 5 $VMS
list=$(at_agent 5 openstack server list -f json)
expect_eq "agent 5 lists $VMS servers" $VMS "$(json_eval 'len(d)' <<<"$list")"
expect_eq "with $VMS distinct ids" $VMS "$(json_eval 'len(set(s["ID"] for s in d))' <<<"$list")"
expect_eq "all ACTIVE" $VMS "$(json_eval 'sum(s["Status"] == "ACTIVE" for s in d)' <<<"$list")"
mapfile -t ids < <(json_eval '"\n".join(sorted(s["ID"] for s in d))' <<<"$list")

# What each cloudlet holds, asked directly with its own admin (all projects), in parallel.
# (Waits for its own jobs only: a bare `wait` would wait for shoal too.)
snapshot_cloudlets() {
  local k pids=()
  for k in $(seq 1 $N); do
    at_cloudlet "$k" server list --all-projects -f json >"cloudlet$k.servers.json" &
    pids+=($!)
    at_cloudlet "$k" image list -f json >"cloudlet$k.images.json" &
    pids+=($!)
  done
  for k in "${pids[@]}"; do wait "$k" || fail "asking a cloudlet directly failed"; done
}
snapshot_cloudlets
total=0 used=0 cloudlet_ids=""
for k in $(seq 1 $N); do
  n=$(json_eval 'len(d)' <"cloudlet$k.servers.json")
  total=$((total + n))
  cloudlet_ids+=$(json_eval '"".join(s["ID"] + "\n" for s in d)' <"cloudlet$k.servers.json")$'\n'
  if ((n > 0)); then
    used=$((used + 1))
    expect_eq "cloudlet $k ($n servers) holds exactly one image: img1 imported once" 1 \
      "$(json_eval 'len(d)' <"cloudlet$k.images.json")"
  fi
  echo "   cloudlet $k: $n servers"
done
expect_eq "the cloudlets hold the $VMS servers" $VMS $total
((used >= 6)) || fail "the $VMS servers sit on only $used of $N cloudlets (want >= 6)"
echo "ok: the servers sit on $used of $N cloudlets"
for id in "${ids[@]}"; do
  grep -qx -- "$id" <<<"$cloudlet_ids" && fail "shoal server id $id is a cloudlet-side id"
done
echo "ok: no shoal server id is a cloudlet-side id"

echo "== every server shown at another agent (2..$N in turn)"
pids=()
for k in $(seq 2 $N); do
  (
    for ((i = k - 2; i < ${#ids[@]}; i += N - 1)); do
      at_agent "$k" openstack server show "${ids[$i]}" -f value -c id -c status | tr '\n' ' ' || echo "FAILED ${ids[$i]}"
      echo
    done
  ) >"show$k.out" 2>&1 &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
shown=$(cat show*.out)
for id in "${ids[@]}"; do
  grep -q -- "ACTIVE $id\|$id ACTIVE" <<<"$shown" || fail "server show $id: $(grep -- "$id" <<<"$shown")"
done
echo "ok: server show of all $VMS servers at agents 2..$N"

echo "== image download at agent 3"
at_agent 3 openstack image save --file saved.raw img1
cmp disk.raw saved.raw || fail "image save at agent 3 returned other bytes"
echo "ok: image save at agent 3 returns the uploaded bytes"

echo "== a second tenant cannot see or touch the first's resources"
as_admin 4 openstack project create demo2 -f value -c id >/dev/null
as_admin 4 openstack user create --password demo2-secret --project demo2 demo2 -f value -c id >/dev/null
as_admin 4 openstack role add --project demo2 --user demo2 member
echo "ok: project and user demo2 created by the admin at agent 4"
as_demo2() { OS_USERNAME=demo2 OS_PASSWORD=demo2-secret OS_PROJECT_NAME=demo2 "$@"; }
victim=${ids[0]}
for k in 2 7; do
  demo2_project=$(as_demo2 at_agent $k openstack token issue -f value -c project_id)
  [[ -n "$demo2_project" && "$demo2_project" != "$project_id" ]] || fail "demo2 token at agent $k: '$demo2_project'"
  echo "ok: demo2 authenticates at agent $k"
  expect_eq "demo2 lists no servers at agent $k" "" "$(as_demo2 at_agent $k openstack server list -f value -c ID)"
  expect_fail "demo2 cannot show demo's server at agent $k" "No server with a name or ID" \
    as_demo2 at_agent $k openstack server show "$victim"
  expect_fail "demo2 cannot delete demo's server at agent $k" "No server with a name or ID" \
    as_demo2 at_agent $k openstack server delete "$victim"
  expect_fail "demo2 cannot show demo's image at agent $k" "No Image found" \
    as_demo2 at_agent $k openstack image show "$image_id"
done
expect_eq "demo's server survived" ACTIVE "$(openstack server show "$victim" -f value -c status)"

echo "== delete everything at agent 1"
# Without --wait: the CLI's --wait polls one server after the other, 5 s apart.
openstack server delete "${ids[@]}"
no_servers() { [[ $(openstack server list -f value -c ID) == "" ]]; }
wait_for "no servers left at agent 1" 120 no_servers
openstack image delete img1
expect_not_contains "img1 gone" "$image_id" "$(openstack image list -f value -c ID)"
cloudlet_empty() {
  [[ $(at_cloudlet "$1" server list --all-projects -f value -c ID) == "" &&
    $(at_cloudlet "$1" image list -f value -c ID) == "" ]]
}
for k in $(seq 1 $N); do
  wait_for "cloudlet $k has no servers and no images left" 60 cloudlet_empty "$k"
done

stop_shoal

echo "== shoal up again on the same state dir"
start_shoal_up "$work" -n $N --state-dir "$work/state"
expect_eq "the demo project survived the restart" "$project_id" "$(openstack token issue -f value -c project_id)"
expect_eq "demo2 survived too" demo2 "$(as_admin 3 openstack project show demo2 -f value -c name)"
expect_eq "still no servers" "" "$(at_agent 2 openstack server list -f value -c ID)"
stop_shoal
echo "PASS: eight cloudlets used as one cloud through the openstack CLI (${SECONDS}s)"
