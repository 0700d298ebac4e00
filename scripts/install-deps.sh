#!/usr/bin/env bash
# Installs what shoal needs to build, test and run, from Debian 12 packages.
# Idempotent and non-interactive; run as root (or with sudo available).
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config git clang-format clang-tidy-14
  libboost1.81-dev libboost-url1.81-dev   # never the unversioned libboost-dev: it conflicts with 1.81
  nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev libsqlite3-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-openstackclient python3-glanceclient python3-osc-placement   # the real clients the tests drive
  etcd-server etcd-client curl procps
  gnuplot-nox   # `shoal bench` plots
)

missing=()
for p in "${packages[@]}"; do
  [[ "$p" == \#* ]] && continue
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
