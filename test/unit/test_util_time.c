/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* ivm_format_time prints the time fields a peer left in the region
 * (format_time, create_time): every value must come out as a terminated,
 * printable string, the ones no calendar shows as "invalid(<value>)", and
 * nothing may be written past the buffer (issue 10, defect 3). */

#include <stdint.h>

#include "ivm_test.h"

#define BUF 64

/* @len bytes given to the function inside a BUF-byte buffer of 'x': the
 * result must be terminated inside @len, printable, equal to @want (unless
 * NULL) and the bytes after @len untouched. */
static void check_time(uint64_t t, size_t len, const char *want)
{
    char buf[BUF];
    memset(buf, 'x', sizeof(buf));
    ivm_format_time(t, buf, len);
    const char *nul = memchr(buf, '\0', len);
    CHECK(NULL != nul);
    for (size_t i = len; i < sizeof(buf); i++) {
        CHECK('x' == buf[i]);
    }
    if (NULL == nul) {
        fprintf(stderr, "  time %llu, %zu bytes: not terminated\n", (unsigned long long) t, len);
        return;
    }
    for (const char *c = buf; c < nul; c++) {
        CHECK(*c >= 0x20 && *c < 0x7f);
    }
    if (NULL != want && 0 != strcmp(buf, want)) {
        fprintf(stderr, "  time %llu, %zu bytes: got \"%s\", expected \"%s\"\n",
                (unsigned long long) t, len, buf, want);
        ivm_test_failures++;
    }
}

int main(void)
{
    /* the sizes ivmctl uses, and a roomy one */
    static const size_t lens[] = {32, BUF};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        size_t len = lens[k];
        check_time(0, len, "1970-01-01T00:00:00Z");
        check_time(1700000000u, len, "2023-11-14T22:13:20Z");
        check_time(253402300799ull, len, "9999-12-31T23:59:59Z");
        /* no time_t: above INT64_MAX (it would be a negative time_t) */
        check_time(UINT64_MAX, len, "invalid(18446744073709551615)");
        check_time((uint64_t) INT64_MAX + 1, len, "invalid(9223372036854775808)");
        /* a time_t whose year does not fit an int: gmtime_r fails */
        check_time((uint64_t) INT64_MAX, len, "invalid(9223372036854775807)");
        check_time(1ull << 60, len, "invalid(1152921504606846976)");
    }

    /* too small for the text (a caller's mistake, not the region's): any
     * text, but terminated and nothing written beyond */
    check_time(0, 1, "");
    check_time(1700000000u, 8, NULL);
    check_time(1700000000u, 20, NULL);
    check_time(UINT64_MAX, 20, "invalid(18446744073");

    /* no room at all: nothing written */
    char buf[4] = {'x', 'x', 'x', 'x'};
    ivm_format_time(UINT64_MAX, buf, 0);
    CHECK('x' == buf[0]);

    return ivm_test_done("test_util_time");
}
