/*
 * pronghorn's own implementation of picohttpparser's C API (h2o/picohttpparser @ f832609, 2025).
 *
 * Same names, structs, return conventions and acceptance rules as upstream, so any input gives
 * the result upstream gives when built for the same target (upstream's picohttpparser.c and
 * test.c are the reference; docs/architecture.md, "The wasm parser"). Nothing
 * allocates; every output points into the caller's buffer. The code is written here; upstream was
 * read for behaviour only. Build with -DPG_SCALAR to leave out the SIMD128 scans.
 */
#ifndef PHR_H
#define PHR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* one header line. name is NULL for an obs-fold continuation line, whose value then holds the
 * whole line including its leading SP/HT. Trailing SP/HT are never part of a value. */
struct phr_header {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* returns number of bytes consumed (the head including its blank line, > 0) if successful,
 * -2 if the head is partial, -1 if it is malformed or has more lines than *num_headers.
 * *num_headers is in/out: capacity in, count out. Outputs are reset on entry (method/path NULL,
 * minor_version -1, *num_headers 0) and may be partly filled on -2 (method once its SP arrived).
 * last_len is the length of the buffer at the previous call (0 on the first): when non-zero a
 * cheap scan from last_len - 3 for the blank line runs first and returns -2 without a full parse
 * if it is not there (slowloris countermeasure). Upstream reads past the buffer when
 * last_len > len + 3; here the scan then starts at the end (-2). */
int phr_parse_request(const char *buf, size_t len, const char **method, size_t *method_len, const char **path,
                      size_t *path_len, int *minor_version, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

/* same conventions; status is the 3-digit code, msg the reason phrase without its leading SPs */
int phr_parse_response(const char *buf, size_t len, int *minor_version, int *status, const char **msg,
                       size_t *msg_len, struct phr_header *headers, size_t *num_headers, size_t last_len);

/* header lines up to and including the blank line; same conventions */
int phr_parse_headers(const char *buf, size_t len, struct phr_header *headers, size_t *num_headers,
                      size_t last_len);

/* should be zero-filled before start; set consume_trailer to 1 to consume the trailer section */
struct phr_chunked_decoder {
    size_t bytes_left_in_chunk; /* number of bytes left in current chunk */
    char consume_trailer;       /* if trailing headers should be consumed */
    char _hex_count;
    char _state;
    uint64_t _total_read;
    uint64_t _total_overhead;
};

/* Decodes chunked data in place: the payload is moved to the front of buf. *bufsz is in/out:
 * bytes given in, payload bytes produced by this call out. Returns -2 if more data is needed
 * (append the next bytes right after the payload produced so far and call again with only
 * those), -1 on a framing error (including more than sizeof(size_t) * 2 hex digits, a bare LF in
 * a chunk header or after chunk data, or >= 100 KiB of framing that is > 75% of what was read),
 * or the number of undecoded bytes left after the body, which start at buf + *bufsz. With
 * consume_trailer 0 decoding ends right after the last-chunk line, leaving the trailer section
 * among those bytes. */
ssize_t phr_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t *bufsz);

/* returns whether the decoder is in the middle of chunk data */
int phr_decode_chunked_is_in_data(struct phr_chunked_decoder *decoder);

/* ---- not part of picohttpparser's API ---- */

/* phr_parse_request, except that a head with more header lines than *num_headers is not cut
 * short: the rest is checked without being stored, and the result is -3 once that head is
 * complete and well-formed (-1 or -2 as usual otherwise). *num_headers is then the capacity. */
int pg_parse_request_counted(const char *buf, size_t len, const char **method, size_t *method_len,
                             const char **path, size_t *path_len, int *minor_version, struct phr_header *headers,
                             size_t *num_headers, size_t last_len);

/* 1 when the SIMD128 scans were compiled in (or their native emulation, in tests) */
int pg_phr_simd(void);

#ifdef __cplusplus
}
#endif

#endif
