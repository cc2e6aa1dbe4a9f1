/*
 * The phr_* parsers and chunked decoder (contract in phr.h), matching picohttpparser f832609.
 *
 * Every function reads only inside [buf, buf + len): the SIMD scans load 16 bytes only while 16
 * remain, and the byte loops check the end before each read, so an input placed right before
 * unmapped memory (or at the end of wasm linear memory) is safe. The SIMD128 scans only skip
 * bytes that the byte loops after them would also skip, which is what keeps both builds equal;
 * the byte loops decide every result. Order of checks matters as much as the checks: which of
 * -1 and -2 wins on a given prefix is part of upstream's behaviour, so the code keeps its order.
 */
#include <string.h>
#include "phr.h"

#if defined(PG_SCALAR)
#define PG_SIMD 0
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#define PG_SIMD 1
#elif defined(PG_SIMD_EMULATE)
/* native test builds: a plain-C stand-in for the few wasm_simd128.h intrinsics used below */
#include "simd128-emu.h"
#define PG_SIMD 1
#else
#define PG_SIMD 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#else
#define likely(x) (x)
#define unlikely(x) (x)
#endif

/* the byte loops' early exits: not enough input yet, or a byte no valid head can have here */
#define NEED_BYTE()        \
    if (p == end) {        \
        *ret = -2;         \
        return NULL;       \
    }
#define FAIL()             \
    do {                   \
        *ret = -1;         \
        return NULL;       \
    } while (0)
/* after a CR only an LF may follow (a lone CR is an error, never a line end) */
#define EXPECT_LF()        \
    NEED_BYTE();           \
    if (*p++ != '\n')      \
        FAIL();

/* tchar of RFC 9110 §5.6.2: method and header-name bytes */
static const unsigned char TCHAR[256] = {
    /* 0x00 */ 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* 0x20  SP ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ? */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0,
    /* 0x40  @ A-Z [ \ ] ^ _ */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1,
    /* 0x60  ` a-z { | } ~ DEL */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0,
    /* 0x80-0xff: none */
};

/* header values (and the reason phrase) stop at a CTL other than HT, or DEL */
#define IS_VALUE_STOP(c) ((unsigned char)(c) < 0x20 ? (c) != '\t' : (unsigned char)(c) == 0x7f)
/* the request-target stops at SP, a CTL or DEL */
#define IS_TARGET_STOP(c) ((unsigned char)(c) <= 0x20 || (unsigned char)(c) == 0x7f)

#if PG_SIMD
/*
 * Each scan returns the address of the first byte in [p, end) that might stop the byte loop
 * after it, looking 16 bytes at a time while 16 remain; otherwise where the last full block
 * ended. Two compares, i8x16.bitmask, then ctz: a browser's header value of 60 bytes is four
 * iterations instead of 60.
 *
 * Written for what V8 makes of them on x64 (bench/parser.md, "Why the SIMD scans lost"):
 * "c <= k" is spelled as u8x16.sub_sat(c, k) == 0 (psubusb, pcmpeqb), because clang turns
 * u8x16_le and min/eq into i8x16.lt_u, which V8 lowers to pmaxub, pcmpeqb and a NOT (two more
 * instructions and an all-ones register) per block. HT is left in the stop set of the value scan:
 * the byte loop steps over it, and HT in a value is rare.
 */
static inline const char *simd_skip_value(const char *p, const char *end)
{
    /* a CTL (HT included) or DEL */
    const v128_t us = wasm_u8x16_splat(0x1f), del = wasm_u8x16_splat(0x7f), zero = wasm_u8x16_splat(0);
    for (; end - p >= 16; p += 16) {
        v128_t v = wasm_v128_load(p);
        v128_t stop = wasm_v128_or(wasm_i8x16_eq(wasm_u8x16_sub_sat(v, us), zero), wasm_i8x16_eq(v, del));
        uint32_t mask = wasm_i8x16_bitmask(stop);
        if (mask != 0)
            return p + __builtin_ctz(mask);
    }
    return p;
}

