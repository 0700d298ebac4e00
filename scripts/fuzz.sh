#!/usr/bin/env bash
# Builds the libFuzzer targets (the `fuzz` preset: clang-14, ASan + UBSan) and runs each for a
# bounded time on a copy of its committed corpus (tests/fuzz/corpus/<name>), so the repository
# is never rewritten. Prints per target the executions, the corpus size and the coverage gained;
# fails on any crash, leak, timeout or sanitizer report (the input is kept under $FUZZ_OUT).
#   scripts/fuzz.sh [SECONDS_PER_TARGET (default 30)] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
out=${FUZZ_OUT:-/tmp/shoal-fuzz}
start=$(date +%s)

if ! command -v clang++-14 >/dev/null || [ ! -e /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a ] 2>/dev/null; then
  apt-get install -y clang-14 libfuzzer-14-dev libclang-rt-14-dev >/dev/null
fi
echo "== fuzz build (clang-14, libFuzzer + ASan + UBSan)"
cmake --preset fuzz >/dev/null
cmake --build build/fuzz
build_s=$(( $(date +%s) - start ))

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for d in tests/fuzz/corpus/*/; do targets+=("$(basename "$d")"); done
fi

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
rm -rf "$out" && mkdir -p "$out"
failed=()
printf '%-22s %10s %8s %8s %8s\n' target execs seeds corpus new_cov
for t in "${targets[@]}"; do
  bin=build/fuzz/tests/fuzz/${t}_fuzz
  corpus=$out/$t/corpus
  mkdir -p "$corpus" "$out/$t/artifacts"
  cp tests/fuzz/corpus/"$t"/* "$corpus"/
  seeds=$(ls "$corpus" | wc -l)
  dict=(-dict=tests/fuzz/json.dict)  # every target but two reads JSON
  [ -f tests/fuzz/"$t".dict ] && dict=(-dict=tests/fuzz/"$t".dict)
  rc=0
  "$bin" "$corpus" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
    -print_final_stats=1 -artifact_prefix="$out/$t/artifacts/" >"$out/$t/log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t/log" | tail -1)
  # "cov:" is libFuzzer's count of covered edges: after the seeds (INITED) and at the end.
  cov_start=$(sed -n 's/^#[0-9]*[[:space:]]*INITED .* cov: \([0-9]*\).*/\1/p' "$out/$t/log" | head -1)
  cov_end=$(sed -n 's/^#[0-9]*[[:space:]]*[A-Z]* .* cov: \([0-9]*\).*/\1/p' "$out/$t/log" | tail -1)
  files=$(ls "$corpus" | wc -l)
  printf '%-22s %10s %8s %8s %8s\n' "$t" "${execs:-?}" "$seeds" "$files" "$(( ${cov_end:-0} - ${cov_start:-0} ))"
  if [ "$rc" -ne 0 ] || grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|SUMMARY: ' "$out/$t/log"; then
    failed+=("$t")
    echo "   FAILED (exit $rc): $out/$t/log; inputs: $(ls "$out/$t/artifacts" | tr '\n' ' ' || true)" >&2
    grep -m5 -E 'ERROR:|runtime error:|SUMMARY:|fuzz check failed' "$out/$t/log" | sed 's/^/   /' >&2 || true
  fi
done
echo "== fuzz: build ${build_s} s, total $(( $(date +%s) - start )) s, ${seconds} s per target (logs: $out)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in ${failed[*]}" >&2
  exit 1
fi
