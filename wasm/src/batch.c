/*
 * pronghorn's entry points (contract and result-area layout in batch.h).
 *
 * One wasm call per parse attempt, results as offsets relative to the caller's buffer so the
 * JS side decodes straight from its own view of linear memory. The header slots and result
 * area are static: one parse at a time per instance (wasm is single-threaded), and the next
 * call overwrites them. Nothing here allocates on the parse path.
 */
#include <stdlib.h>
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

struct phr_chunked_decoder *pg_chunked_new(int consume_trailer)
{
    struct phr_chunked_decoder *decoder = calloc(1, sizeof(*decoder));
    if (decoder != NULL)
        decoder->consume_trailer = consume_trailer != 0;
    return decoder;
}

void pg_chunked_free(struct phr_chunked_decoder *decoder)
{
    free(decoder);
}

int pg_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t len)
{
    size_t bufsz = len;
    ssize_t r = phr_decode_chunked(decoder, buf, &bufsz);
    result[0] = (uint32_t)bufsz;
    return (int)r;
}

int pg_simd(void)
{
    return pg_phr_simd();
}
