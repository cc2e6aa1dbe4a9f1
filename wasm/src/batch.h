/*
 * pronghorn's entry points on top of the phr_* API (phr.h).
 *
 * One call per parse attempt: the server copies or reads a request into linear memory, calls
 * pg_parse_request once, and reads method, target, version and header offsets out of the
 * result area. Offsets are relative to `buf`, so the caller decodes straight from its own view.
 * Nothing here allocates on the parse path; the result area is static and is overwritten by
 * the next call.
 *
 * Result area (uint32 words, little-endian), returned by pg_result():
 *
 *   word   field
 *   0      method offset          1   method length
 *   2      target offset          3   target length
 *   4      minor_version          5   number of headers (n)
 *   6+4i   header i name offset   7+4i  header i name length
 *   8+4i   header i value offset  9+4i  header i value length
 *
 * An obs-fold continuation line (phr_header.name == NULL) has name offset PG_NO_NAME and name
 * length 0; its value keeps the line's leading SP/HT.
 * Chunked decoding reuses word 0 for the decoded byte count (see pg_decode_chunked).
 */
#ifndef PG_BATCH_H
#define PG_BATCH_H

#include <stddef.h>
#include <stdint.h>
#include "phr.h"

#define PG_MAX_HEADERS 256
#define PG_NO_NAME 0xffffffffu
#define PG_RESULT_WORDS (6 + 4 * PG_MAX_HEADERS)

/* returns the address of the result area (PG_RESULT_WORDS uint32 words) */
uint32_t *pg_result(void);

/* phr_parse_request with PG_MAX_HEADERS slots, results written to the result area.
 * returns the head length (> 0), -1 on a syntax error, -2 if incomplete, and
 * -3 if the head is well-formed but has more than PG_MAX_HEADERS header lines
 * (picohttpparser itself reports that as -1). Lines past the cap are still checked: -3 comes
 * only once the whole head has arrived and is valid; a syntax error anywhere gives -1 and an
 * incomplete head -2. An obs-fold line counts as a header line. On -1/-2/-3 the result area
 * is undefined. last_len as for phr_parse_request. */
int pg_parse_request(const char *buf, size_t len, size_t last_len);

/* allocates a zero-filled phr_chunked_decoder with consume_trailer set as given; NULL on OOM */
struct phr_chunked_decoder *pg_chunked_new(int consume_trailer);
void pg_chunked_free(struct phr_chunked_decoder *decoder);

/* phr_decode_chunked over [buf, buf+len): returns what phr_decode_chunked returns
 * (-1, -2, or the number of bytes left after the body); the decoded byte count
 * (phr_decode_chunked's *bufsz on return) is written to result word 0. */
int pg_decode_chunked(struct phr_chunked_decoder *decoder, char *buf, size_t len);

/* 1 if the SIMD128 scans were compiled in, 0 for the scalar build */
int pg_simd(void);

#endif
