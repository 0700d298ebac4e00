#!/usr/bin/env bash
# The main job on the embedded default: build shoal and start an embedded OpenStack cloudlet
# on 127.0.0.1. Prints `export OS_...` lines and `ready`; Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
cmake --preset release -DSHOAL_BUILD_TESTS=OFF -DSHOAL_BUILD_BENCH=OFF >&2
cmake --build build/release --target shoal >&2
exec build/release/src/cli/shoal cloudlet "$@"
