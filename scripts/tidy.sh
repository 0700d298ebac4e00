#!/usr/bin/env bash
# clang-tidy (.clang-tidy at the root) over shoal's C++ files, with the sanitize build's
# compile_commands.json.
#   scripts/tidy.sh            the files changed in the last commit (HEAD~1..HEAD)
#   scripts/tidy.sh BASE       the files changed against BASE (a commit, branch or tag), work tree included
#   scripts/tidy.sh --all      every .cpp of src/, tests/ and bench/
# Exit status 1 if clang-tidy reports anything (the config makes every warning an error).
# Times on this 2-core machine are in docs/development.md.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${SHOAL_TIDY_BUILD:-build/sanitize}
JOBS=${SHOAL_TIDY_JOBS:-2}
TIDY=${CLANG_TIDY:-clang-tidy-14}
[ -f "$BUILD/compile_commands.json" ] || { echo "tidy: no $BUILD/compile_commands.json; configure first (cmake --preset sanitize)" >&2; exit 2; }

if [ "${1:-}" = "--all" ]; then
  mapfile -t files < <(git ls-files 'src/*.cpp' 'tests/*.cpp' 'bench/*.cpp')
else
  base=${1:-HEAD~1}
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    echo "tidy: '$base' is not a commit here (a shallow clone?); nothing checked" >&2
    exit 0
  fi
  # A header counts through the .cpp files of its folder (clang-tidy checks headers as included).
  mapfile -t changed < <(git diff --name-only --diff-filter=d "$base" -- 'src/*.cpp' 'src/*.hpp' 'tests/*.cpp' \
    'tests/*.hpp' 'bench/*.cpp' 'bench/*.hpp' | sort -u)
  files=()
  for f in "${changed[@]}"; do
    case "$f" in
      *.cpp) files+=("$f") ;;
      *.hpp) for c in "$(dirname "$f")"/*.cpp; do [ -f "$c" ] && files+=("$c"); done ;;
    esac
  done
  mapfile -t files < <(printf '%s\n' "${files[@]}" | sort -u | sed '/^$/d')
fi

# Only the files the build knows (the fuzz targets, say, are not in the sanitize build).
db=$(mktemp -d)
trap 'rm -rf "$db"' EXIT
# g++'s precompiled headers are unreadable to clang, and some warning flags are g++'s only.
python3 - "$BUILD/compile_commands.json" "$db/compile_commands.json" <<'PY'
import json, re, sys
entries = json.load(open(sys.argv[1]))
for e in entries:
    cmd = e["command"]
    cmd = re.sub(r"\s-Winvalid-pch", "", cmd)
    cmd = re.sub(r"\s-include\s+\S*cmake_pch\.hxx", "", cmd)
    e["command"] = cmd + " -Wno-unknown-warning-option"
json.dump(entries, open(sys.argv[2], "w"))
PY
mapfile -t known < <(python3 -c 'import json,sys,os; [print(os.path.relpath(e["file"])) for e in json.load(open(sys.argv[1]))]' \
  "$db/compile_commands.json" | sort -u)
mapfile -t files < <(comm -12 <(printf '%s\n' "${files[@]}" | sort -u) <(printf '%s\n' "${known[@]}"))

if [ ${#files[@]} -eq 0 ]; then
  echo "tidy: no C++ file to check"
  exit 0
fi
echo "tidy: ${#files[@]} file(s), $JOBS at a time"
printf '%s\n' "${files[@]}" | xargs -P "$JOBS" -n 1 "$TIDY" -p "$db" --quiet 2>/dev/null | grep -v '^[0-9]* warnings\? generated' \
  > "$db/out" || true
[ -n "${SHOAL_TIDY_LOG:-}" ] && cp "$db/out" "$SHOAL_TIDY_LOG"
if grep -qE '(warning|error):' "$db/out"; then
  cat "$db/out"
  echo "tidy: findings above (fix them, or suppress with // NOLINT(check): why)" >&2
  exit 1
fi
echo "tidy: clean"
