/*
 * A plain-C stand-in for the wasm_simd128.h intrinsics that wasm/src/phr.c uses, so that the
 * SIMD scans run (and are fuzzed against the scalar build) natively, under ASan/UBSan: clang can
 * compile wasm_simd128.h only for wasm targets. Semantics follow the WebAssembly SIMD spec
 * lane by lane; the 16-byte load goes through memcpy so ASan sees every byte it reads.
 * Test builds only (-DPG_SIMD_EMULATE -Iwasm/test); never part of parser.wasm.
 */
#ifndef PG_SIMD128_EMU_H
#define PG_SIMD128_EMU_H

#include <stdint.h>
#include <string.h>

typedef struct {
    uint8_t b[16];
} v128_t;

#define EMU_LANES(expr)                                                                                                \
    v128_t r_;                                                                                                         \
    for (int i = 0; i < 16; ++i)                                                                                       \
        r_.b[i] = (uint8_t)(expr);                                                                                     \
    return r_

static inline v128_t wasm_v128_load(const void *mem)
{
    v128_t r;
    memcpy(r.b, mem, 16);
    return r;
}
static inline v128_t wasm_u8x16_splat(uint8_t x) { EMU_LANES(x); }
static inline v128_t wasm_i8x16_eq(v128_t a, v128_t b) { EMU_LANES(a.b[i] == b.b[i] ? 0xff : 0); }
static inline v128_t wasm_u8x16_lt(v128_t a, v128_t b) { EMU_LANES(a.b[i] < b.b[i] ? 0xff : 0); }
static inline v128_t wasm_u8x16_le(v128_t a, v128_t b) { EMU_LANES(a.b[i] <= b.b[i] ? 0xff : 0); }
static inline v128_t wasm_u8x16_sub_sat(v128_t a, v128_t b) { EMU_LANES(a.b[i] > b.b[i] ? a.b[i] - b.b[i] : 0); }
static inline v128_t wasm_v128_and(v128_t a, v128_t b) { EMU_LANES(a.b[i] & b.b[i]); }
static inline v128_t wasm_v128_or(v128_t a, v128_t b) { EMU_LANES(a.b[i] | b.b[i]); }
static inline v128_t wasm_v128_andnot(v128_t a, v128_t b) { EMU_LANES(a.b[i] & ~b.b[i]); }
/* the spec masks the shift count with 7 */
static inline v128_t wasm_u8x16_shr(v128_t a, uint32_t n) { EMU_LANES(a.b[i] >> (n & 7)); }
/* lanes whose index is >= 16 become 0 */
static inline v128_t wasm_i8x16_swizzle(v128_t a, v128_t idx) { EMU_LANES(idx.b[i] < 16 ? a.b[idx.b[i]] : 0); }
static inline uint32_t wasm_i8x16_bitmask(v128_t a)
{
    uint32_t m = 0;
    for (int i = 0; i < 16; ++i)
        m |= (uint32_t)(a.b[i] >> 7) << i;
    return m;
}

#undef EMU_LANES
#endif
