/*
 * picohttpparser-style benchmark: one realistic ~700-byte browser request parsed N times (default
 * 10,000,000) through phr_parse_request and, with "batch", through pg_parse_request; every result
 * is asserted. Native only: `bench [N] [batch]`; build with -O2/-O3 and -DPG_SCALAR.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "phr.h"
#include "batch.h"

#define REQ                                                                                                            \
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg HTTP/1.1\r\n"                                    \
    "Host: www.kittyhell.com\r\n"                                                                                      \
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10.6; ja-JP-mac; rv:1.9.2.3) Gecko/20100401 Firefox/3.6.3 " \
    "Pathtraq/0.9\r\n"                                                                                                 \
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"                                     \
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"                                                                     \
    "Accept-Encoding: gzip,deflate\r\n"                                                                                \
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"                                                                \
    "Keep-Alive: 115\r\n"                                                                                              \
    "Connection: keep-alive\r\n"                                                                                       \
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "                                              \
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x; "                                                 \
    "__utmz=xxxxxxxxx.xxxxxxxxxx.x.x.utmccn=(referral)|utmcsr=reader.livedoor.com|utmcct=/reader/|utmcmd=referral\r\n" \
    "\r\n"

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    int batch = argc > 2 && strcmp(argv[2], "batch") == 0;
    const char *method, *path;
    size_t method_len, path_len, num_headers, len = sizeof(REQ) - 1;
    int minor_version;
    struct phr_header headers[32];
    struct timespec t0, t1;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < n; ++i) {
        if (batch) {
            int r = pg_parse_request(REQ, len, 0);
            assert(r == (int)len);
            assert(pg_result()[5] == 9);
        } else {
            num_headers = sizeof(headers) / sizeof(headers[0]);
            int r = phr_parse_request(REQ, len, &method, &method_len, &path, &path_len, &minor_version, headers,
                                      &num_headers, 0);
            assert(r == (int)len);
            assert(num_headers == 9);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("bench: %ld parses of a %zu-byte request (%s) in %.3f s: %.0f ns/parse, %.0f MB/s\n", n, len,
           batch ? "pg_parse_request" : "phr_parse_request", secs, secs / (double)n * 1e9,
           (double)n * (double)len / secs / 1e6);
    return 0;
}
