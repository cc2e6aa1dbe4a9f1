/* One row of the case table (cases.json, turned into C by gen-cases.mjs); has_* = 0 means the
 * field is not checked. */
#ifndef PG_CASE_H
#define PG_CASE_H
#include <stddef.h>

struct case_header {
    const char *name; /* NULL for an obs-fold line */
    int name_len;
    const char *value;
    int value_len;
};

struct test_case {
    const char *fn, *name;
    const char *input;
    size_t input_len, last_len, num_headers;
    int has_num_headers;
    int ret, has_ret_lp64, ret_lp64;
    int method_kind; /* 0 unchecked, 1 expected NULL, 2 expected string */
    const char *method;
    size_t method_len;
    int has_path;
    const char *path;
    size_t path_len;
    int has_minor, minor_version;
    int has_status, status;
    int has_msg;
    const char *msg;
    size_t msg_len;
    int n_headers; /* -1 unchecked */
    const struct case_header *headers;
    int consume_trailer, bytewise, has_decoded;
    const char *decoded;
    size_t decoded_len;
};
#endif
