/*
 * pronghorn's entry points (contract and result-area layout in batch.h).
 *
 * One wasm call per parse attempt, results as offsets relative to the caller's buffer so the
 * JS side decodes straight from its own view of linear memory. The header slots and result
 * area are static: one parse at a time per instance (wasm is single-threaded), and the next
 * call overwrites them. Nothing here allocates on the parse path.
 */
#include <stdlib.h>
#include <string.h>
#include "batch.h"

static uint32_t result[PG_RESULT_WORDS];
static struct phr_header headers[PG_MAX_HEADERS];

uint32_t *pg_result(void)
{
    return result;
}

int pg_parse_request(const char *buf, size_t len, size_t last_len)
{
    const char *method, *path;
    size_t method_len, path_len, num_headers = PG_MAX_HEADERS, i;
    int minor_version, r;
    uint32_t *w;

    r = pg_parse_request_counted(buf, len, &method, &method_len, &path, &path_len, &minor_version, headers,
                                 &num_headers, last_len);
    if (r < 0)
        return r;
    result[0] = (uint32_t)(method - buf);
    result[1] = (uint32_t)method_len;
    result[2] = (uint32_t)(path - buf);
    result[3] = (uint32_t)path_len;
    result[4] = (uint32_t)minor_version;
    result[5] = (uint32_t)num_headers;
    for (i = 0, w = result + 6; i < num_headers; ++i, w += 4) {
        const struct phr_header *h = headers + i;
        w[0] = h->name != NULL ? (uint32_t)(h->name - buf) : PG_NO_NAME;
        w[1] = (uint32_t)h->name_len;
        w[2] = (uint32_t)(h->value - buf);
        w[3] = (uint32_t)h->value_len;
    }
    return r;
}

/* ---- the strict chunked decoder (grammar and limits in batch.h) ---- */

/* states, kept in pg_chunked.state between calls */
enum {
    C_SIZE,          /* chunk-size: HEXDIG */
    C_EXT,           /* after chunk-size, a closing DQUOTE or an extension's token: ";" BWS CR */
    C_EXT_WS,        /* BWS that must lead to ";" */
    C_EXT_NAME_PRE,  /* after ";": BWS, then the name's first tchar */
    C_EXT_NAME,      /* chunk-ext-name */
    C_EXT_NAME_WS,   /* BWS after the name: "=" or ";" next */
    C_EXT_VAL_PRE,   /* after "=": BWS, then a token or a quoted-string */
    C_EXT_TOKEN,     /* chunk-ext-val as a token */
    C_EXT_QUOTED,    /* inside a quoted-string */
    C_EXT_QPAIR,     /* after a backslash in a quoted-string */
    C_SIZE_LF,       /* the LF of the chunk line's CRLF */
    C_DATA,          /* bytes_left_in_chunk payload bytes */
    C_DATA_CR,       /* the CRLF after the payload */
    C_DATA_LF,
    C_TR_START,      /* start of a trailer line, or the CR of the final CRLF */
    C_TR_END_LF,     /* the final LF: the body ends */
    C_TR_NAME,       /* field-name, then ":" */
    C_TR_VALUE,      /* OWS field-value OWS, up to CR */
    C_TR_LF          /* the LF of a trailer line */
};

/* RFC 9110 §5.6.2 tchar */
static int is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return 1;
    switch (c) {
    case '!': case '#': case '$': case '%': case '&': case '\'': case '*': case '+':
    case '-': case '.': case '^': case '_': case '`': case '|': case '~':
        return 1;
    }
    return 0;
}

/* RFC 9110 §5.5 field-vchar, SP and HTAB: what a field value may hold */
static int is_field_byte(unsigned char c)
{
    return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* RFC 9110 §5.6.4 qdtext */
static int is_qdtext(unsigned char c)
{
    return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c != 0x7f);
}