static inline const char *simd_skip_target(const char *p, const char *end)
{
    /* SP, a CTL or DEL */
    const v128_t sp = wasm_u8x16_splat(0x20), del = wasm_u8x16_splat(0x7f), zero = wasm_u8x16_splat(0);
    for (; end - p >= 16; p += 16) {
        v128_t v = wasm_v128_load(p);
        v128_t stop = wasm_v128_or(wasm_i8x16_eq(wasm_u8x16_sub_sat(v, sp), zero), wasm_i8x16_eq(v, del));
        uint32_t mask = wasm_i8x16_bitmask(stop);
        if (mask != 0)
            return p + __builtin_ctz(mask);
    }
    return p;
}
#else
#define simd_skip_value(p, end) (p)
#define simd_skip_target(p, end) (p)
#endif

int pg_phr_simd(void)
{
    return PG_SIMD;
}

/* a run of tchar ended by next_char, which is not consumed; the run may be empty */
static const char *parse_token(const char *p, const char *end, const char **token, size_t *token_len, char next_char,
                               int *ret)
{
    const char *start = p;
    /* byte by byte on every build: method and header names are short, and the byte loop's exit
     * is a predicted branch, where a vector scan's is a load-to-ctz chain (bench/parser.md) */
    for (;; ++p) {
        NEED_BYTE();
        if (*p == next_char)
            break;
        if (!TCHAR[(unsigned char)*p])
            FAIL();
    }
    *token = start;
    *token_len = (size_t)(p - start);
    return p;
}

/* the rest of a line up to CRLF or LF (both consumed, neither part of the token); no trimming.
 * *token and *token_len are written only once the line end is confirmed: upstream leaves them
 * alone on -1/-2, and phr_parse_response hands them straight out as msg/msg_len. The byte loop
 * starts at skip_to when that is further on: the caller vouches that no byte before it stops. */
static const char *parse_to_eol(const char *p, const char *skip_to, const char *end, const char **token,
                                size_t *token_len, int *ret)
{
    const char *start = p, *stop;
    for (p = skip_to > p ? skip_to : p;; ++p) {
        NEED_BYTE();
        if (unlikely(IS_VALUE_STOP(*p)))
            break;
    }
    stop = p;
    if (likely(*p == '\r')) {
        ++p;
        EXPECT_LF();
    } else if (*p == '\n') {
        ++p;
    } else {
        FAIL();
    }
    *token = start;
    *token_len = (size_t)(stop - start);
    return p;
}

/* memcmp(p, "HTTP/1.", 7) == 0 as two overlapping 4-byte compares: clang expands no memcmp for
 * wasm, and a libc call per request line cost more than the compare */
static inline int starts_http_1(const char *p)
{
    uint32_t a, b, want_a, want_b;
    memcpy(&a, p, 4);
    memcpy(&b, p + 3, 4);
    memcpy(&want_a, "HTTP", 4);
    memcpy(&want_b, "P/1.", 4);
    return a == want_a && b == want_b;
}

/* "HTTP/1." and one digit; upstream wants 9 bytes before looking, so fewer is always -2 */
static const char *parse_version(const char *p, const char *end, int *minor_version, int *ret)
{
    if (end - p < 9) {
        *ret = -2;
        return NULL;
    }
    if (!starts_http_1(p))
        FAIL();
    p += 7;
    if (*p < '0' || *p > '9')
        FAIL();
    *minor_version = *p++ - '0';
    return p;
}

/*
 * Header lines until the blank line. A line that starts with SP or HT after at least one header is
 * obs-fold: it gets a slot of its own with a NULL name. With `counted`, lines past max_headers
 * are checked but not stored and the result is -3 (pg_parse_request_counted).
 */
