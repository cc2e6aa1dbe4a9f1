/*
 * Native tests of wasm/src (phr.c, batch.c), built by run-native.sh with ASan/UBSan, once with
 * the scalar byte loops and once with the SIMD128 scans run through simd128-emu.h.
 *
 * Runs every row of the case table (cases.json via build/cases.h) with its input placed right
 * before a PROT_NONE page, so any read past the input crashes, then the cases too large for the
 * table: the chunked overhead limit (up to 1,000,000 one-byte chunks) and the batch entry points'
 * header cap and result layout, and the server's strict chunked decoder (pg_decode_chunked: the
 * RFC 9112 §7.1 grammar, its limits, whole and one byte per call). Prints one line per failure and a final
 * "native[<build>]: N passed, M failed"; exits 1 if anything failed.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "phr.h"
#include "batch.h"
#include "cases.h"

#ifdef PG_SIMD_EMULATE
#define BUILD_NAME "simd-emulated"
#else
#define BUILD_NAME "scalar"
#endif

static int passed, failed;
static int case_failed;
static const char *current;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            if (!case_failed)                                                                                          \
                printf("FAIL %s: ", current);                                                                          \
            else                                                                                                       \
                printf("     %s: ", current);                                                                          \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
            case_failed = 1;                                                                                           \
        }                                                                                                              \
    } while (0)

static void begin(const char *name)
{
    current = name;
    case_failed = 0;
}
static void end(void)
{
    if (case_failed)
        ++failed;
    else
        ++passed;
}

/* a writable copy of src that ends exactly where an unreadable page starts */
static char *guard_base;
static size_t guard_size;
static char *guarded(const void *src, size_t len)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), body = (len + page - 1) / page * page;
    if (guard_base != NULL)
        munmap(guard_base, guard_size);
    guard_size = body + page;
    guard_base = mmap(NULL, guard_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (guard_base == MAP_FAILED) {
        perror("mmap");
        exit(2);
    }
    if (mprotect(guard_base + body, page, PROT_NONE) != 0) {
        perror("mprotect");
        exit(2);
    }
    char *p = guard_base + body - len;
    if (len != 0)
        memcpy(p, src, len);
    return p;
}

