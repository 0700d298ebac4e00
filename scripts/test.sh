#!/usr/bin/env bash
# Builds and runs every test: unit, integration and end-to-end (real `openstack` CLI), all
# under ASan+UBSan, then the `real` stage (shoal in front of real OpenStack Zed cloudlets it
# provisions itself), then a short smoke run of the benchmarks from the same build.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh

# The real OpenStack cloudlets (tests/real) install and start in the background while shoal
# builds: about 5 minutes on a fresh machine, mostly apt and database migrations.
real_log=/tmp/shoal-real/provision.log
mkdir -p /tmp/shoal-real
echo "== real OpenStack cloudlets: provisioning in the background ($real_log)"
tests/real/provision.sh >"$real_log" 2>&1 &
real_pid=$!

echo "== format check"
if ! git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror; then
  echo "clang-format: run 'git ls-files \"*.cpp\" \"*.hpp\" | xargs clang-format -i'" >&2
  exit 1
fi

echo "== sanitize build (ASan + UBSan): every test"
cmake --preset sanitize
cmake --build build/sanitize
ctest --preset sanitize -j2 --timeout 600 -LE real

# clang-tidy over every C++ file changed since the commit in .ci/tidy-base: all new work; the
# older rest of the tree is not clean yet (README.md, "Static analysis").
echo "== clang-tidy: files changed since $(cut -c1-12 .ci/tidy-base)"
scripts/tidy.sh "$(cat .ci/tidy-base)"

echo "== real OpenStack: waiting for the provisioning"
if ! wait "$real_pid"; then
  tail -n 60 "$real_log" >&2
  echo "provisioning the real OpenStack cloudlets failed (log: $real_log)" >&2
  exit 1
fi
tail -n 1 "$real_log"
source /tmp/shoal-real/env
echo "== real OpenStack: two Zed cloudlets behind agents, and the conformance of the embedded cloudlet"
ctest --preset sanitize --timeout 1200 -L real --output-on-failure

# The benchmarks' smoke run reuses the one build (ASan makes its numbers meaningless: the real
# figures come from a release build, docs/benchmarks.md); it shows they run and answer.
echo "== benchmarks: a short smoke run from the same build (figures: docs/benchmarks.md)"
build/sanitize/bench/http_bench --benchmark_min_time=0.2

echo "== all tests passed in $(( $(date +%s) - start )) s"
