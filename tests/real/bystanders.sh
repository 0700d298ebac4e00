#!/usr/bin/env bash
# The `real` stage's fixture: resources on every real cloudlet that no test made, put there the
# way a user would (the `openstack` CLI), so that a test which compares or counts more than its
# own resources fails every time, not only on a cloudlet someone happened to use:
#   - project "bystander" with its user, who owns a private image and a server (--nic none);
#   - the admin's public image (as an operator publishes a base image: every tenant lists it)
#     and a public flavor with an extra spec.
# The CLI's image create sets `owner_specified.openstack.*` properties that shoal and its
# embedded Glance never set. Idempotent: what exists is kept (a bystander server is whatever a
# reboot left it, e.g. SHUTOFF), what is missing or broken is made again.
# Usage: bystanders.sh   (environment: SHOAL_REAL_AUTH_URLS, SHOAL_REAL_PASSWORD, as the tests)
set -euo pipefail
source "$(dirname "$0")/../e2e/lib.sh"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # Debian's python3 (the clients)
read -r -a URLS <<<"${SHOAL_REAL_AUTH_URLS:-}"
((${#URLS[@]} >= 1)) || fail "SHOAL_REAL_AUTH_URLS must name the real cloudlets (tests/real/provision.sh)"
ADMIN_PASSWORD=${SHOAL_REAL_PASSWORD:-secret}
BYSTANDER_PASSWORD=bystander-pw  # a test fixture's user on a loopback-only cloudlet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OS_CLIENT_CONFIG_FILE=/dev/null  # the machine's clouds.yaml must not interfere
unset OS_CLOUD OS_AUTH_URL OS_USERNAME OS_PASSWORD OS_PROJECT_NAME OS_PROJECT_ID OS_TOKEN
head -c 65536 /dev/urandom >"$work/disk.raw"

as_admin_at() {
  OS_AUTH_URL=$url OS_USERNAME=admin OS_PASSWORD=$ADMIN_PASSWORD OS_PROJECT_NAME=admin \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}
as_bystander_at() {
  OS_AUTH_URL=$url OS_USERNAME=bystander OS_PASSWORD=$BYSTANDER_PASSWORD OS_PROJECT_NAME=bystander \
    OS_USER_DOMAIN_NAME=Default OS_PROJECT_DOMAIN_NAME=Default OS_IDENTITY_API_VERSION=3 "$@"
}
# image_at WHO NAME ARGS...: the image NAME, active, made with ARGS if missing or not active.
image_at() {
  local who=$1 name=$2 status
  shift 2
  status=$("$who" openstack image show "$name" -f value -c status 2>/dev/null || true)
  [[ $status == active ]] && return
  [[ -n $status ]] && "$who" openstack image delete "$name"
  "$who" openstack image create --file "$work/disk.raw" --disk-format raw --container-format bare "$@" "$name" \
    -f value -c id >/dev/null
  expect_eq "$url: bystander image $name is active" active "$("$who" openstack image show "$name" -f value -c status)"
}

for url in "${URLS[@]}"; do
  as_admin_at openstack project create --or-show --domain Default --description "not a test's" bystander \
    -f value -c id >/dev/null
  as_admin_at openstack user create --or-show --domain Default --project bystander --password "$BYSTANDER_PASSWORD" \
    bystander -f value -c id >/dev/null
  as_admin_at openstack role add --project bystander --user bystander member
  image_at as_admin_at bystander-public --public --property os_distro=cirros
  image_at as_bystander_at bystander-private --private --tag bystander
  as_admin_at openstack flavor show bystander.small -f value -c id >/dev/null 2>&1 ||
    as_admin_at openstack flavor create --vcpus 1 --ram 256 --disk 1 --property hw_rng:allowed=True \
      bystander.small -f value -c id >/dev/null
  if [[ -z $(as_bystander_at openstack server list --name '^bystander-vm$' -f value -c ID) ]]; then
    as_bystander_at openstack --os-compute-api-version 2.37 server create --image bystander-private \
      --flavor m1.tiny --nic none --wait bystander-vm -f value -c id >/dev/null
  fi
  echo "$url: bystanders: project bystander (image, server $(as_bystander_at openstack server show bystander-vm \
    -f value -c status)), public image, flavor bystander.small"
done
