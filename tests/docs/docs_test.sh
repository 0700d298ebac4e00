#!/usr/bin/env bash
# The docs stay true to the tree: every path README.md and docs/*.md name exists (src/, tests/,
# bench/, scripts/, docs/; a{b,c} forms expanded, a path without extension may name files that
# start with it), and docs/architecture.md's dependency graph is the one CMake's
# target_link_libraries give (scripts/deps-graph.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
fail=0

while IFS=: read -r doc path; do
  # Placeholders (tests/fuzz/<name>_fuzz.cpp) and globs are patterns, not paths.
  case "$path" in *'<'*|*'*'*|*'...'*) continue ;; esac
  path=${path%.}
  path=${path%,}
  expanded=("$path")
  if [[ "$path" =~ ^(.*)\{([^}]*)\}(.*)$ ]]; then
    expanded=()
    IFS=, read -ra parts <<<"${BASH_REMATCH[2]}"
    for p in "${parts[@]}"; do expanded+=("${BASH_REMATCH[1]}$p${BASH_REMATCH[3]}"); done
  fi
  for p in "${expanded[@]}"; do
    if [ ! -e "$p" ] && ! compgen -G "$p*" >/dev/null; then
      echo "$doc names $p, which does not exist" >&2
      fail=1
    fi
  done
done < <(grep -oE '(^|[^A-Za-z0-9_./-])(src|tests|bench|scripts|docs)/[A-Za-z0-9_./{},<>*-]*' README.md docs/*.md |
         sed -E 's/^([^:]*):[^a-z]?/\1:/' | sort -u)

expected=$(scripts/deps-graph.sh)
actual=$(sed -n '/<!-- deps:begin -->/,/<!-- deps:end -->/p' docs/architecture.md | sed '1,2d;$d' | sed '$d')
if [ "$expected" != "$actual" ]; then
  echo "docs/architecture.md's dependency graph is not CMake's (run scripts/deps-graph.sh --update):" >&2
  diff <(echo "$actual") <(echo "$expected") >&2 || true
  fail=1
fi

[ "$fail" -eq 0 ] && echo "docs: every named path exists, the dependency graph is current"
exit "$fail"
