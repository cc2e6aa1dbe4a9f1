#!/usr/bin/env bash
# Builds and runs the parser's native tests (test-phr.c over cases.json) under ASan/UBSan, twice:
# with the scalar byte loops (-DPG_SCALAR) and with the SIMD128 scans through simd128-emu.h
# (-DPG_SIMD_EMULATE; clang compiles wasm_simd128.h only for wasm). Then a short bench.c run as
# a smoke test. Prints "native: N passed, M failed" last; exits non-zero on any failure.
# Without clang it skips (exit 0) unless CI is set. Usage: bash wasm/test/run-native.sh [name-filter]
set -euo pipefail
cd "$(dirname "$0")/../.."

CC=${CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "run-native: $CC not found (required when CI is set)" >&2; exit 1; fi
  echo "run-native: skipped: $CC not found"; exit 0
fi

B=wasm/test/build
mkdir -p "$B"
node wasm/test/gen-cases.mjs

SAN=(-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all)
WARN=(-std=gnu11 -Wall -Wextra -Werror)
INC=(-Iwasm/src -Iwasm/test -I"$B")
SRC=(wasm/src/phr.c wasm/src/batch.c)

"$CC" "${SAN[@]}" "${WARN[@]}" "${INC[@]}" -DPG_SCALAR "${SRC[@]}" wasm/test/test-phr.c -o "$B/test-scalar"
"$CC" "${SAN[@]}" "${WARN[@]}" "${INC[@]}" -DPG_SIMD_EMULATE "${SRC[@]}" wasm/test/test-phr.c -o "$B/test-simd-emu"

total_pass=0; total_fail=0; status=0
for t in test-scalar test-simd-emu; do
  out=$("$B/$t" "$@") || status=1
  echo "$out" | grep -v '^native\[' || true
  line=$(echo "$out" | grep '^native\[' | tail -n 1)
  echo "$line"
  if [ -z "$line" ]; then status=1; continue; fi
  p=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\1/')
  f=$(echo "$line" | sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed/\2/')
  total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
done

# bench.c as a quick smoke test (its asserts check every parse); the timing run is separate
"$CC" -O2 -std=gnu11 -Wall -Wextra -Werror "${INC[@]}" -DPG_SCALAR "${SRC[@]}" wasm/test/bench.c -o "$B/bench"
if "$B/bench" 20000 >/dev/null; then total_pass=$((total_pass + 1)); else total_fail=$((total_fail + 1)); status=1; echo "FAIL bench.c"; fi

echo "native: $total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ] && [ "$status" -eq 0 ]
