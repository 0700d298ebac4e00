#!/usr/bin/env bash
# End to end against REAL OpenStack: two unmodified Zed cloudlets (Keystone, Glance, Placement,
# Nova with the fake driver, provisioned by tests/real/provision.sh), one `shoal agent` process
# in front of each, used as ONE cloud with the real `openstack` CLI: authenticate at an agent
# (the identity provider is cloudlet 1's Keystone), upload an image once, boot servers that land
# on both real cloudlets (the image imported into the other one by URL, Glance web-download from
# the agent's port), list/show/download at the other agent, a build that fails at every cloudlet
# (Nova's real fault), delete, and check with the cloudlets' own APIs that nothing is left.
# Hermetic: the cloudlets may hold other projects' servers and images (tests/real/bystanders.sh
# puts some there); what the test asks of them is about the tenant's shadow projects only.
# Usage: one_cloud_real_test.sh /path/to/shoal
# Environment: SHOAL_REAL_AUTH_URLS ("url1 url2": each cloudlet's Keystone v3),
#              SHOAL_REAL_PASSWORD (their admin's password; default secret).
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/../e2e/lib.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # Debian's python3 (the clients)
read -r -a URLS <<<"${SHOAL_REAL_AUTH_URLS:-}"
((${#URLS[@]} >= 2)) || fail "SHOAL_REAL_AUTH_URLS must name two real cloudlets (tests/real/provision.sh)"
ADMIN_PASSWORD=${SHOAL_REAL_PASSWORD:-secret}
N=2
VMS=4
work=$(mktemp -d)
PIDS=()
idp_tenant="" project_id=""
cleanup() {
  for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  # What a failed run made goes too (the cloudlets are shared); a passed run has left nothing.
  if [[ -n $project_id ]]; then
    for k in $(seq 1 $N); do
      shadow=$(shadow_project "$k" 2>/dev/null) || continue
      mapfile -t left < <(at_cloudlet "$k" openstack server list --all-projects --project "$shadow" -f value -c ID)
      ((${#left[@]} == 0)) || at_cloudlet "$k" openstack server delete --wait "${left[@]}" || true
      mapfile -t left < <(at_cloudlet "$k" openstack image list --project "$shadow" -f value -c ID)
      ((${#left[@]} == 0)) || at_cloudlet "$k" openstack image delete "${left[@]}" || true
      drop_shadow "$k" || true
    done
  fi
  if [[ -n $idp_tenant ]]; then
    at_cloudlet 1 openstack user delete --domain Default "$idp_tenant" || true
    at_cloudlet 1 openstack project delete --domain Default "$idp_tenant" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null  # the machine's clouds.yaml must not interfere
unset OS_CLOUD OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_PROJECT_ID OS_TOKEN
compute=(openstack --os-compute-api-version 2.37)
run=$RANDOM$RANDOM

# at_cloudlet K command...: straight at real cloudlet K, as its admin.
at_cloudlet() {
  local k=$1
  shift
  OS_AUTH_URL=${URLS[$((k - 1))]} OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD OS_PROJECT_NAME=admin \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}
# shadow_project K: the id of the project the agent made in cloudlet K for the tenant
# (cloudlet::ShadowName: "shoal-" + the tenant's project id at the identity provider).
shadow_project() { at_cloudlet "$1" openstack project show --domain Default "shoal-$project_id" -f value -c id; }
# shadow_servers K: the servers in it, as cloudlet K's admin sees them.
shadow_servers() {
  local shadow
  shadow=$(shadow_project "$1") || fail "real cloudlet $1 has no project shoal-$project_id (none of the tenant's servers)"
  at_cloudlet "$1" openstack server list --all-projects --project "$shadow" "${@:2}"
}
# drop_shadow K: deletes the shadow user and project in cloudlet K (the agents keep them for
# the tenant's next request; the test's tenant has none).
drop_shadow() {
  at_cloudlet "$1" openstack user delete --domain Default "shoal-$project_id"
  at_cloudlet "$1" openstack project delete --domain Default "shoal-$project_id"
}
# as_tenant K command...: the tenant's user, authenticated at agent K.
as_tenant() {
  local k=$1
  shift
  OS_AUTH_URL=${API[$k]}/identity/v3 OS_USERNAME=real-$run OS_PASSWORD=real-pw-$run OS_PROJECT_NAME=real-$run \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}

echo "== the real cloudlets answer"
for k in $(seq 1 $N); do
  at_cloudlet "$k" openstack token issue -f value -c id >/dev/null || fail "cloudlet $k (${URLS[$((k - 1))]}) refuses its admin"
  at_cloudlet "$k" openstack flavor show m1.tiny -f value -c id >/dev/null 2>&1 ||
    at_cloudlet "$k" openstack flavor create --vcpus 1 --ram 512 --disk 1 m1.tiny >/dev/null
  # More memory than any hypervisor has: every build fails with NoValidHost.
  at_cloudlet "$k" openstack flavor show m1.toobig -f value -c id >/dev/null 2>&1 ||
    at_cloudlet "$k" openstack flavor create --vcpus 1 --ram 90000000 --disk 1 m1.toobig >/dev/null
done
echo "ok: both cloudlets have m1.tiny and m1.toobig"

echo "== a tenant at the identity provider (cloudlet 1's Keystone)"
at_cloudlet 1 openstack project create --domain Default "real-$run" -f value -c id >/dev/null
idp_tenant=real-$run
at_cloudlet 1 openstack user create --domain Default --project "real-$run" --password "real-pw-$run" "real-$run" \
  -f value -c id >/dev/null
at_cloudlet 1 openstack role add --project "real-$run" --user "real-$run" member
echo "ok: project and user real-$run"

echo "== one shoal agent in front of each real cloudlet"
API=() A2A=()
seeds="[]"
for k in $(seq 1 $N); do
  cat >"agent$k.json" <<EOF
{ "id": "real$k", "listen": "127.0.0.1:0", "seeds": $seeds, "secret": "real-cloudlets-test-secret-$run",
  "cloudlet": { "auth_url": "${URLS[$((k - 1))]}", "username": "admin", "password": "$ADMIN_PASSWORD",
                "project": "admin", "region": "RegionOne" },
  "state": { "backend": "sqlite", "path": "$work/agent$k.db" },
  "overlay": { "period_ms": 500 },
  "api": { "port": 0, "idp_auth_url": "${URLS[0]}" } }
EOF
  "$SHOAL" agent --config "agent$k.json" >"agent$k.out" 2>"agent$k.log" &
  PIDS+=($!)
  SHOAL_LOG=$work/agent$k.log
  wait_for "agent $k ready" 120 grep -q '^ready$' "agent$k.out"
  API[$k]=$(sed -n 's/^api //p' "agent$k.out")
  [[ -n "${API[$k]}" ]] || fail "agent $k printed no API URL"
  A2A[$k]=$(sed -n 's/^agent real[0-9]* a2a //p' "agent$k.out")
  seeds="[\"${A2A[$k]}\"]"
done
members() { [[ $("$SHOAL" status --config "agent$1.json" --agent "${A2A[$1]}" | json_eval 'len(d["overlay"]["members"])') == "$N" ]]; }
for k in $(seq 1 $N); do wait_for "agent $k sees both members" 60 members "$k"; done

echo "== identity through agent 1"
project_id=$(as_tenant 1 openstack token issue -f value -c project_id)
expect_eq "token issue at agent 1 gives the IdP project" \
  "$(at_cloudlet 1 openstack project show "real-$run" -f value -c id)" "$project_id"
urls=$(as_tenant 1 openstack catalog list -f json |
  json_eval '"\n".join(sorted(set(__import__("re").findall(r"https?://[^\"\x27 ,]+", json.dumps(d)))))')
while read -r url; do
  [[ "$url" == "${API[1]}"* ]] || fail "catalog URL $url is not agent 1's"
done <<<"$urls"
echo "ok: every catalog URL is agent 1's ($(wc -l <<<"$urls") URLs)"

echo "== image uploaded once, at agent 1"
head -c $((1024 * 1024)) /dev/urandom >disk.raw
sum=$(md5sum <disk.raw | cut -d' ' -f1)
image_id=$(as_tenant 1 openstack image create --file disk.raw --disk-format raw --container-format bare "img-$run" \
  -f value -c id)
expect_eq "the image is active" active "$(as_tenant 1 openstack image show "$image_id" -f value -c status)"
expect_eq "its checksum" "$sum" "$(as_tenant 1 openstack image show "$image_id" -f value -c checksum)"

echo "== $VMS servers, created at agent 1"
as_tenant 1 "${compute[@]}" server create --image "$image_id" --flavor m1.tiny --nic none --min $VMS --max $VMS \
  "vm-$run" -f value -c id >/dev/null
active_at() { [[ $(as_tenant "$1" openstack server list -f value -c Status | grep -c '^ACTIVE$') == "$2" ]]; }
wait_for "$VMS servers ACTIVE, listed at agent 2" 300 active_at 2 $VMS
mapfile -t ids < <(as_tenant 2 openstack server list -f value -c ID | sort)
expect_eq "agent 2 lists $VMS servers" $VMS ${#ids[@]}

echo "== where they are, asked of the real cloudlets themselves (the tenant's shadow projects)"
total=0
for k in $(seq 1 $N); do
  shadow_servers "$k" -f json >"cloudlet$k.servers.json"
  n=$(json_eval 'len(d)' <"cloudlet$k.servers.json")
  total=$((total + n))
  echo "   cloudlet $k: $n servers"
  ((n >= 1)) || fail "real cloudlet $k holds none of the $VMS servers (placement by memory load spreads them)"
  expect_eq "cloudlet $k: its servers are ACTIVE" "$n" \
    "$(json_eval 'sum(s["Status"] == "ACTIVE" for s in d)' <"cloudlet$k.servers.json")"
  for id in "${ids[@]}"; do
    grep -q -- "$id" "cloudlet$k.servers.json" && fail "shoal server id $id is a cloudlet-side id"
  done
  # The image, imported into the cloudlet that did not have it (web-download from the agent's
  # port), is byte for byte the upload.
  expect_eq "cloudlet $k holds the image, active" active \
    "$(at_cloudlet "$k" openstack image show "$image_id" -f value -c status)"
  expect_eq "cloudlet $k: same checksum" "$sum" "$(at_cloudlet "$k" openstack image show "$image_id" -f value -c checksum)"
done
expect_eq "the real cloudlets hold the $VMS servers" $VMS $total
echo "ok: the servers sit on both real cloudlets; the image was imported, not uploaded twice"

echo "== show, at agent 2"
for id in "${ids[@]}"; do
  expect_eq "server $id ACTIVE at agent 2" ACTIVE "$(as_tenant 2 openstack server show "$id" -f value -c status)"
done
expect_fail "an unknown server is Nova's 404" "No server with a name or ID" \
  as_tenant 2 openstack server show 00000000-0000-4000-8000-000000000000

echo "== image download at agent 2"
as_tenant 2 openstack image save --file saved.raw "$image_id"
cmp disk.raw saved.raw || fail "image save at agent 2 returned other bytes"
echo "ok: image save at agent 2 returns the uploaded bytes"

echo "== a build no cloudlet can take ends in ERROR with Nova's fault"
bad=$(as_tenant 2 "${compute[@]}" server create --image "$image_id" --flavor m1.toobig --nic none "bad-$run" \
  -f value -c id)
errored() { [[ $(as_tenant 2 openstack server show "$bad" -f value -c status) == ERROR ]]; }
wait_for "the server ends in ERROR" 300 errored
fault=$(as_tenant 2 openstack server show "$bad" -f json | json_eval 'd.get("fault", {}).get("message", "")')
expect_contains "its fault is Nova's" "No valid host" "$fault"
as_tenant 2 openstack server delete "$bad"

echo "== delete everything at agent 2"
as_tenant 2 openstack server delete "${ids[@]}"
none_listed() { [[ $(as_tenant 2 openstack server list -f value -c ID) == "" ]]; }
wait_for "no servers listed at agent 2" 180 none_listed
as_tenant 1 openstack image delete "$image_id"
expect_not_contains "the image is gone at agent 1" "$image_id" "$(as_tenant 1 openstack image list -f value -c ID)"

echo "== nothing left behind, asked of the real cloudlets"
for k in $(seq 1 $N); do
  # Any server in the shadow project is the test's: those of the failed build's attempts too.
  no_servers_at() { [[ $(shadow_servers "$1" -f value -c ID) == "" ]]; }
  wait_for "real cloudlet $k has no server of the tenant's" 120 no_servers_at "$k"
  no_image_at() { ! at_cloudlet "$1" openstack image show "$image_id" -f value -c id; }
  wait_for "real cloudlet $k no longer has the image" 60 no_image_at "$k"
  expect_eq "cloudlet $k: no image of the tenant's shadow project" "" \
    "$(at_cloudlet "$k" openstack image list --project "$(shadow_project "$k")" -f value -c ID -c Name)"
done

echo "== agents stop cleanly"
for i in "${!PIDS[@]}"; do
  kill -TERM "${PIDS[$i]}"
  rc=0
  wait "${PIDS[$i]}" || rc=$?
  expect_eq "agent $((i + 1)) exits 0 on SIGTERM" 0 "$rc"
done
PIDS=()
for k in $(seq 1 $N); do drop_shadow "$k"; done
at_cloudlet 1 openstack user delete --domain Default "real-$run"
at_cloudlet 1 openstack project delete --domain Default "real-$run"
idp_tenant="" project_id=""
echo "PASS: one cloud over two real OpenStack cloudlets"