static int hex_digit(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

struct pg_chunked *pg_chunked_new(int consume_trailer, double max_body)
{
    struct pg_chunked *d = calloc(1, sizeof(*d));
    if (d == NULL)
        return NULL;
    d->consume_trailer = consume_trailer != 0;
    /* NaN fails both comparisons; 2^64 and above would not convert */
    d->max_body = max_body >= 1 && max_body < 18446744073709551616.0 ? (uint64_t)max_body : 0;
    return d;
}

void pg_chunked_free(struct pg_chunked *decoder)
{
    free(decoder);
}

int pg_decode_chunked(struct pg_chunked *d, char *buf, size_t len)
{
    size_t src = 0, dst = 0;
    int ret = -2;

    d->total_read += len;
    while (src < len) {
        unsigned char c = (unsigned char)buf[src];
        switch (d->state) {
        case C_SIZE: {
            int v = hex_digit(c);
            if (v >= 0) {
                if (d->bytes_left_in_chunk > (SIZE_MAX >> 4))
                    goto malformed; /* does not fit size_t */
                d->bytes_left_in_chunk = d->bytes_left_in_chunk * 16 + (size_t)v;
                d->has_digit = 1;
                ++src;
                continue;
            }
            if (!d->has_digit)
                goto malformed;
            d->has_digit = 0;
            if (d->max_body != 0 && d->bytes_left_in_chunk > d->max_body - d->declared) {
                ret = PG_CHUNKED_TOO_LARGE;
                goto done;
            }
            d->declared += d->bytes_left_in_chunk;
            d->state = C_EXT;
            continue; /* c again, as the first byte after the size */
        }
        case C_DATA: {
            size_t take = len - src < d->bytes_left_in_chunk ? len - src : d->bytes_left_in_chunk;
            if (dst != src)
                memmove(buf + dst, buf + src, take);
            src += take;
            dst += take;
            d->bytes_left_in_chunk -= take;
            if (d->bytes_left_in_chunk == 0)
                d->state = C_DATA_CR;
            continue;
        }
        case C_DATA_CR:
            if (c != '\r')
                goto malformed;
            d->state = C_DATA_LF;
            break;
        case C_DATA_LF:
            if (c != '\n')
                goto malformed;
            d->state = C_SIZE;
            break;
        case C_SIZE_LF:
            if (c != '\n')
                goto malformed;
            if (d->bytes_left_in_chunk != 0) {
                d->state = C_DATA;
            } else if (d->consume_trailer) {
                d->state = C_TR_START;
            } else {
                ++src;
                goto complete;
            }
            break;
        case C_TR_START:
        case C_TR_END_LF:
        case C_TR_NAME:
        case C_TR_VALUE:
        case C_TR_LF:
            if (++d->trailer_bytes > PG_MAX_TRAILER_BYTES) {
                ret = PG_CHUNKED_TRAILER_TOO_LONG;
                goto done;
            }
            switch (d->state) {
            case C_TR_START:
                if (c == '\r')
                    d->state = C_TR_END_LF;
                else if (is_tchar(c))
                    d->state = C_TR_NAME;
                else
                    goto malformed; /* obs-fold, an empty name, a bare LF */
                break;
            case C_TR_END_LF:
                if (c != '\n')
                    goto malformed;
                ++src;
                goto complete;
            case C_TR_NAME:
                if (c == ':')
                    d->state = C_TR_VALUE;
                else if (!is_tchar(c))
                    goto malformed; /* a space before the colon, a request line */
                break;
            case C_TR_VALUE:
                if (c == '\r')
                    d->state = C_TR_LF;
                else if (!is_field_byte(c))
                    goto malformed;
                break;
            default: /* C_TR_LF */
                if (c != '\n')
                    goto malformed;
                d->state = C_TR_START;
                break;
            }
            break;
        default:
            /* the chunk-ext states: everything from the end of the size up to CR */
            if (c == '\r' && (d->state == C_EXT || d->state == C_EXT_NAME || d->state == C_EXT_TOKEN)) {
                d->state = C_SIZE_LF;
                break;
            }
            if (++d->ext_bytes > PG_MAX_CHUNK_EXT_BYTES) {
                ret = PG_CHUNKED_EXT_TOO_LONG;
                goto done;
            }
            switch (d->state) {
            case C_EXT_TOKEN:
                if (is_tchar(c))
                    break;
                /* fall through: the value ended */
            case C_EXT:
                if (c == ';')
                    d->state = C_EXT_NAME_PRE;
                else if (c == ' ' || c == '\t')
                    d->state = C_EXT_WS;
                else
                    goto malformed;
                break;
            case C_EXT_WS:
                if (c == ';')
                    d->state = C_EXT_NAME_PRE;
                else if (c != ' ' && c != '\t')
                    goto malformed;
                break;
            case C_EXT_NAME_PRE:
                if (is_tchar(c))
                    d->state = C_EXT_NAME;
                else if (c != ' ' && c != '\t')
                    goto malformed;
                break;
            case C_EXT_NAME:
                if (is_tchar(c))
                    break;
                /* fall through: the name ended */
            case C_EXT_NAME_WS:
                if (c == '=')
                    d->state = C_EXT_VAL_PRE;
                else if (c == ';')
                    d->state = C_EXT_NAME_PRE;
                else if (c == ' ' || c == '\t')
                    d->state = C_EXT_NAME_WS;
                else
                    goto malformed;
                break;
            case C_EXT_VAL_PRE:
                if (c == '"')
                    d->state = C_EXT_QUOTED;
                else if (is_tchar(c))
                    d->state = C_EXT_TOKEN;
                else if (c != ' ' && c != '\t')
                    goto malformed;
                break;
            case C_EXT_QUOTED:
                if (c == '"')
                    d->state = C_EXT;
                else if (c == '\\')
                    d->state = C_EXT_QPAIR;
                else if (!is_qdtext(c))
                    goto malformed;
                break;
            case C_EXT_QPAIR:
                /* quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text ) */
                if (!(c == '\t' || (c >= 0x20 && c != 0x7f)))
                    goto malformed;
                d->state = C_EXT_QUOTED;
                break;
            default:
                goto malformed; /* a corrupt decoder */
            }
            break;
        }
        ++src;
    }
    goto done;

complete:
    ret = (int)(len - src);
    goto done;
malformed:
    ret = PG_CHUNKED_MALFORMED;
done:
    if (dst != src && ret >= 0)
        memmove(buf + dst, buf + src, len - src);
    result[0] = (uint32_t)dst;
    result[1] = d->state == C_DATA;
    result[2] = (uint32_t)d->bytes_left_in_chunk;
    if (ret == -2) {
        /* phr_decode_chunked's rule: >= 100 KiB of framing that is > 75% of all bytes read is an
         * attack on the caller's CPU, not a body */
        d->total_overhead += len - dst;
        if (d->total_overhead >= 100 * 1024 && d->total_read - d->total_overhead < d->total_read / 4)
            ret = PG_CHUNKED_MOSTLY_FRAMING;
    }
    return ret;
}

int pg_simd(void)
{
    return pg_phr_simd();
}
