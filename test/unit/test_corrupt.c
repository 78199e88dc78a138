/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Random corruption of the superblock and the tables (a crashed or hostile
 * peer): every operation must end with a status code -- never a crash, an
 * access outside the region (run under ASan/UBSan) or a hang.  Iterations
 * from IVM_FUZZ_ITERS (default 3000); the seed from IVM_FUZZ_SEED. */

#include <sys/mman.h>
#include <time.h>

#include "ivm_test.h"

static const int known[] = {
    IVM_OK,          IVM_ERR_NOT_FOUND, IVM_ERR_TOO_SMALL, IVM_ERR_BAD_MAGIC, IVM_ERR_VERSION,
    IVM_ERR_CORRUPT, IVM_ERR_TIMEOUT,   IVM_ERR_NO_SPACE,  IVM_ERR_INVALID,   IVM_ERR_BUSY};

static void expect_known(int rc, const char *what)
{
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
        if (rc == known[i]) {
            return;
        }
    }
    fprintf(stderr, "%s returned unexpected status %d\n", what, rc);
    ivm_test_failures++;
}

/* Corrupt a few bytes, biased towards the fields code actually reads. */
static void corrupt(uint8_t *base, const struct ivm_layout *l, unsigned *seed)
{
    int n = 1 + rand_r(seed) % 12;
    for (int i = 0; i < n; i++) {
        uint64_t pos;
        switch (rand_r(seed) % 4) {
        case 0: pos = (uint64_t) rand_r(seed) % 192; break; /* superblock */
        case 1: pos = l->job_table_off + (uint64_t) rand_r(seed) % (4 * 128); break;
        case 2: pos = l->slot_table_off + (uint64_t) rand_r(seed) % (8 * 128); break;
        default: pos = (uint64_t) rand_r(seed) % l->heap_off; break;
        }
        switch (rand_r(seed) % 3) {
        case 0: base[pos] ^= (uint8_t) (1u << (rand_r(seed) % 8)); break;
        case 1: base[pos] = (uint8_t) rand_r(seed); break;
        default: memset(base + pos, 0xff, 8 <= l->heap_off - pos ? 8 : 1); break;
        }
    }
}

static void exercise(const char *path, unsigned *seed)
{
    ivm_region_t r;
    ivm_attach_opts_t ao = {50, false, 0, 0};
    ivm_join_opts_t jo = {.part_size = 64 * 1024, .lock_timeout_ms = 20};
    ivm_reclaim_stats_t st;
    ivm_member_t m;

    if (IVM_OK != ivm_region_open(&r, path, false)) {
        ivm_test_failures++;
        return;
    }
    int rc = ivm_region_attach(&r, &ao);
    expect_known(rc, "attach");
    if (IVM_OK == rc) {
        expect_known(ivm_reclaim(&r, 20, &st), "reclaim");
        ivm_job_key_make(jo.key, (rand_r(seed) & 1) ? "fuzz-a" : "fuzz-new", "");
        rc = ivm_job_join(&r, &jo, &m);
        expect_known(rc, "join");
        if (IVM_OK == rc) {
            CHECK(NULL != ivm_ptr(&r, m.part_off, m.part_size));
            CHECK(m.part_off >= r.layout.heap_off);
            expect_known(ivm_job_leave(&r, &m, 20), "leave");
        }
        for (uint32_t j = 0; j < r.layout.job_count; j++) {
            struct ivm_job_entry je;
            expect_known(ivm_job_read(&r, j, &je), "job_read");
        }
        for (uint32_t i = 0; i < r.layout.slot_count; i++) {
            struct ivm_slot_entry se;
            expect_known(ivm_slot_read(&r, i, &se), "slot_read");
        }
        (void) ivm_slot_verify(&r, (uint32_t) rand_r(seed), (uint32_t) rand_r(seed),
                               (uint64_t) rand_r(seed));
        expect_known(ivm_job_remove(&r, (uint32_t) rand_r(seed) % 20, true, 20, &st), "remove");
    }
    ivm_region_close(&r);
}

int main(void)
{
    char path[256];
    ivm_region_t r;
    ivm_member_t m[3];
    const char *e1 = getenv("IVM_FUZZ_ITERS"), *e2 = getenv("IVM_FUZZ_SEED");
    int iters = e1 ? atoi(e1) : 3000;
    unsigned seed = e2 ? (unsigned) atoi(e2) : (unsigned) time(NULL);

    printf("test_corrupt: seed %u, %d iterations\n", seed, iters);
    ivm_test_device(path, 2u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_format(&r, 16, 32), IVM_OK);
    for (int i = 0; i < 3; i++) {
        ivm_join_opts_t jo = {.part_size = 128 * 1024, .lock_timeout_ms = 1000};
        ivm_job_key_make(jo.key, i < 2 ? "fuzz-a" : "fuzz-b", "");
        CHECK_RC(ivm_job_join(&r, &jo, &m[i]), IVM_OK);
    }
    size_t meta = r.layout.heap_off;
    uint8_t *pristine = malloc(meta);
    memcpy(pristine, r.map.base, meta);

    for (int it = 0; it < iters; it++) {
        memcpy(r.map.base, pristine, meta);
        corrupt(r.map.base, &r.layout, &seed);
        exercise(path, &seed);
    }
    /* a pristine copy still works after all that */
    memcpy(r.map.base, pristine, meta);
    exercise(path, &seed);
    CHECK_RC(ivm_region_validate(&r), IVM_OK);
    free(pristine);
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_corrupt");
}
