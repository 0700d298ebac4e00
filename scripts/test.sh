#!/usr/bin/env bash
# Builds and runs every test: unit, integration and end-to-end (real `openstack` CLI), all
# under ASan+UBSan, then a release build that runs the benchmarks briefly.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/install-deps.sh

echo "== format check"
if ! git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run --Werror; then
  echo "clang-format: run 'git ls-files \"*.cpp\" \"*.hpp\" | xargs clang-format -i'" >&2
  exit 1
fi

echo "== sanitize build (ASan + UBSan): every test"
cmake --preset sanitize
cmake --build build/sanitize
ctest --preset sanitize -j2 --timeout 600

echo "== release build: benchmarks (short runs, for smoke; see docs/benchmarks.md for real ones)"
cmake --preset release
cmake --build build/release --target http_bench
build/release/bench/http_bench --benchmark_min_time=0.2

echo "== all tests passed in $(( $(date +%s) - start )) s"
