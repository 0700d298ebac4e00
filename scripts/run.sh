#!/usr/bin/env bash
# The main job: build shoal and start a whole shoal in one process (`shoal up`): an identity
# provider with a demo project and user, and N agents (default 4) each beside an embedded
# OpenStack cloudlet, on 127.0.0.1. Prints the demo user's `export OS_...` lines (pointing at
# agent 1), `ready`, each agent's API URL and the openrc files; Ctrl-C stops it.
# Arguments go to `shoal up` (see docs/up.md), e.g. scripts/run.sh -n 8 --state-dir /tmp/shoal.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh >&2
cmake --preset release -DSHOAL_BUILD_TESTS=OFF -DSHOAL_BUILD_BENCH=OFF >&2
cmake --build build/release --target shoal >&2
exec build/release/src/cli/shoal up "$@"
