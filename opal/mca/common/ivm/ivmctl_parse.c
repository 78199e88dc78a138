/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* ivmctl: numbers and sizes from the command line.  strtoull() is not used:
 * it accepts a sign ("-1" is 2^64-1), leading space and a base prefix, and
 * a suffix multiplied afterwards wraps silently (17179869185G would be
 * 1 GiB).  Here every step is checked. */

#include <stdio.h>

#include "ivmctl.h"

/* Power of 1024 of a size suffix; -1: not a suffix. */
static int suffix_shift(char c)
{
    switch (c) {
    case 'k':
    case 'K': return 10;
    case 'm':
    case 'M': return 20;
    case 'g':
    case 'G': return 30;
    case 't':
    case 'T': return 40;
    default: return -1;
    }
}

/* Human form of a limit for messages: 1048576 -> "1M". */
static void limit_str(uint64_t v, bool suffixes, char *buf, size_t len)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (suffixes && u < 3 && 0 != v && 0 == v % 1024u) {
        v /= 1024u;
        u++;
    }
    if (u >= 0) {
        snprintf(buf, len, "%llu%c", (unsigned long long) v, units[u]);
    } else {
        snprintf(buf, len, "%llu", (unsigned long long) v);
    }
}

bool ivmctl_parse_number(const char *name, const char *s, bool suffixes, uint64_t min, uint64_t max,
                         uint64_t *out, char *why, size_t whylen)
{
    uint64_t v = 0;
    const char *p = s;
    char lo[32], hi[32];

    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned) (*p - '0');
        if (v > (UINT64_MAX - d) / 10u) {
            snprintf(why, whylen, "%s '%s': too large (does not fit in 64 bits)", name, s);
            return false;
        }
        v = v * 10u + d;
    }
    if (p == s) {
        snprintf(why, whylen, "%s '%s': not a number%s", name, s,
                 suffixes ? " (digits, then optionally K, M, G or T)" : " (digits only)");
        return false;
    }
    int shift = suffixes ? suffix_shift(*p) : -1;
    if (shift > 0) {
        if (v > (UINT64_MAX >> shift)) {
            snprintf(why, whylen, "%s '%s': too large (does not fit in 64 bits)", name, s);
            return false;
        }
        v <<= shift;
        p++;
    }
    if ('\0' != *p) {
        snprintf(why, whylen, "%s '%s': unexpected '%c' after the number%s", name, s, *p,
                 suffixes ? " (suffixes: K, M, G, T)" : "");
        return false;
    }
    if (v < min || v > max) {
        limit_str(min, suffixes, lo, sizeof(lo));
        limit_str(max, suffixes, hi, sizeof(hi));
        snprintf(why, whylen, "%s '%s': out of range (%s to %s)", name, s, lo, hi);
        return false;
    }
    *out = v;
    return true;
}
