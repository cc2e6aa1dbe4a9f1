/*
 * libFuzzer target for wasm/src/phr.c: request, response and header parsing, and chunked decoding
 * split at a fuzzer-chosen point. The same input goes through two builds of phr.c linked side by
 * side: the scalar byte loops (phr_*) and the SIMD128 scans via simd128-emu.h (simd_phr_*, the
 * names rewritten by -D flags in fuzz.sh). Any difference in a return value, an output offset or
 * the decoder state aborts, as does any out-of-bounds read (ASan; libFuzzer hands over an
 * exact-size heap copy). First input byte: options (capacity, last_len, consume_trailer, split).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "phr.h"

int simd_phr_parse_request(const char *, size_t, const char **, size_t *, const char **, size_t *, int *,
                           struct phr_header *, size_t *, size_t);
int simd_phr_parse_response(const char *, size_t, int *, int *, const char **, size_t *, struct phr_header *, size_t *,
                            size_t);
int simd_phr_parse_headers(const char *, size_t, struct phr_header *, size_t *, size_t);
ssize_t simd_phr_decode_chunked(struct phr_chunked_decoder *, char *, size_t *);
int simd_pg_parse_request_counted(const char *, size_t, const char **, size_t *, const char **, size_t *, int *,
                                  struct phr_header *, size_t *, size_t);

#define REQUIRE(cond)                                                                                                  \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            abort();                                                                                                   \
    } while (0)

static const size_t CAPACITIES[8] = {0, 1, 2, 3, 4, 8, 16, 100};

static void same_headers(const char *a0, const struct phr_header *a, const char *b0, const struct phr_header *b,
                         size_t n, size_t len)
{
    for (size_t i = 0; i < n; ++i) {
        REQUIRE((a[i].name == NULL) == (b[i].name == NULL));
        if (a[i].name != NULL) {
            REQUIRE(a[i].name - a0 == b[i].name - b0 && a[i].name_len == b[i].name_len);
            REQUIRE((size_t)(a[i].name - a0) + a[i].name_len <= len);
        }
        REQUIRE(a[i].value - a0 == b[i].value - b0 && a[i].value_len == b[i].value_len);
        REQUIRE((size_t)(a[i].value - a0) + a[i].value_len <= len);
    }
}

static size_t pick_last_len(uint8_t opt, size_t len)
{
    switch ((opt >> 3) & 3) {
    case 0:
        return 0;
    case 1:
        return len ? len - 1 : 0;
    case 2:
        return len / 2;
    default:
        return len + 3 > len ? len + 3 : len;
    }
}

static void requests(uint8_t opt, const char *buf, size_t len)
{
    struct phr_header ha[100], hb[100];
    const char *ma, *mb, *pa, *pb;
    size_t mla, mlb, pla, plb, na = CAPACITIES[opt & 7], nb = na, last_len = pick_last_len(opt, len);
    int va, vb;
    int ra = phr_parse_request(buf, len, &ma, &mla, &pa, &pla, &va, ha, &na, last_len);
    int rb = simd_phr_parse_request(buf, len, &mb, &mlb, &pb, &plb, &vb, hb, &nb, last_len);
    REQUIRE(ra == rb && va == vb && na == nb && mla == mlb && pla == plb);
    REQUIRE((ma == NULL) == (mb == NULL) && (ma == NULL || ma - buf == mb - buf));
    REQUIRE((pa == NULL) == (pb == NULL) && (pa == NULL || pa - buf == pb - buf));
    REQUIRE(ra == -1 || ra == -2 || (ra > 0 && (size_t)ra <= len));
    if (ra > 0)
        same_headers(buf, ha, buf, hb, na, len);

    na = nb = CAPACITIES[opt & 7];
    ra = pg_parse_request_counted(buf, len, &ma, &mla, &pa, &pla, &va, ha, &na, last_len);
    rb = simd_pg_parse_request_counted(buf, len, &mb, &mlb, &pb, &plb, &vb, hb, &nb, last_len);
    REQUIRE(ra == rb && na == nb);
    REQUIRE(ra >= -3);
}

static void responses(uint8_t opt, const char *buf, size_t len)
{
    struct phr_header ha[100], hb[100];
    const char *ma, *mb;
    size_t mla, mlb, na = CAPACITIES[opt & 7], nb = na, last_len = pick_last_len(opt, len);
    int va, vb, sa, sb;
    int ra = phr_parse_response(buf, len, &va, &sa, &ma, &mla, ha, &na, last_len);
    int rb = simd_phr_parse_response(buf, len, &vb, &sb, &mb, &mlb, hb, &nb, last_len);
    REQUIRE(ra == rb && va == vb && sa == sb && na == nb && mla == mlb);
    REQUIRE((ma == NULL) == (mb == NULL) && (ma == NULL || ma - buf == mb - buf));
    if (ra > 0)
        same_headers(buf, ha, buf, hb, na, len);

    na = nb = CAPACITIES[opt & 7];
    ra = phr_parse_headers(buf, len, ha, &na, last_len);
    rb = simd_phr_parse_headers(buf, len, hb, &nb, last_len);
    REQUIRE(ra == rb && na == nb);
    if (ra > 0)
        same_headers(buf, ha, buf, hb, na, len);
}

static void chunked(uint8_t opt, uint8_t split_byte, const uint8_t *data, size_t len)
{
    char *a = malloc(len + 1), *b = malloc(len + 1);
    struct phr_chunked_decoder da, db;
    size_t split = len ? split_byte % (len + 1) : 0, doneA, doneB, sza, szb;
    ssize_t ra, rb;
    memcpy(a, data, len);
    memcpy(b, data, len);
    memset(&da, 0, sizeof(da));
    memset(&db, 0, sizeof(db));
    da.consume_trailer = db.consume_trailer = (opt >> 5) & 1;
    /* first piece, then (if it wanted more) the rest appended right after the payload */
    sza = szb = split;
    ra = phr_decode_chunked(&da, a, &sza);
    rb = simd_phr_decode_chunked(&db, b, &szb);
    REQUIRE(ra == rb && sza == szb && sza <= split && memcmp(a, b, split) == 0);
    doneA = sza;
    doneB = szb;
    if (ra == -2 && split < len) {
        memmove(a + doneA, data + split, len - split);
        memmove(b + doneB, data + split, len - split);
        sza = szb = len - split;
        ra = phr_decode_chunked(&da, a + doneA, &sza);
        rb = simd_phr_decode_chunked(&db, b + doneB, &szb);
        REQUIRE(ra == rb && sza == szb && memcmp(a, b, doneA + len - split) == 0);
    }
    REQUIRE(memcmp(&da, &db, sizeof(da)) == 0);
    REQUIRE(ra >= -2 && (ra < 0 || (size_t)ra <= len));
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t opt = data[0], split = data[1];
    const uint8_t *body = data + 2;
    size_t len = size - 2;
    /* an exact-size copy, so ASan flags a read even one byte past the input */
    char *buf = malloc(len ? len : 1);
    memcpy(buf, body, len);
    requests(opt, buf, len);
    responses(opt, buf, len);
    free(buf);
    chunked(opt, split, body, len);
    return 0;
}