static int same(const char *a, size_t alen, const char *b, size_t blen)
{
    return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

static int expected_ret(const struct test_case *c)
{
    return c->has_ret_lp64 && sizeof(size_t) == 8 ? c->ret_lp64 : c->ret;
}

static void check_headers(const struct test_case *c, const struct phr_header *h, size_t n)
{
    if (c->n_headers < 0)
        return;
    CHECK(n == (size_t)c->n_headers, "num_headers %zu, want %d", n, c->n_headers);
    for (size_t i = 0; i < n && i < (size_t)c->n_headers; ++i) {
        const struct case_header *e = c->headers + i;
        if (e->name == NULL)
            CHECK(h[i].name == NULL, "header %zu: name should be NULL", i);
        else
            CHECK(h[i].name != NULL && same(h[i].name, h[i].name_len, e->name, (size_t)e->name_len),
                  "header %zu: name '%.*s'", i, h[i].name ? (int)h[i].name_len : 4, h[i].name ? h[i].name : "NULL");
        CHECK(same(h[i].value, h[i].value_len, e->value, (size_t)e->value_len), "header %zu: value '%.*s'", i,
              (int)h[i].value_len, h[i].value);
    }
}

static struct phr_header headers[300];

static void run_request(const struct test_case *c)
{
    const char *buf = guarded(c->input, c->input_len), *method, *path;
    size_t method_len, path_len, num_headers = c->num_headers;
    int minor_version, want = expected_ret(c);
    int r = phr_parse_request(buf, c->input_len, &method, &method_len, &path, &path_len, &minor_version, headers,
                              &num_headers, c->last_len);
    CHECK(r == want, "ret %d, want %d", r, want);
    if (c->method_kind == 1)
        CHECK(method == NULL, "method should be NULL");
    if (c->method_kind == 2)
        CHECK(method != NULL && same(method, method_len, c->method, c->method_len), "method '%.*s'",
              method ? (int)method_len : 4, method ? method : "NULL");
    if (c->has_path)
        CHECK(path != NULL && same(path, path_len, c->path, c->path_len), "path '%.*s'", path ? (int)path_len : 4,
              path ? path : "NULL");
    if (c->has_minor)
        CHECK(minor_version == c->minor_version, "minor_version %d, want %d", minor_version, c->minor_version);
    if (r > 0)
        check_headers(c, headers, num_headers);

    /* the batch call gives the same answer where its 256-slot cap does not matter */
    size_t lines = 0;
    for (size_t i = 0; i < c->input_len; ++i)
        lines += c->input[i] == '\n';
    if (!c->has_num_headers && lines <= 100) {
        int rb = pg_parse_request(buf, c->input_len, c->last_len);
        CHECK(rb == want, "pg_parse_request ret %d, want %d", rb, want);
        if (rb > 0 && r > 0) {
            const uint32_t *w = pg_result();
            CHECK(w[0] == (uint32_t)(method - buf) && w[1] == method_len, "batch method");
            CHECK(w[2] == (uint32_t)(path - buf) && w[3] == path_len, "batch path");
            CHECK(w[4] == (uint32_t)minor_version && w[5] == num_headers, "batch version/count");
            for (size_t i = 0; i < num_headers && w[5] == num_headers; ++i) {
                const uint32_t *h = w + 6 + 4 * i;
                uint32_t name_off = headers[i].name ? (uint32_t)(headers[i].name - buf) : PG_NO_NAME;
                CHECK(h[0] == name_off && h[1] == headers[i].name_len, "batch header %zu name", i);
                CHECK(h[2] == (uint32_t)(headers[i].value - buf) && h[3] == headers[i].value_len, "batch header %zu value",
                      i);
            }
        }
    }
}

static void run_response(const struct test_case *c)
{
    const char *buf = guarded(c->input, c->input_len), *msg;
    size_t msg_len, num_headers = c->num_headers;
    int minor_version, status, want = expected_ret(c);
    int r = phr_parse_response(buf, c->input_len, &minor_version, &status, &msg, &msg_len, headers, &num_headers,
                               c->last_len);
    CHECK(r == want, "ret %d, want %d", r, want);
    if (r <= 0)
        return;
    if (c->has_minor)
        CHECK(minor_version == c->minor_version, "minor_version %d", minor_version);
    if (c->has_status)
        CHECK(status == c->status, "status %d", status);
    if (c->has_msg)
        CHECK(msg != NULL && same(msg, msg_len, c->msg, c->msg_len), "msg '%.*s'", msg ? (int)msg_len : 4,
              msg ? msg : "NULL");
    check_headers(c, headers, num_headers);
}

static void run_headers(const struct test_case *c)
{
    const char *buf = guarded(c->input, c->input_len);
    size_t num_headers = c->num_headers;
    int want = expected_ret(c);
    int r = phr_parse_headers(buf, c->input_len, headers, &num_headers, c->last_len);
    CHECK(r == want, "ret %d, want %d", r, want);
    if (r > 0)
        check_headers(c, headers, num_headers);
}

static void run_chunked(const struct test_case *c)
{
    int want = expected_ret(c);
    struct phr_chunked_decoder dec;

    /* all at once */
    memset(&dec, 0, sizeof(dec));
    dec.consume_trailer = (char)c->consume_trailer;
    char *buf = guarded(c->input, c->input_len);
    size_t bufsz = c->input_len;
    ssize_t r = phr_decode_chunked(&dec, buf, &bufsz);
    CHECK(r == want, "whole: ret %zd, want %d", r, want);
    if (c->has_decoded && !(c->has_ret_lp64 && sizeof(size_t) == 8))
        CHECK(same(buf, bufsz, c->decoded, c->decoded_len), "whole: decoded '%.*s'", (int)bufsz, buf);
    if (r >= 0 && r == want)
        CHECK(same(buf + bufsz, (size_t)r, c->input + c->input_len - (size_t)r, (size_t)r), "whole: leftover");

    if (!c->bytewise)
        return;
    /* one byte per call, the rest at once after the last byte of the body (as test.c does) */
    memset(&dec, 0, sizeof(dec));
    dec.consume_trailer = (char)c->consume_trailer;
    buf = guarded(c->input, c->input_len);
    size_t ready = 0, bytewise_until = want >= 0 ? c->input_len - (size_t)want - 1 : c->input_len;
    r = -2;
    for (size_t i = 0; i < bytewise_until; ++i) {
        buf[ready] = c->input[i];
        bufsz = 1;
        r = phr_decode_chunked(&dec, buf + ready, &bufsz);
        ready += bufsz;
        if (r != -2)
            break;
    }
    if (want >= 0 && r == -2) {
        size_t rest = c->input_len - bytewise_until;
        memcpy(buf + ready, c->input + bytewise_until, rest);
        bufsz = rest;
        r = phr_decode_chunked(&dec, buf + ready, &bufsz);
        ready += bufsz;
    }
    CHECK(r == want, "bytewise: ret %zd, want %d", r, want);
    if (c->has_decoded && !(c->has_ret_lp64 && sizeof(size_t) == 8))
        CHECK(same(buf, ready, c->decoded, c->decoded_len), "bytewise: decoded '%.*s'", (int)ready, buf);
    if (r >= 0 && r == want)
        CHECK(same(buf + ready, (size_t)r, c->input + c->input_len - (size_t)r, (size_t)r), "bytewise: leftover");
}

/* picohttpparser test.c's chunked-overhead: chunk_count chunks of chunk_len 'A's, each header,
 * payload and CRLF in its own call, then "0\r\n\r\n" without consuming the trailer */
static ssize_t overhead_run(size_t chunk_len, size_t chunk_count, const char *ext)
{
    struct phr_chunked_decoder dec;
    char buf[256];
    size_t bufsz;
    ssize_t r;
    memset(&dec, 0, sizeof(dec));
    for (size_t i = 0; i < chunk_count; ++i) {
        bufsz = (size_t)snprintf(buf, sizeof(buf), "%zx%s\r\n", chunk_len, ext);
        if ((r = phr_decode_chunked(&dec, buf, &bufsz)) != -2)
            return r;
        memset(buf, 'A', chunk_len);
        bufsz = chunk_len;
        if ((r = phr_decode_chunked(&dec, buf, &bufsz)) != -2)
            return r;
        if (bufsz != chunk_len)
            return -100;
        memcpy(buf, "\r\n", 2);
        bufsz = 2;
        if ((r = phr_decode_chunked(&dec, buf, &bufsz)) != -2)
            return r;
    }
    memcpy(buf, "0\r\n\r\n", 5);
    bufsz = 5;
    return phr_decode_chunked(&dec, buf, &bufsz);
}


/* ---- the server's strict chunked decoder (batch.h) ---- */

/* Runs pg_decode_chunked over `in` whole, then one byte per call, and checks both give `want`
 * (for a body that completes, the bytes left after it) and, when `payload` is not NULL, that
 * payload. */
static void strict_case(const char *what, const char *in, size_t len, int consume, double max, int want,
                        const char *payload)
{
    char name[160];
    snprintf(name, sizeof(name), "pg_decode_chunked: %s", what);
    begin(name);
    struct pg_chunked *d = pg_chunked_new(consume, max);
    char *buf = guarded(in, len);
    int r = pg_decode_chunked(d, buf, len);
    size_t got = pg_result()[0];
    CHECK(r == want, "whole: ret %d, want %d", r, want);
    if (payload != NULL && r >= 0)
        CHECK(same(buf, got, payload, strlen(payload)), "whole: payload '%.*s'", (int)got, buf);
    if (r >= 0)
        CHECK(same(buf + got, (size_t)r, in + len - (size_t)r, (size_t)r), "whole: leftover");
    pg_chunked_free(d);

    d = pg_chunked_new(consume, max);
    buf = guarded(in, len);
    size_t ready = 0, i;
    r = -2;
    for (i = 0; i < len && r == -2; ++i) {
        buf[ready] = in[i];
        r = pg_decode_chunked(d, buf + ready, 1);
        ready += pg_result()[0];
    }
    if (r == 0)
        r = (int)(len - i); /* the body ended at byte i - 1 */
    CHECK(r == want, "bytewise: ret %d, want %d", r, want);
    if (payload != NULL && r >= 0)
        CHECK(same(buf, ready, payload, strlen(payload)), "bytewise: payload '%.*s'", (int)ready, buf);
    pg_chunked_free(d);
    end();
}

#define STRICT(what, lit, consume, max, want, payload)                                                              \
    strict_case(what, lit, sizeof(lit) - 1, consume, max, want, payload)

/* `count` copies of `unit` then `tail`, in a malloc'ed buffer (*len set) */
static char *repeat(const char *unit, size_t count, const char *tail, size_t *len)
{
    size_t u = strlen(unit), t = strlen(tail);
    char *out = malloc(u * count + t + 1);
    for (size_t i = 0; i < count; ++i)
        memcpy(out + i * u, unit, u);
    memcpy(out + u * count, tail, t + 1);
    *len = u * count + t;
    return out;
}

static void strict_chunked_cases(void)
{
    /* RFC 9112 §7.1 accepts */
    STRICT("a plain body", "3\r\nabc\r\n0\r\n\r\n", 1, 0, 0, "abc");
    STRICT("the bytes after the body are left", "3\r\nabc\r\n0\r\n\r\nNEXT", 1, 0, 4, "abc");
    STRICT("leading zeros", "0003\r\nabc\r\n000\r\n\r\n", 1, 0, 0, "abc");
    STRICT("upper- and lower-case hex", "A\r\n0123456789\r\nb\r\n0123456789a\r\n0\r\n\r\n", 1, 0, 0,
           "01234567890123456789a");
    STRICT("an extension name", "3;a\r\nabc\r\n0;z\r\n\r\n", 1, 0, 0, "abc");
    STRICT("an extension with a token value", "3;a=b\r\nabc\r\n0\r\n\r\n", 1, 0, 0, "abc");
    STRICT("extensions with BWS everywhere it may be", "3 \t; a \t= b ;c; d=e\r\nabc\r\n0\r\n\r\n", 1, 0, 0, "abc");
    STRICT("a quoted value with SP, a quoted-pair and obs-text", "3;a=\"x y\\\"\\\\\xe9\"\r\nabc\r\n0\r\n\r\n", 1, 0,
           0, "abc");
    STRICT("an empty quoted value, then another extension", "3;a=\"\";b\r\nabc\r\n0\r\n\r\n", 1, 0, 0, "abc");
    STRICT("trailer fields", "3\r\nabc\r\n0\r\nT: 1\r\nU:\r\nV:\tx y \xff \r\n\r\n", 1, 0, 0, "abc");
    STRICT("consume_trailer 0 leaves the trailer section", "3\r\nabc\r\n0\r\nT: 1\r\n\r\n", 0, 0, 8, "abc");
    STRICT("consume_trailer 0 stops after the last-chunk line", "0\r\n", 0, 0, 0, "");
    STRICT("an incomplete body", "3\r\nab", 1, 0, -2, NULL);

    /* chunk-size */
    STRICT("no size", "\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("0x3", "0x3\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("+3", "+3\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("-3", "-3\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a leading space", " 3\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a size that overflows size_t", "10000000000000000\r\n", 1, 0, -1, NULL);
    STRICT("junk after the size", "3x\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("BWS after the size without a ';'", "3 \r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare LF after the size", "3\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare CR after the size", "3\rabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("CR CR LF after the size", "3\r\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a NUL after the size", "3\0\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);

    /* chunk data */
    STRICT("no CRLF after the data", "3\r\nabcXX0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare LF after the data", "3\r\nabc\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare CR after the data", "3\r\nabc\r0\r\n\r\n", 1, 0, -1, NULL);

    /* chunk-ext */
    STRICT("an empty extension", "3;\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("two ';'", "3;;a\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("no name", "3;=b\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("no value after '='", "3;a=\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("BWS after the name, then CR", "3;a \r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("BWS after the value, then CR", "3;a=b \r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("two names", "3;a b\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("two values", "3;a=b c\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a non-tchar in the name", "3;a@b\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a non-tchar in a token value", "3;a=b/c\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a token then a quoted-string", "3;a=b\"c\"\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a quoted-string then a token", "3;a=\"b\"c\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("an unterminated quoted-string", "3;a=\"b\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a CRLF inside a quoted-string", "3;a=\"\r\n\"\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a CTL inside a quoted-string", "3;a=\"\x01\"\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("DEL in a quoted-pair", "3;a=\"\\\x7f\"\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare LF ending an extension", "3;a=b\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);
    STRICT("obs-text in a name", "3;\xe9\r\nabc\r\n0\r\n\r\n", 1, 0, -1, NULL);

    /* trailer-section */
    STRICT("a request line among the trailers", "0\r\nGET / HTTP/1.1\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a trailer starting with SP", "0\r\n X: y\r\n\r\n", 1, 0, -1, NULL);
    STRICT("an obs-fold trailer line", "0\r\nX: y\r\n z\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a space before the colon", "0\r\nX : y\r\n\r\n", 1, 0, -1, NULL);
    STRICT("no colon", "0\r\nX\r\n\r\n", 1, 0, -1, NULL);
    STRICT("an empty name", "0\r\n: y\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare CR in a value", "0\r\nX: a\rb\r\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare LF ending a trailer line", "0\r\nX: y\n\r\n", 1, 0, -1, NULL);
    STRICT("a bare LF ending the trailer section", "0\r\nX: y\r\n\n", 1, 0, -1, NULL);
    STRICT("a bare LF as the whole trailer section", "0\r\n\n", 1, 0, -1, NULL);
    STRICT("NUL in a value", "0\r\nX: a\0b\r\n\r\n", 1, 0, -1, NULL);
    STRICT("DEL in a value", "0\r\nX: a\x7f\r\n\r\n", 1, 0, -1, NULL);

    /* limits */
    STRICT("max_body: exactly the limit", "5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n", 1, 10, 0, "abcdefghij");
    STRICT("max_body: a size past it, before its data", "5\r\nabcde\r\n6\r\n", 1, 10, PG_CHUNKED_TOO_LARGE, NULL);
    STRICT("max_body: a size past it, at the end of the digits", "b;", 1, 10, PG_CHUNKED_TOO_LARGE, NULL);
    STRICT("max_body: NaN is no limit", "5\r\nabcde\r\n0\r\n\r\n", 1, 0.0 / 0.0, 0, "abcde");
    {
        size_t len;
        char *in;
        /* one chunk line with exactly PG_MAX_CHUNK_EXT_BYTES of extension, then one more byte */
        in = repeat("a", PG_MAX_CHUNK_EXT_BYTES - 1, "\r\nx\r\n0\r\n\r\n", &len);
        in[0] = ';';
        char *body = malloc(len + 2);
        body[0] = '1';
        memcpy(body + 1, in, len + 1);
        strict_case("chunk-ext: exactly the cap", body, len + 1, 1, 0, 0, "x");
        free(in);
        free(body);
        in = repeat("a", PG_MAX_CHUNK_EXT_BYTES + 1, "", &len);
        in[0] = ';';
        body = malloc(len + 2);
        body[0] = '1';
        memcpy(body + 1, in, len + 1);
        strict_case("chunk-ext: one byte over the cap, before the line ends", body, len + 1, 1, 0,
                    PG_CHUNKED_EXT_TOO_LONG, NULL);
        free(in);
        free(body);
        /* the cap is per body: 800 chunks with a 21-byte extension each */
        in = repeat("1;aaaaaaaaaaaaaaaaaaaa\r\nx\r\n", 800, "0\r\n\r\n", &len);
        strict_case("chunk-ext: the cap counts every chunk of the body", in, len, 1, 0, PG_CHUNKED_EXT_TOO_LONG, NULL);
        free(in);
        in = repeat("X: y\r\n", PG_MAX_TRAILER_BYTES / 6, "\r\n", &len);
        body = malloc(len + 4);
        memcpy(body, "0\r\n", 3);
        memcpy(body + 3, in, len + 1);
        strict_case("trailer-section: under the cap", body, len + 3, 1, 0, 0, "");
        free(in);
        free(body);
        in = repeat("X: y\r\n", PG_MAX_TRAILER_BYTES / 6 + 1, "\r\n", &len);
        body = malloc(len + 4);
        memcpy(body, "0\r\n", 3);
        memcpy(body + 3, in, len + 1);
        strict_case("trailer-section: over the cap", body, len + 3, 1, 0, PG_CHUNKED_TRAILER_TOO_LONG, NULL);
        free(in);
        free(body);
        /* phr_decode_chunked's defence against a stream that is mostly framing, kept */
        in = repeat("1\r\nA\r\n", 100000, "", &len);
        begin("pg_decode_chunked: mostly framing (100,000 1-byte chunks, incomplete)");
        {
            struct pg_chunked *d = pg_chunked_new(1, 0);
            char *buf = guarded(in, len);
            CHECK(pg_decode_chunked(d, buf, len) == PG_CHUNKED_MOSTLY_FRAMING, "want PG_CHUNKED_MOSTLY_FRAMING");
            pg_chunked_free(d);
            d = pg_chunked_new(1, 0);
            char ten[] = "a\r\n0123456789\r\n";
            int r = -2;
            for (int i = 0; i < 100000 && r == -2; ++i) {
                memcpy(buf, ten, sizeof(ten) - 1);
                r = pg_decode_chunked(d, buf, sizeof(ten) - 1);
            }
            CHECK(r == -2, "10-byte chunks pass, ret %d", r);
            pg_chunked_free(d);
        }
        end();
        free(in);
    }
    begin("pg_decode_chunked: result words report chunk data in progress");
    {
        struct pg_chunked *d = pg_chunked_new(1, 0);
        char b1[] = "5\r\nhe", b2[] = "llo\r\n";
        CHECK(pg_decode_chunked(d, b1, 5) == -2 && pg_result()[0] == 2, "first part");
        CHECK(pg_result()[1] == 1 && pg_result()[2] == 3, "in data, 3 bytes left");
        CHECK(pg_decode_chunked(d, b2, 5) == -2 && pg_result()[0] == 3, "second part");
        CHECK(pg_result()[1] == 0 && pg_result()[2] == 0, "not in data after the chunk's CRLF");
        pg_chunked_free(d);
    }
    end();
}

static void generated_cases(void)
{
    begin("chunked overhead: 10,000 x 100-byte chunks pass");
    CHECK(overhead_run(100, 10000, "") == 2, "want 2 (the trailer's CRLF left)");
    end();
    begin("chunked overhead: 100,000 x 10-byte chunks pass");
    CHECK(overhead_run(10, 100000, "") == 2, "want 2");
    end();
    begin("chunked overhead: 1,000,000 x 1-byte chunks are refused");
    CHECK(overhead_run(1, 1000000, "") == -1, "want -1");
    end();
    begin("chunked overhead: 10-byte chunks with a short extension pass");
    CHECK(overhead_run(10, 100000, "; tiny=1") == 2, "want 2");
    end();
    begin("chunked overhead: 10-byte chunks with a 45-byte extension are refused");
    CHECK(overhead_run(10, 100000, "; large=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa") == -1, "want -1");
    end();
    begin("chunked overhead: one 1 MiB body of 1-byte chunks at once");
    {
        /* the limit is checked only on -2, so a body that completes in one call passes */
        size_t n = 200000, len = n * 6 + 5;
        char *in = malloc(len), *q = in;
        for (size_t i = 0; i < n; ++i, q += 6)
            memcpy(q, "1\r\nA\r\n", 6);
        memcpy(q, "0\r\n\r\n", 5);
        char *buf = guarded(in, len);
        struct phr_chunked_decoder dec;
        memset(&dec, 0, sizeof(dec));
        dec.consume_trailer = 1;
        size_t bufsz = len;
        CHECK(phr_decode_chunked(&dec, buf, &bufsz) == 0 && bufsz == n, "complete body in one call should pass");
        /* the same body minus its last byte is incomplete, mostly framing, and over 100 KiB */
        memset(&dec, 0, sizeof(dec));
        dec.consume_trailer = 1;
        buf = guarded(in, len - 1);
        bufsz = len - 1;
        CHECK(phr_decode_chunked(&dec, buf, &bufsz) == -1, "incomplete framing-heavy body should be -1");
        free(in);
    }
    end();

    begin("phr_decode_chunked_is_in_data");
    {
        struct phr_chunked_decoder dec;
        memset(&dec, 0, sizeof(dec));
        char b1[] = "5\r\nhe", b2[] = "llo\r\n";
        size_t sz = 5;
        CHECK(!phr_decode_chunked_is_in_data(&dec), "not in data at start");
        CHECK(phr_decode_chunked(&dec, b1, &sz) == -2 && sz == 2, "first part");
        CHECK(phr_decode_chunked_is_in_data(&dec), "in data after a partial chunk");
        sz = 5;
        CHECK(phr_decode_chunked(&dec, b2, &sz) == -2 && sz == 3, "second part");
        CHECK(!phr_decode_chunked_is_in_data(&dec), "not in data after the chunk's CRLF");
    }
    end();

    /* pg_parse_request's header cap: PG_MAX_HEADERS slots, -3 only for a complete, valid head */
    static char big[64 * 1024];
    size_t len = (size_t)sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < PG_MAX_HEADERS; ++i)
        len += (size_t)sprintf(big + len, "h%d: v%d\r\n", i, i);
    size_t before_blank = len;
    len += (size_t)sprintf(big + len, "\r\n");
    begin("pg_parse_request: 256 headers fit");
    {
        const char *buf = guarded(big, len);
        CHECK(pg_parse_request(buf, len, 0) == (int)len, "ret");
        const uint32_t *w = pg_result();
        CHECK(w[5] == PG_MAX_HEADERS, "count %u", w[5]);
        const uint32_t *last = w + 6 + 4 * (PG_MAX_HEADERS - 1);
        CHECK(same(buf + last[0], last[1], "h255", 4) && same(buf + last[2], last[3], "v255", 4), "last header");
    }
    end();
    begin("pg_parse_request: 257 headers are -3 (phr_parse_request: -1)");
    {
        len = before_blank + (size_t)sprintf(big + before_blank, "x: y\r\n\r\n");
        const char *buf = guarded(big, len), *m, *p;
        size_t ml, pl, n = PG_MAX_HEADERS;
        int mv;
        CHECK(pg_parse_request(buf, len, 0) == -3, "want -3");
        CHECK(phr_parse_request(buf, len, &m, &ml, &p, &pl, &mv, headers, &n, 0) == -1, "phr: want -1");
        CHECK(pg_parse_request(buf, len - 1, 0) == -2, "incomplete: want -2");
        CHECK(pg_parse_request(buf, len, len - 1) == -3, "with last_len: want -3");
    }
    end();
    begin("pg_parse_request: 257 headers and a syntax error after the cap is -1");
    {
        len = before_blank + (size_t)sprintf(big + before_blank, "x: y\r\nbad : z\r\n\r\n");
        CHECK(pg_parse_request(guarded(big, len), len, 0) == -1, "want -1");
        len = before_blank + (size_t)sprintf(big + before_blank, " fold\r\nx: y\r\n\r\n");
        CHECK(pg_parse_request(guarded(big, len), len, 0) == -3, "obs-fold past the cap counts: want -3");
    }
    end();
    begin("pg_parse_request: result offsets and PG_NO_NAME");
    {
        static const char req[] = "\r\nPUT /x HTTP/1.0\r\nA: 1\r\n  2\r\n\r\n";
        size_t n = sizeof(req) - 1;
        const char *buf = guarded(req, n);
        CHECK(pg_parse_request(buf, n, 0) == (int)n, "ret");
        const uint32_t *w = pg_result();
        CHECK(w[0] == 2 && w[1] == 3 && w[2] == 6 && w[3] == 2 && w[4] == 0 && w[5] == 2, "request line words");
        CHECK(w[6] == 19 && w[7] == 1 && w[8] == 22 && w[9] == 1, "header 0 words");
        CHECK(w[10] == PG_NO_NAME && w[11] == 0 && w[12] == 25 && w[13] == 3, "obs-fold words");
    }
    end();
    strict_chunked_cases();
    begin("pg_simd reports the build");
    CHECK(pg_simd() == pg_phr_simd(), "pg_simd");
#ifdef PG_SIMD_EMULATE
    CHECK(pg_simd() == 1, "emulated SIMD build says 1");
#else
    CHECK(pg_simd() == 0, "scalar build says 0");
#endif
    end();
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    for (size_t i = 0; i < NUM_CASES; ++i) {
        const struct test_case *c = CASES + i;
        char name[512];
        if (only != NULL && strstr(c->name, only) == NULL)
            continue;
        snprintf(name, sizeof(name), "%s: %s", c->fn, c->name);
        begin(name);
        if (strcmp(c->fn, "request") == 0)
            run_request(c);
        else if (strcmp(c->fn, "response") == 0)
            run_response(c);
        else if (strcmp(c->fn, "headers") == 0)
            run_headers(c);
        else if (strcmp(c->fn, "chunked") == 0)
            run_chunked(c);
        else
            CHECK(0, "unknown fn");
        end();
    }
    if (only == NULL)
        generated_cases();
    printf("native[%s]: %d passed, %d failed\n", BUILD_NAME, passed, failed);
    return failed != 0;
}
