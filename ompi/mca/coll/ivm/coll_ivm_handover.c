/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Which calls coll/ivm hands over to the next component (usually tuned,
 * over btl/ivm and vader) because that one is faster at that size.
 *
 * Every collective with a size every rank agrees on has a parameter
 * coll_ivm_<op>_handover: a list of byte ranges "A-B" (B included; "A-"
 * is open-ended; K, M and G suffixes), each optionally limited to
 * communicators of at most N ranks ("A-B:N"), in which its calls go to
 * the next component.  The size is the one contrib/ivm-bench-coll reports: the
 * vector of bcast, reduce and allreduce, each rank's block of allgather
 * and alltoall, the block each rank receives in reduce_scatter(_block)
 * (its average under reduce_scatter's counts).  The defaults come from
 * measurements (bench/README-coll.md); the ranks of a communicator agree
 * on them at setup (coll_ivm_params_hash), so they all decide alike. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

/* One size with an optional K/M/G suffix; false if it is not one. */
static bool parse_size(const char *s, const char **end, uint64_t *v)
{
    char *e;
    unsigned long long x = strtoull(s, &e, 10);
    if (e == s) {
        return false;
    }
    int shift = 'K' == *e || 'k' == *e   ? 10
                : 'M' == *e || 'm' == *e ? 20
                : 'G' == *e || 'g' == *e ? 30
                                         : 0;
    if (0 != shift) {
        e++;
        if (x > (UINT64_MAX >> shift)) {
            return false;
        }
    }
    *v = (uint64_t) x << shift;
    *end = e;
    return true;
}

/* Parse @spec into @h; false (and @h emptied) if it is malformed. */
static bool parse_ranges(const char *spec, coll_ivm_handover_t *h)
{
    const char *p = NULL == spec ? "" : spec;
    h->n = 0;
    while (*p) {
        uint64_t lo, hi = UINT64_MAX, ranks = 0;
        if (h->n == COLL_IVM_HANDOVER_RANGES || !parse_size(p, &p, &lo) || '-' != *p++) {
            h->n = 0;
            return false;
        }
        if ('\0' != *p && ',' != *p && ':' != *p && (!parse_size(p, &p, &hi) || hi < lo)) {
            h->n = 0;
            return false;
        }
        if (':' == *p && (!parse_size(p + 1, &p, &ranks) || ranks < 2)) {
            h->n = 0;
            return false;
        }
        h->lo[h->n] = lo;
        h->hi[h->n] = hi;
        h->ranks[h->n] = ranks;
        h->n++;
        if (',' == *p) {
            p++;
        } else if ('\0' != *p) {
            h->n = 0;
            return false;
        }
    }
    return true;
}

const char *coll_ivm_handover_parse(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        if (!parse_ranges(c->handover_spec[i], &c->handover[i])) {
            return "a coll_ivm_<collective>_handover parameter is not a list of byte ranges "
                   "A-B or A- (K, M, G suffixes), each optionally :N (communicators of at "
                   "most N >= 2 ranks), at most 4, separated by commas";
        }
    }
    return NULL;
}

uint64_t coll_ivm_handover_hash(uint64_t h)
{
    const mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        const coll_ivm_handover_t *r = &c->handover[i];
        uint64_t v[1 + 3 * COLL_IVM_HANDOVER_RANGES];
        int k = 0;
        v[k++] = (uint64_t) r->n;
        for (int j = 0; j < r->n; j++) {
            v[k++] = r->lo[j];
            v[k++] = r->hi[j];
            v[k++] = r->ranks[j];
        }
        for (int j = 0; j < k; j++) {
            for (int b = 0; b < 8; b++) {
                h = (h ^ ((v[j] >> (8 * b)) & 0xff)) * 1099511628211ULL; /* FNV-1a */
            }
        }
    }
    return h;
}
