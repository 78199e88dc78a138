/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The layout function over minimum, default and maximum parameters: tables
 * never overlap, everything is aligned, the heap fits the region; and the
 * layout check accepts only what the function produces. */

#include "ivm_test.h"

static void check_layout(uint64_t size, uint32_t jobs, uint32_t slots)
{
    struct ivm_layout l;
    char why[256];
    int rc = ivm_layout_compute(size, jobs, slots, &l);
    if (IVM_OK != rc) {
        return;
    }
    CHECK(l.job_table_off >= IVM_SB_SIZE);
    CHECK(l.job_table_off + (uint64_t) jobs * l.job_entry_size <= l.slot_table_off);
    CHECK(l.slot_table_off + (uint64_t) slots * l.slot_entry_size <= l.heap_off);
    CHECK(0 == l.slot_table_off % IVM_CACHELINE);
    CHECK(0 == l.heap_off % IVM_CHUNK_SIZE);
    CHECK(0 == l.heap_size % IVM_CHUNK_SIZE);
    CHECK(l.heap_size >= IVM_CHUNK_SIZE);
    CHECK(l.heap_off + l.heap_size <= size);
    CHECK(size - (l.heap_off + l.heap_size) < IVM_CHUNK_SIZE);
    CHECK_RC(ivm_layout_check(&l, size, why, sizeof(why)), IVM_OK);

    /* any change of an offset, size or entry size is rejected; the counts
     * (words 4 and 5) are free parameters that the superblock CRC covers */
    uint64_t *words = (uint64_t *) &l;
    for (size_t w = 0; w < sizeof(l) / sizeof(uint64_t); w++) {
        if (4 == w || 5 == w) {
            words[w] ^= 0x40ull << 32; /* the entry sizes instead */
            CHECK(IVM_OK != ivm_layout_check(&l, size, why, sizeof(why)));
            words[w] ^= 0x40ull << 32;
            continue;
        }
        struct ivm_layout bad = l;
        ((uint64_t *) &bad)[w] = words[w] ^ 0x40;
        if (IVM_OK == ivm_layout_check(&bad, size, why, sizeof(why))) {
            fprintf(stderr, "word %zu accepted (size %llu jobs %u slots %u)\n", w,
                    (unsigned long long) size, jobs, slots);
            ivm_test_failures++;
        }
    }
}

int main(void)
{
    static const uint64_t sizes[] = {IVM_REGION_MIN_SIZE, 4u << 20, 64u << 20, 1ull << 30,
                                     (1ull << 34) + 12345};
    static const uint32_t counts[] = {1, 16, 64, 1024, IVM_SLOT_COUNT_MAX};
    struct ivm_layout l;

    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (size_t j = 0; j < 4; j++) {
            for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
                check_layout(sizes[s], counts[j], counts[k]);
            }
        }
    }
    /* limits */
    CHECK_RC(ivm_layout_compute(64u << 20, 0, 16, &l), IVM_ERR_INVALID);
    CHECK_RC(ivm_layout_compute(64u << 20, 16, 0, &l), IVM_ERR_INVALID);
    CHECK_RC(ivm_layout_compute(64u << 20, IVM_JOB_COUNT_MAX + 1, 16, &l), IVM_ERR_INVALID);
    CHECK_RC(ivm_layout_compute(64u << 20, 16, IVM_SLOT_COUNT_MAX + 1, &l), IVM_ERR_INVALID);
    CHECK_RC(ivm_layout_compute(IVM_REGION_MIN_SIZE, 16, IVM_SLOT_COUNT_MAX, &l),
             IVM_ERR_TOO_SMALL);
    CHECK_RC(ivm_layout_compute(IVM_CHUNK_SIZE, 1, 1, &l), IVM_ERR_TOO_SMALL);

    /* CRC-32C check value of "123456789" */
    CHECK(0xe3069283u == ivm_crc32c(0, "123456789", 9));
    /* hashing is stable and spreads */
    uint8_t a[IVM_ID_LEN], b[IVM_ID_LEN];
    ivm_hash128("job-1", 5, a);
    ivm_hash128("job-1", 5, b);
    CHECK(0 == memcmp(a, b, IVM_ID_LEN));
    ivm_hash128("job-2", 5, b);
    CHECK(0 != memcmp(a, b, IVM_ID_LEN));
    uint8_t k1[IVM_ID_LEN], k2[IVM_ID_LEN];
    ivm_job_key_make(k1, "1234", "tcp://198.18.0.1:4000");
    ivm_job_key_make(k2, "1234", "tcp://198.18.0.2:4000");
    CHECK(0 != memcmp(k1, k2, IVM_ID_LEN));
    return ivm_test_done("test_layout");
}
