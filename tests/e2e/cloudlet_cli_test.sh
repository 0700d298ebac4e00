#!/usr/bin/env bash
# End to end: a fresh embedded cloudlet driven by the real `openstack` CLI (python3-openstackclient).
# Usage: cloudlet_cli_test.sh /path/to/shoal
set -euo pipefail
SHOAL=$(realpath "$1")
source "$(dirname "$0")/lib.sh"
work=$(mktemp -d)
trap '[[ -n "${SHOAL_PID:-}" ]] && kill -9 "$SHOAL_PID" 2>/dev/null; rm -rf "$work"' EXIT
cd "$work"
export OS_CLIENT_CONFIG_FILE=/dev/null  # no clouds.yaml of the machine may interfere

start_shoal out.txt shoal.log cloudlet --name e2e --hypervisors 2 --boot-delay-ms 300
base=${OS_AUTH_URL%/identity/v3}
expect_contains "auth URL is on 127.0.0.1" "http://127.0.0.1:" "$OS_AUTH_URL"

echo "== identity"
admin_project=$(openstack token issue -f value -c project_id)
[[ -n "$admin_project" ]] || fail "token issue printed no project_id"
echo "ok: token issue (project $admin_project)"
catalog=$(openstack catalog list -f value -c Name -c Type -c Endpoints)
for svc in "keystone identity" "glance image" "nova compute" "placement placement"; do
  expect_contains "catalog lists $svc" "$svc" "$catalog"
done
expect_contains "catalog endpoints point at the cloudlet" "$base/compute/v2.1" "$catalog"

demo_id=$(openstack project create demo -f value -c id)
expect_contains "project list shows demo" "demo" "$(openstack project list -f value -c Name)"
openstack user create --password s3cret --project demo alice -f value -c id >/dev/null
openstack role add --project demo --user alice member
expect_contains "role assignment visible" "member alice@Default" \
  "$(openstack role assignment list --project demo --names -f value -c Role -c User | tr '\n' ' ' | sed 's/  */ /g')"

# Everything below runs as alice in project demo, except what needs admin.
as_alice() { OS_USERNAME=alice OS_PASSWORD=s3cret OS_PROJECT_NAME=demo "$@"; }
expect_eq "alice's token is scoped to demo" "$demo_id" "$(as_alice openstack token issue -f value -c project_id)"
expect_fail "wrong password is refused" "401" env OS_USERNAME=alice OS_PASSWORD=wrong OS_PROJECT_NAME=demo openstack token issue
expect_fail "alice cannot create projects" "403" env OS_USERNAME=alice OS_PASSWORD=s3cret OS_PROJECT_NAME=demo openstack project create nope

echo "== images"
head -c 8192 /dev/urandom >disk.raw
image_id=$(as_alice openstack image create --file disk.raw --disk-format raw --container-format bare cirros -f value -c id)
expect_eq "uploaded image is active" active "$(as_alice openstack image show cirros -f value -c status)"
expect_eq "image size recorded" 8192 "$(as_alice openstack image show cirros -f value -c size)"
expect_eq "image checksum is the md5 of the data" "$(md5sum disk.raw | cut -d' ' -f1)" \
  "$(as_alice openstack image show cirros -f value -c checksum)"
as_alice openstack image save --file saved.raw cirros
cmp disk.raw saved.raw && echo "ok: image save returns identical bytes"
expect_contains "image list shows it" "$image_id" "$(as_alice openstack image list -f value -c ID)"
as_alice openstack image set --property purpose=e2e cirros
expect_contains "image property set" "purpose" "$(as_alice openstack image show cirros -f json -c properties)"

echo "== flavors"
expect_contains "flavor list has m1.tiny" "m1.tiny" "$(openstack flavor list -f value -c Name)"
expect_eq "m1.tiny has 512 MB" 512 "$(openstack flavor show m1.tiny -f value -c ram)"

echo "== servers"
used_before=$(openstack hypervisor stats show -f value -c memory_mb_used)
expect_eq "no VMs yet" 0 "$(openstack hypervisor stats show -f value -c running_vms)"
compute=(openstack --os-compute-api-version 2.37)
expect_eq "server create --wait reaches ACTIVE" ACTIVE \
  "$(as_alice "${compute[@]}" server create --image cirros --flavor m1.tiny --nic none --wait vm1 -f value -c status | tail -n 1)"
as_alice "${compute[@]}" server create --image cirros --flavor m1.tiny --nic none --min 5 --max 5 multi >/dev/null
all_active() { [[ $(as_alice openstack server list -f value -c Status | grep -c '^ACTIVE$') == 6 ]]; }
wait_for "6 servers ACTIVE" 60 all_active
expect_eq "server list names" "multi-1 multi-2 multi-3 multi-4 multi-5 vm1" \
  "$(as_alice openstack server list -f value -c Name | sort | tr '\n' ' ' | sed 's/ $//')"
expect_eq "hypervisor stats count the VMs" 6 "$(openstack hypervisor stats show -f value -c running_vms)"
expect_eq "memory used grows by 6 x 512 MB" $((used_before + 6 * 512)) \
  "$(openstack hypervisor stats show -f value -c memory_mb_used)"
expect_not_contains "admin's own list does not show alice's servers" "vm1" "$(openstack server list -f value -c Name)"
expect_contains "admin sees them with --all-projects" "vm1" "$(openstack server list --all-projects -f value -c Name)"

providers=$(openstack resource provider list -f value -c uuid)
expect_eq "one resource provider per hypervisor" 2 "$(wc -l <<<"$providers")"
placement_used=0
for rp in $providers; do
  mem=$(openstack resource provider usage show "$rp" -f value | awk '$1=="MEMORY_MB"{print $2}')
  placement_used=$((placement_used + mem))
done
expect_eq "placement usages add up to the servers' RAM" $((6 * 512)) "$placement_used"

expect_eq "server show" ACTIVE "$(as_alice openstack server show vm1 -f value -c status)"
as_alice openstack server stop vm1
is_status() { [[ $(as_alice openstack server show "$1" -f value -c status) == "$2" ]]; }
wait_for "vm1 stops" 30 is_status vm1 SHUTOFF
as_alice openstack server start vm1
wait_for "vm1 starts again" 30 is_status vm1 ACTIVE
expect_fail "unknown server is reported" "No server with a name or ID of 'nope'" as_alice openstack server show nope

as_alice openstack server delete --wait vm1 multi-1 multi-2 multi-3 multi-4 multi-5
expect_eq "no servers left" "" "$(as_alice openstack server list -f value -c ID)"
expect_eq "hypervisor stats back to empty" 0 "$(openstack hypervisor stats show -f value -c running_vms)"
expect_eq "memory used back to where it was" "$used_before" "$(openstack hypervisor stats show -f value -c memory_mb_used)"

as_alice openstack image delete cirros
expect_not_contains "image gone" "$image_id" "$(as_alice openstack image list -f value -c ID)"

stop_shoal
echo "PASS: embedded cloudlet driven by the openstack CLI"
