#!/usr/bin/env bash
# Secrets, nonces and ids come from the CSPRNG (src/common/secure_random.cpp) and nowhere else;
# the seeded, predictable shoal::Rng (src/common/rng.hpp) serves protocols and simulations. This
# fails when code under src/ reaches for another source of randomness, so that a secret cannot
# quietly come from a predictable one. Allowed exceptions are listed with their reason.
set -euo pipefail
cd "$(dirname "$0")/../../src"
status=0
check() {  # check DESCRIPTION PATTERN ALLOWED-FILE...
  local desc=$1 pattern=$2
  shift 2
  local hits
  hits=$(grep -rnE --include='*.cpp' --include='*.hpp' "$pattern" . | grep -vF "$(printf '%s\n' "$@")" || true)
  if [[ -n "$hits" ]]; then
    echo "FAIL: $desc:" >&2
    echo "$hits" >&2
    status=1
  else
    echo "ok: $desc"
  fi
}
check "RAND_bytes only behind common/secure_random" 'RAND_(bytes|priv_bytes)\(' ./common/secure_random.cpp
# The engines: Rng's own, and the fake hypervisors' seeded failure draws (a simulation).
check "no pseudo-random engine but shoal::Rng's" 'mt19937|minstd_rand|ranlux|default_random_engine|[^_a-zA-Z]s?rand\(|[^_a-zA-Z]random\(\)' \
  ./common/rng.hpp ./emulator/nova/fake_compute.cpp
# std::random_device only seeds a protocol's Rng (placement, the overlay): never a secret.
check "std::random_device only as the seed of a protocol's Rng" 'random_device' \
  './compute/nova_proxy.cpp:' './agent/agent.cpp:'
exit $status