static const char *parse_headers(const char *p, const char *end, struct phr_header *headers, size_t *num_headers,
                                 size_t max_headers, int counted, int *ret)
{
    struct phr_header spare;
    for (;; ++*num_headers) {
        struct phr_header *h;
        const char *value, *value_end, *hint;
        size_t value_len;
        NEED_BYTE();
        if (*p == '\r') {
            ++p;
            EXPECT_LF();
            break;
        }
        if (*p == '\n') {
            ++p;
            break;
        }
        /* where the value's line end may be, looked for from the start of the line: names hold no
         * value-stop byte (a tchar never is one, and a name that is not all tchar fails first), so
         * this scan needs no result of the name loop and runs alongside it (bench/parser.md) */
        hint = simd_skip_value(p, end);
        if (*num_headers >= max_headers) {
            if (!counted)
                FAIL();
            h = &spare;
        } else {
            h = headers + *num_headers;
        }
        if (*num_headers != 0 && (*p == ' ' || *p == '\t')) {
            h->name = NULL;
            h->name_len = 0;
        } else {
            /* no whitespace is allowed before the colon (a name like "foo " was a header-injection
             * vector, Mozilla advisory 2006-33), so the name is simply tchar up to ':' */
            if ((p = parse_token(p, end, &h->name, &h->name_len, ':', ret)) == NULL)
                return NULL;
            if (h->name_len == 0)
                FAIL();
            for (++p;; ++p) {
                NEED_BYTE();
                if (*p != ' ' && *p != '\t')
                    break;
            }
        }
        if ((p = parse_to_eol(p, hint, end, &value, &value_len, ret)) == NULL)
            return NULL;
        for (value_end = value + value_len; value_end != value; --value_end)
            if (value_end[-1] != ' ' && value_end[-1] != '\t')
                break;
        h->value = value;
        h->value_len = (size_t)(value_end - value);
    }
    if (*num_headers > max_headers) {
        *ret = -3;
        return NULL;
    }
    return p;
}

/* the slowloris pre-check: is there a blank line at or after last_len - 3? */
static const char *is_complete(const char *p, const char *end, size_t last_len, int *ret)
{
    int eols = 0;
    if (last_len >= 3) {
        /* upstream reads past the buffer when last_len > len + 3; stop at the end instead */
        size_t skip = last_len - 3, len = (size_t)(end - p);
        p += skip <= len ? skip : len;
    }
    for (;;) {
        NEED_BYTE();
        if (*p == '\r') {
            ++p;
            EXPECT_LF();
            ++eols;
        } else if (*p == '\n') {
            ++p;
            ++eols;
        } else {
            ++p;
            eols = 0;
        }
        if (eols == 2)
            return p;
    }
}

static const char *parse_request_line(const char *p, const char *end, const char **method, size_t *method_len,
                                      const char **path, size_t *path_len, int *minor_version, int *ret)
{
    const char *target;
    /* one empty line before the request line is skipped (some clients send CRLF after a body) */
    NEED_BYTE();
    if (*p == '\r') {
        ++p;
        EXPECT_LF();
    } else if (*p == '\n') {
        ++p;
    }
    if ((p = parse_token(p, end, method, method_len, ' ', ret)) == NULL)
        return NULL;
    do {
        ++p;
        NEED_BYTE();
    } while (*p == ' ');
    for (target = p, p = simd_skip_target(p, end);; ++p) {
        NEED_BYTE();
        if (*p == ' ')
            break;
        if (IS_TARGET_STOP(*p))
            FAIL();
    }
    *path = target;
    *path_len = (size_t)(p - target);
    do {
        ++p;
        NEED_BYTE();
    } while (*p == ' ');
    /* checked only now: an empty method still waits for the target before failing */
    if (*method_len == 0 || *path_len == 0)
        FAIL();
    if ((p = parse_version(p, end, minor_version, ret)) == NULL)
        return NULL;
    if (*p == '\r') {
        ++p;
        EXPECT_LF();
    } else if (*p == '\n') {
        ++p;
    } else {
        FAIL();
    }
    return p;
}

