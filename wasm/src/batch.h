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
 * Chunked decoding reuses words 0-2 (see pg_decode_chunked).
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

/* ---- the server's chunked decoder ----
 *
 * phr_decode_chunked keeps upstream's acceptance rules (anything between the chunk size and CR,
 * trailer lines unchecked). The server decodes with its own strict state machine instead, with
 * the same in-place contract, that accepts exactly RFC 9112 §7.1:
 *
 *   chunked-body   = *chunk last-chunk trailer-section CRLF
 *   chunk          = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size     = 1*HEXDIG                      (a value that fits size_t)
 *   chunk-ext      = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
 *   chunk-ext-name = token
 *   chunk-ext-val  = token / quoted-string         (RFC 9110 §5.6.4, quoted-pair included)
 *   trailer-section = *( field-line CRLF )
 *   field-line     = field-name ":" OWS field-value OWS
 *
 * Every line ends in CRLF (no bare LF, no bare CR); a trailer line starting with SP/HTAB
 * (obs-fold) or without a token and a colon (a request line, say) is an error. On top of the
 * grammar: at most PG_MAX_CHUNK_EXT_BYTES of chunk extensions and PG_MAX_TRAILER_BYTES of
 * trailer section per body, the sum of the declared chunk sizes at most max_body (checked as
 * soon as a chunk-size ends, before its data arrives), and phr_decode_chunked's defence against
 * a stream that is mostly framing. */

/* chunk-extension bytes (all from the end of a chunk-size to its CR) one body may carry; Node
 * caps them at 16 KiB per message since CVE-2024-22019 */
#define PG_MAX_CHUNK_EXT_BYTES (16 * 1024)
/* trailer-section bytes, its CRLFs included, one body may carry */
#define PG_MAX_TRAILER_BYTES (16 * 1024)

/* pg_decode_chunked's errors (-2 means more data, as for phr_decode_chunked) */
#define PG_CHUNKED_MALFORMED (-1)
#define PG_CHUNKED_EXT_TOO_LONG (-4)
#define PG_CHUNKED_TRAILER_TOO_LONG (-5)
#define PG_CHUNKED_MOSTLY_FRAMING (-6)
#define PG_CHUNKED_TOO_LARGE (-7)

struct pg_chunked {
    uint64_t max_body;        /* 0: no limit */
    uint64_t declared;        /* sum of the chunk sizes read so far */
    uint64_t total_read;      /* bytes given to pg_decode_chunked */
    uint64_t total_overhead;  /* of those, bytes that were not payload */
    size_t bytes_left_in_chunk;
    uint32_t ext_bytes;
    uint32_t trailer_bytes;
    uint8_t consume_trailer;
    uint8_t state;
    uint8_t has_digit;
};

/* allocates a decoder ready for a body; consume_trailer as for phr_chunked_decoder; max_body is
 * a double so that JS can pass any safe integer (0, negative or NaN: no limit). NULL on OOM */
struct pg_chunked *pg_chunked_new(int consume_trailer, double max_body);
void pg_chunked_free(struct pg_chunked *decoder);

/* decodes [buf, buf+len) in place, as phr_decode_chunked does: returns -2 if more data is
 * needed, a negative PG_CHUNKED_* error, or the number of bytes left after the body (they start
 * right after the payload). Result word 0 gets the payload byte count of this call, word 1 is 1
 * when the decoder stopped inside chunk data, word 2 its bytes_left_in_chunk. Payload decoded
 * by a call that fails is still counted in word 0. */
int pg_decode_chunked(struct pg_chunked *decoder, char *buf, size_t len);

/* 1 if the SIMD128 scans were compiled in, 0 for the scalar build */
int pg_simd(void);

#endif
