/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* coll/ivm's area arithmetic (common_ivm_layout_coll.h), without Open MPI:
 * the geometry every member computes alike must keep its parts apart and
 * aligned, refuse what would overflow; every member's control line, small
 * slots and chunk buffers (what coll_ivm_ctl/_small/_buf in coll_ivm.h
 * address) must lie inside their part, apart from each other, with chunks
 * c and c + nbuf sharing a buffer; and tokens must compare correctly across
 * the wrap of the 64-bit counter, including the "everything before chunk
 * first" token of coll_ivm_xfer.c. */

#include "ivm_test.h"

static void test_geometry(void)
{
    struct coll_ivm_geom g;
    CHECK(!coll_ivm_area_geometry(1, 4096, 2, &g)); /* no group of one */
    CHECK(!coll_ivm_area_geometry(COLL_IVM_MAX_MEMBERS + 1, 4096, 2, &g));
    CHECK(!coll_ivm_area_geometry(4, 4096, 0, &g));
    CHECK(!coll_ivm_area_geometry(4, 4096, 65, &g));
    CHECK(!coll_ivm_area_geometry(4, 100, 2, &g)); /* not line sized */
    CHECK(!coll_ivm_area_geometry(4, (1u << 24) + 64, 2, &g));
    const uint32_t members[] = {2, 3, 8, 64, 1000, COLL_IVM_MAX_MEMBERS};
    const uint64_t chunks[] = {64, 4096, 65536, 1u << 24};
    for (size_t i = 0; i < sizeof(members) / sizeof(members[0]); i++) {
        for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
            CHECK(coll_ivm_area_geometry(members[i], chunks[c], 64, &g));
            CHECK(g.ctl_off == sizeof(struct coll_ivm_area_hdr));
            CHECK(g.small_off == g.ctl_off + (uint64_t) members[i] * IVM_CACHELINE);
            CHECK(g.bcast_off == g.small_off + 2ull * members[i] * IVM_CACHELINE);
            CHECK(g.data_off
                  >= g.bcast_off + (uint64_t) COLL_IVM_BCAST_SLOTS * members[i] * IVM_CACHELINE);
            CHECK(0 == g.data_off % IVM_CACHELINE && 0 == g.member_stride % IVM_CACHELINE);
            CHECK(g.chan_stride == (uint64_t) members[i] * g.member_stride);
            CHECK(g.size == g.data_off + COLL_IVM_CHANNELS * g.chan_stride);
            CHECK(g.size > g.chan_stride); /* no overflow at the largest sizes */
        }
    }
}

/* Mark [off, off + len) in @used (one bit per cache line); every line
 * must be free and inside [lo, hi). */
static void claim(uint8_t *used, uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
    CHECK(off >= lo && off + len <= hi && 0 == off % IVM_CACHELINE);
    for (uint64_t l = off / IVM_CACHELINE; l < (off + len) / IVM_CACHELINE && off + len <= hi;
         l++) {
        if (used[l / 8] & (1u << (l % 8))) {
            CHECK(!"two parts share a line");
            return;
        }
        used[l / 8] |= (uint8_t) (1u << (l % 8));
    }
}

static void check_offsets(uint32_t n, uint64_t chunk, uint32_t nbuf)
{
    struct coll_ivm_geom g;
    CHECK(coll_ivm_area_geometry(n, chunk, nbuf, &g));
    uint8_t *used = calloc(g.size / IVM_CACHELINE / 8 + 1, 1);
    claim(used, 0, sizeof(struct coll_ivm_area_hdr), 0, g.ctl_off);
    for (uint32_t m = 0; m < n; m++) {
        claim(used, coll_ivm_ctl_off(&g, m), IVM_CACHELINE, g.ctl_off, g.small_off);
        for (uint64_t step = 0; step < COLL_IVM_SMALL_SLOTS; step++) {
            uint64_t s = coll_ivm_small_off(&g, m, step + 6);
            claim(used, s, IVM_CACHELINE, g.small_off, g.data_off);
            /* steps t and t + 2 share the slot, t and t + 1 do not */
            CHECK(s == coll_ivm_small_off(&g, m, step + 8));
            CHECK(s != coll_ivm_small_off(&g, m, step + 7));
        }
        for (uint32_t ch = 0; ch < COLL_IVM_CHANNELS; ch++) {
            for (uint64_t c = 0; c < nbuf; c++) {
                uint64_t b = coll_ivm_buf_off(&g, ch, m, c + 5 * nbuf);
                claim(used, b, chunk, g.data_off, g.size);
                CHECK(b == coll_ivm_buf_off(&g, ch, m, c));
            }
        }
    }
    free(used);
}

static void test_offsets(void)
{
    check_offsets(2, 64, 1);
    check_offsets(3, 256, 2);
    check_offsets(8, 4096, 4);
    check_offsets(17, 1024, 64);
    /* the largest group: its last buffer ends at the end of the area */
    struct coll_ivm_geom g;
    CHECK(coll_ivm_area_geometry(COLL_IVM_MAX_MEMBERS, 1u << 24, 64, &g));
    CHECK(coll_ivm_buf_off(&g, COLL_IVM_CHANNELS - 1, COLL_IVM_MAX_MEMBERS - 1, 63) + g.chunk
          == g.size);
    CHECK(coll_ivm_small_off(&g, COLL_IVM_MAX_MEMBERS - 1, 1) + IVM_CACHELINE <= g.data_off);
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
    /* coll_ivm_xfer.c declares "done with everything before chunk first of
     * step seq" as tok(seq, first) - 1: for first 0 that is all of the
     * step before, and it never reaches chunk first itself */
    for (uint64_t seq = 1; seq < 4; seq++) {
        uint64_t before_all = coll_ivm_tok(seq, 0) - 1;
        CHECK(before_all == coll_ivm_tok(seq - 1, COLL_IVM_TOK_ALL));
        CHECK(coll_ivm_tok_reached(before_all, coll_ivm_tok(seq - 1, 12345)));
        CHECK(!coll_ivm_tok_reached(before_all, coll_ivm_tok(seq, 0)));
        uint64_t before_3 = coll_ivm_tok(seq, 3) - 1;
        CHECK(coll_ivm_tok_reached(before_3, coll_ivm_tok(seq, 2)));
        CHECK(!coll_ivm_tok_reached(before_3, coll_ivm_tok(seq, 3)));
    }
}

int main(void)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {
        {"geometry", test_geometry},
        {"offsets", test_offsets},
        {"tokens", test_tokens},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = ivm_test_failures;
        cases[i].run();
        printf("  %s: %s\n", cases[i].name, before == ivm_test_failures ? "ok" : "FAIL");
    }
    return ivm_test_done("test_coll_layout");
}