static int parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                         size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                         size_t last_len, int counted)
{
    const char *p = buf, *end = buf + len;
    size_t max_headers = *num_headers;
    int r;

    *method = NULL;
    *method_len = 0;
    *path = NULL;
    *path_len = 0;
    *minor_version = -1;
    *num_headers = 0;

    if (last_len != 0 && is_complete(p, end, last_len, &r) == NULL)
        return r;
    if ((p = parse_request_line(p, end, method, method_len, path, path_len, minor_version, &r)) == NULL)
        return r;
    if ((p = parse_headers(p, end, headers, num_headers, max_headers, counted, &r)) == NULL)
        return r;
    return (int)(p - buf);
}

int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len)
{
    return parse_request(buf, len, method, method_len, path, path_len, minor_version, headers, num_headers, last_len, 0);
}

int pg_parse_request_counted(const char *buf, size_t len, const char **method, size_t *method_len,
                             const char **path, size_t *path_len, int *minor_version, struct phr_header *headers,
                             size_t *num_headers, size_t last_len)
{
    return parse_request(buf, len, method, method_len, path, path_len, minor_version, headers, num_headers, last_len, 1);
}

static const char *parse_status_line(const char *p, const char *end, int *minor_version, int *status,
                                     const char **msg, size_t *msg_len, int *ret)
{
    int i;
    if ((p = parse_version(p, end, minor_version, ret)) == NULL)
        return NULL;
    if (*p != ' ')
        FAIL();
    do {
        ++p;
        NEED_BYTE();
    } while (*p == ' ');
    /* three digits and one more byte before looking, like the version */
    if (end - p < 4) {
        *ret = -2;
        return NULL;
    }
    for (i = 0; i < 3; ++i, ++p) {
        if (*p < '0' || *p > '9')
            FAIL();
        *status = (i == 0 ? 0 : *status) + (*p - '0') * (i == 0 ? 100 : i == 1 ? 10 : 1);
    }
    if ((p = parse_to_eol(p, simd_skip_value(p, end), end, msg, msg_len, ret)) == NULL)
        return NULL;
    if (*msg_len != 0) {
        /* the reason must be separated from the code; extra SPs are dropped (the line end stops it) */
        if (**msg != ' ')
            FAIL();
        do {
            ++*msg;
            --*msg_len;
        } while (**msg == ' ');
    }
    return p;
}

int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg,
                       size_t *msg_len, struct phr_header *headers, size_t *num_headers, size_t last_len)
{
    const char *p = buf, *end = buf + len;
    size_t max_headers = *num_headers;
    int r;

    *minor_version = -1;
    *status = 0;
    *msg = NULL;
    *msg_len = 0;
    *num_headers = 0;

    if (last_len != 0 && is_complete(p, end, last_len, &r) == NULL)
        return r;
    if ((p = parse_status_line(p, end, minor_version, status, msg, msg_len, &r)) == NULL)
        return r;
    if ((p = parse_headers(p, end, headers, num_headers, max_headers, 0, &r)) == NULL)
        return r;
    return (int)(p - buf);
}

int phr_parse_headers(const char *buf, size_t len, struct phr_header *headers, size_t *num_headers, size_t last_len)
{
    const char *p = buf, *end = buf + len;
    size_t max_headers = *num_headers;
    int r;

    *num_headers = 0;

    if (last_len != 0 && is_complete(p, end, last_len, &r) == NULL)
        return r;
    if ((p = parse_headers(p, end, headers, num_headers, max_headers, 0, &r)) == NULL)
        return r;
    return (int)(p - buf);
}

