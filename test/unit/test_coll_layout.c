/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* coll/ivm's area arithmetic (common_ivm_layout_coll.h), without Open MPI:
 * the geometry every member computes alike must keep its parts apart and
 * aligned, refuse what would overflow, and tokens must compare correctly
 * across the wrap of the 64-bit counter. */

#include "ivm_test.h"

static void test_geometry(void)
{
    struct coll_ivm_geom g;
    CHECK(!coll_ivm_area_geometry(1, 4096, 2, &g));                  /* no group of one */
    CHECK(!coll_ivm_area_geometry(COLL_IVM_MAX_MEMBERS + 1, 4096, 2, &g));
    CHECK(!coll_ivm_area_geometry(4, 4096, 0, &g));
    CHECK(!coll_ivm_area_geometry(4, 4096, 65, &g));
    CHECK(!coll_ivm_area_geometry(4, 100, 2, &g));                    /* not line sized */
    CHECK(!coll_ivm_area_geometry(4, (1u << 24) + 64, 2, &g));
    const uint32_t members[] = {2, 3, 8, 64, 1000, COLL_IVM_MAX_MEMBERS};
    const uint64_t chunks[] = {64, 4096, 65536, 1u << 24};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            CHECK(coll_ivm_area_geometry(members[i], chunks[c], 64, &g));
            CHECK(g.ctl_off == sizeof(struct coll_ivm_area_hdr));
            CHECK(g.small_off == g.ctl_off + (uint64_t) members[i] * IVM_CACHELINE);
            CHECK(g.bcast_off == g.small_off + 2ull * members[i] * IVM_CACHELINE);
            CHECK(g.data_off >= g.bcast_off
                                    + (uint64_t) COLL_IVM_BCAST_SLOTS * members[i] * IVM_CACHELINE);
            CHECK(0 == g.data_off % IVM_CACHELINE && 0 == g.member_stride % IVM_CACHELINE);
            CHECK(g.chan_stride == (uint64_t) members[i] * g.member_stride);
            CHECK(g.size == g.data_off + COLL_IVM_CHANNELS * g.chan_stride);
            CHECK(g.size > g.chan_stride); /* no overflow at the largest sizes */
        }
    }
}

static void test_tokens(void)
{
    CHECK(coll_ivm_tok(3, 7) == ((3ull << 32) | 7));
    CHECK(coll_ivm_tok_reached(coll_ivm_tok(3, 7), coll_ivm_tok(3, 7)));
    CHECK(coll_ivm_tok_reached(coll_ivm_tok(3, COLL_IVM_TOK_ALL), coll_ivm_tok(3, 7)));
    CHECK(!coll_ivm_tok_reached(coll_ivm_tok(3, 6), coll_ivm_tok(3, 7)));
    CHECK(coll_ivm_tok_reached(coll_ivm_tok(4, 0), coll_ivm_tok(3, COLL_IVM_TOK_ALL)));
    /* across the wrap: step 2^32-1 is before step 0 of the next round */
    uint64_t before = coll_ivm_tok(0xffffffffull, 5), after = before + (1ull << 32);
    CHECK(coll_ivm_tok_reached(after, before));
    CHECK(!coll_ivm_tok_reached(before, after));
    CHECK(!coll_ivm_tok_reached(0, 1) && coll_ivm_tok_reached(1, 0));
}

int main(void)
{
    test_geometry();
    test_tokens();
    return ivm_test_done("test_coll_layout");
}
