#!/usr/bin/env bash
# Provisions the `real` test stage's two OpenStack Zed cloudlets side by side on 127.0.0.1
# (tests/real/cloudlet.sh): the Debian packages once, then c1 (Keystone :5000, also the shoal's
# identity provider in the tests) and c2 (:5100), each with the m1.tiny flavor. Idempotent.
# Writes ENV_FILE (default /tmp/shoal-real/env) with the variables the tests read, and the time
# each part took. As root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin  # Debian's python3, not pyenv's
ENV_FILE=${ENV_FILE:-/tmp/shoal-real/env}
mkdir -p "$(dirname "$ENV_FILE")"
rm -f "$ENV_FILE"
t0=$(date +%s)

CLOUDLET=c1 PORT_OFFSET=0 "$here/cloudlet.sh" install
t1=$(date +%s)
CLOUDLET=c2 PORT_OFFSET=100 SKIP_APT=1 "$here/cloudlet.sh" install
t2=$(date +%s)

for k in 1 2; do
  (
    # shellcheck disable=SC1090
    source "/etc/cloudlet/c$k/admin-openrc.sh"
    openstack flavor show m1.tiny -f value -c id >/dev/null 2>&1 ||
      openstack flavor create --vcpus 1 --ram 512 --disk 1 m1.tiny -f value -c id >/dev/null
  )
done
t3=$(date +%s)

cat >"$ENV_FILE" <<EOF
export SHOAL_REAL_AUTH_URLS="http://127.0.0.1:5000/v3 http://127.0.0.1:5100/v3"
export SHOAL_REAL_AUTH_URL=http://127.0.0.1:5000/v3
export SHOAL_REAL_PASSWORD=secret
# provisioning times (s): c1 with packages $((t1 - t0)), c2 $((t2 - t1)), flavors $((t3 - t2)), all $((t3 - t0))
EOF
echo "real cloudlets up in $((t3 - t0)) s (c1 with packages $((t1 - t0)) s, c2 $((t2 - t1)) s): $ENV_FILE"