/* decoder states, kept in _state between calls */
enum {
    IN_SIZE,          /* hex digits of the chunk size */
    IN_EXT,           /* after the size, up to CR: BWS, ';' and an extension, never a bare LF */
    IN_SIZE_LF,       /* the LF of the chunk header's CRLF */
    IN_DATA,          /* bytes_left_in_chunk payload bytes */
    IN_DATA_CR,       /* exactly CRLF after the payload */
    IN_DATA_LF,
    IN_TRAILER_START, /* start of a trailer line (CRs skipped); LF here ends the body */
    IN_TRAILER_REST   /* rest of a trailer line, unchecked, up to LF */
};

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz)
{
    size_t src = 0, dst = 0, n = *bufsz;
    ssize_t ret = -2;

    decoder->_total_read += n;

    for (;;) {
        switch (decoder->_state) {
        case IN_SIZE:
            for (;; ++src) {
                int digit;
                if (src == n)
                    goto done;
                if ((digit = hex_value(buf[src])) < 0) {
                    char c = buf[src];
                    /* at least one digit, and only BWS, ';' or the line end after them */
                    if (decoder->_hex_count == 0 || !(c == ' ' || c == '\t' || c == ';' || c == '\r' || c == '\n'))
                        goto fail;
                    break;
                }
                /* more digits than size_t holds: 8 on wasm32, 16 on 64-bit targets */
                if ((size_t)decoder->_hex_count == sizeof(size_t) * 2)
                    goto fail;
                decoder->bytes_left_in_chunk = decoder->bytes_left_in_chunk * 16 + (size_t)digit;
                ++decoder->_hex_count;
            }
            decoder->_hex_count = 0;
            decoder->_state = IN_EXT;
            /* fall through */
        case IN_EXT:
            for (;; ++src) {
                if (src == n)
                    goto done;
                if (buf[src] == '\r')
                    break;
                if (buf[src] == '\n')
                    goto fail;
            }
            ++src;
            decoder->_state = IN_SIZE_LF;
            /* fall through */
        case IN_SIZE_LF:
            if (src == n)
                goto done;
            if (buf[src] != '\n')
                goto fail;
            ++src;
            if (decoder->bytes_left_in_chunk == 0) {
                if (!decoder->consume_trailer)
                    goto complete;
                decoder->_state = IN_TRAILER_START;
                break;
            }
            decoder->_state = IN_DATA;
            /* fall through */
        case IN_DATA: {
            size_t take = n - src < decoder->bytes_left_in_chunk ? n - src : decoder->bytes_left_in_chunk;
            if (dst != src)
                memmove(buf + dst, buf + src, take);
            src += take;
            dst += take;
            decoder->bytes_left_in_chunk -= take;
            if (decoder->bytes_left_in_chunk != 0)
                goto done;
            decoder->_state = IN_DATA_CR;
        }
            /* fall through */
        case IN_DATA_CR:
            if (src == n)
                goto done;
            if (buf[src] != '\r')
                goto fail;
            ++src;
            decoder->_state = IN_DATA_LF;
            /* fall through */
        case IN_DATA_LF:
            if (src == n)
                goto done;
            if (buf[src] != '\n')
                goto fail;
            ++src;
            decoder->_state = IN_SIZE;
            break;
        case IN_TRAILER_START:
            for (;; ++src) {
                if (src == n)
                    goto done;
                if (buf[src] != '\r')
                    break;
            }
            if (buf[src++] == '\n')
                goto complete;
            decoder->_state = IN_TRAILER_REST;
            /* fall through */
        case IN_TRAILER_REST:
            for (;; ++src) {
                if (src == n)
                    goto done;
                if (buf[src] == '\n')
                    break;
            }
            ++src;
            decoder->_state = IN_TRAILER_START;
            break;
        default:
            /* a corrupt decoder (upstream asserts) */
            goto fail;
        }
    }

complete:
    ret = (ssize_t)(n - src);
    goto done;
fail:
    ret = -1;
done:
    /* whatever was not decoded moves down to sit right after the payload */
    if (dst != src)
        memmove(buf + dst, buf + src, n - src);
    *bufsz = dst;
    if (ret == -2) {
        /* a stream that is mostly framing (>= 100 KiB of it, payload < 25% of all bytes read)
         * is an attack on the caller's CPU, not a body */
        decoder->_total_overhead += n - dst;
        if (decoder->_total_overhead >= 100 * 1024 &&
            decoder->_total_read - decoder->_total_overhead < decoder->_total_read / 4)
            ret = -1;
    }
    return ret;
}

int phr_decode_chunked_is_in_data(struct phr_chunked_decoder *decoder)
{
    return decoder->_state == IN_DATA;
}
