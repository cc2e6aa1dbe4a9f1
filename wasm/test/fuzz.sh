#!/usr/bin/env bash
# Runs the libFuzzer target fuzz-phr.c for a bounded time: `bash wasm/test/fuzz.sh SECONDS`
# (default 60). It links two builds of wasm/src/phr.c, the scalar loops and the SIMD128 scans
# via simd128-emu.h (symbols renamed simd_*), under ASan/UBSan, and aborts on any difference or
# out-of-bounds read. The corpus, seeded from cases.json, lives in wasm/test/build/fuzz-corpus;
# a crash leaves its input in wasm/test/build/ (crash-*). Without clang: skip, unless CI is set.
set -euo pipefail
cd "$(dirname "$0")/../.."

SECONDS_TO_RUN=${1:-60}
CC=${CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
  if [ -n "${CI:-}" ]; then echo "fuzz: $CC not found (required when CI is set)" >&2; exit 1; fi
  echo "fuzz: skipped: $CC not found"; exit 0
fi

B=wasm/test/build
mkdir -p "$B/fuzz-corpus"
FLAGS=(-O1 -g -std=gnu11 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iwasm/src -Iwasm/test)
RENAME=()
for f in phr_parse_request phr_parse_response phr_parse_headers phr_decode_chunked phr_decode_chunked_is_in_data \
         pg_parse_request_counted pg_phr_simd; do
  RENAME+=("-D$f=simd_$f")
done

"$CC" "${FLAGS[@]}" -DPG_SCALAR -c wasm/src/phr.c -o "$B/fuzz-phr-scalar.o"
"$CC" "${FLAGS[@]}" -DPG_SIMD_EMULATE "${RENAME[@]}" -c wasm/src/phr.c -o "$B/fuzz-phr-simd.o"
"$CC" "${FLAGS[@]}" wasm/test/fuzz-phr.c "$B/fuzz-phr-scalar.o" "$B/fuzz-phr-simd.o" -o "$B/fuzz-phr"

# seed: every case input, behind option bytes for a few capacities/last_len/trailer modes
node --input-type=module -e '
import { readFileSync, writeFileSync } from "node:fs";
const cases = JSON.parse(readFileSync("wasm/test/cases.json", "latin1"));
cases.forEach((c, i) => {
  if (i % 3 !== 0 && !c.name.startsWith("browser") && !c.name.startsWith("feature")) return;
  const opt = [0x07, 0x2f, 0x0f, 0x20][i % 4];
  writeFileSync(`wasm/test/build/fuzz-corpus/case-${i}`, Buffer.concat([Buffer.from([opt, i & 0xff]), Buffer.from(c.input, "latin1")]));
});
'

cd "$B"
./fuzz-phr -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -print_final_stats=1 fuzz-corpus 2>&1 | tail -n 25
