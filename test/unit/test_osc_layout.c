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

/* osc/ivm's window area arithmetic (common_ivm_layout_osc.h), without Open
 * MPI: the geometry every rank computes alike must keep the header, the
 * fence line, the rank states, the post matrix and the segments apart and
 * aligned, place segments as MPI_Win_allocate_shared's contiguous layout
 * requires, and refuse what would overflow. */

#include "ivm_test.h"

static void test_refusals(void)
{
    struct osc_ivm_geom g;
    uint64_t sizes[4] = {64, 64, 64, 64};
    CHECK(!osc_ivm_area_geometry(0, sizes, false, 64, &g));
    CHECK(!osc_ivm_area_geometry(OSC_IVM_MAX_RANKS + 1, sizes, false, 64, &g));
    CHECK(!osc_ivm_area_geometry(4, sizes, false, 32, &g)); /* below a line */
    CHECK(!osc_ivm_area_geometry(4, sizes, false, 96, &g)); /* not a power of two */
    sizes[2] = (uint64_t) 1 << 60;                          /* beyond any region */
    CHECK(!osc_ivm_area_geometry(4, sizes, false, 64, &g));
    sizes[2] = (uint64_t) 1 << 47;
    sizes[3] = (uint64_t) 1 << 47; /* the sum overflows the limit */
    CHECK(!osc_ivm_area_geometry(4, sizes, true, 64, &g));
}

static void test_parts(void)
{
    const uint32_t ranks[] = {1, 2, 3, 8, 100, OSC_IVM_MAX_RANKS};
    static uint64_t sizes[OSC_IVM_MAX_RANKS];
    struct osc_ivm_geom g;

    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
        const uint32_t n = ranks[i];
        for (uint32_t r = 0; r < n; r++) {
            sizes[r] = (r * 37u) % 5000u; /* odd sizes, some zero */
        }
        for (int pack = 0; pack < 2; pack++) {
            CHECK(osc_ivm_area_geometry(n, sizes, pack, 4096, &g));
            CHECK(g.state_off == 2 * IVM_CACHELINE);
            CHECK(g.post_off == g.state_off + (uint64_t) n * IVM_CACHELINE);
            CHECK(g.seg_off >= g.post_off + (uint64_t) n * n * 4);
            CHECK(0 == g.seg_off % OSC_IVM_PAGE);
            CHECK(g.size == g.seg_off + g.seg_len && 0 == g.seg_len % IVM_CACHELINE);
            /* every segment lies inside the segment part, after the previous one */
            uint64_t prev_end = 0;
            for (uint32_t r = 0; r < n; r++) {
                uint64_t at = osc_ivm_seg_start(sizes, r, pack, 4096);
                CHECK(at >= prev_end && at + sizes[r] <= g.seg_len);
                CHECK(pack ? at == prev_end : 0 == at % 4096);
                prev_end = at + sizes[r];
            }
        }
    }
}

int main(void)
{
    test_refusals();
    test_parts();
    return ivm_test_done("test_osc_layout");
}
