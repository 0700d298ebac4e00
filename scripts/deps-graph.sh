#!/usr/bin/env bash
# The dependency graph of shoal's libraries and programs, from the target_link_libraries calls
# of src/*/CMakeLists.txt (only shoal_* targets): one line per target, "target -> dependencies".
# docs/architecture.md holds its output between <!-- deps:begin --> and <!-- deps:end -->;
# tests/docs/docs_test.sh checks that it is the current one. Regenerate with
#   scripts/deps-graph.sh --update
set -euo pipefail
cd "$(dirname "$0")/.."

graph() {
  # Joins continuation lines, then prints each target's shoal_* dependencies (shoal_ dropped).
  find src -name CMakeLists.txt | sort | while read -r f; do
    tr '\n' ' ' <"$f" | grep -oE 'target_link_libraries\([^)]*\)' || true
  done | sed -E 's/target_link_libraries\(//; s/\)$//' | while read -r target rest; do
    deps=$( (tr ' ' '\n' <<<"$rest" | grep -E '^shoal_' || true) | sed 's/^shoal_//' | sort -u | tr '\n' ' ' | sed 's/ $//')
    [ -n "$deps" ] && echo "${target#shoal_} -> ${deps// /, }"
  done | sort
}

if [ "${1:-}" = "--update" ]; then
  doc=docs/architecture.md
  block=$(graph)
  python3 - "$doc" "$block" <<'PY'
import re, sys
path, block = sys.argv[1], sys.argv[2]
text = open(path).read()
new = re.sub(r"(<!-- deps:begin -->\n```\n).*?(```\n<!-- deps:end -->)", lambda m: m.group(1) + block + "\n" + m.group(2),
             text, flags=re.S)
if new == text and block not in text:
    sys.exit("deps-graph: no <!-- deps:begin --> block in " + path)
open(path, "w").write(new)
PY
else
  graph
fi
