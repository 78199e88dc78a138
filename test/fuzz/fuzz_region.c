/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "region": attaching to a region whose superblock and tables
 * a peer in another VM may have scribbled on, and everything an attacher
 * then reads from them (common_ivm_region.c, common_ivm_job.c,
 * common_ivm_lock.c, common_ivm_owner.c, common_ivm_lease.c).
 *
 * Input:
 *   u8 template      which validly formatted image to start from (below)
 *   u8 flags        FL_* below
 *   u8 remove_job   job index for ivm_job_remove
 *   u8 part_chunks  partition size asked for by ivm_job_join
 *   u8 fmt_jobs     job count if the attach formats a zeroed image
 *   u8 fmt_slots    slot count idem
 *   patches...      (fuzz_common.h) over the template
 * With FL_RESIGN the superblock CRC is recomputed after the patches, so
 * mutations reach the checks behind the checksum.
 *
 * The image lives in a memfd mapped by the real mapper.  After a
 * successful attach, the bytes past the validated region size are
 * poisoned: nothing may read there.  Checked promises (besides "no
 * sanitizer report, no hang"):
 *  - every job entry that reads OK lies inside the heap, every claimed
 *    slot names a job in the table;
 *  - a successful join returns a partition inside the heap and a slot whose
 *    nonce proof holds; a job it created has an openable heap;
 *  - nothing the attacher does afterwards (reclaim, join, leave, remove,
 *    lock break) makes the region fail validation. */

#include "fuzz_common.h"

enum {
    FL_RESIGN = 0x01, /* recompute the superblock CRC after patching */
    FL_FORMAT = 0x02, /* attach may format a zeroed image */
    FL_LEASE = 0x04,  /* leases on (1 ms): foreign slots expire at once */
    FL_JOIN = 0x08,   /* ivm_job_join (+ heap open, leave) */
    FL_KEY_A = 0x10,  /* join the template's job A instead of a new key */
    FL_REMOVE = 0x20, /* ivm_job_remove */
    FL_FORCE = 0x40,  /* ... with force */
    FL_BREAK = 0x80   /* ivm_lock_break before the reclaim */
};

#define NTEMPLATES 5

static ivm_region_t region;
static char region_path[64];
static uint8_t *templates[NTEMPLATES];
static struct ivm_layout tlayout[NTEMPLATES];
static uint64_t tpart[NTEMPLATES]; /* first partition of the template (patch area 3) */
static uint8_t key_a[IVM_ID_LEN];

static void join_as_self(ivm_region_t *r, const uint8_t key[IVM_ID_LEN], uint32_t rank,
                         ivm_member_t *m)
{
    ivm_join_opts_t jo = {.label = "fuzz-job",
                          .host = "fuzzhost",
                          .rank = rank,
                          .part_size = 2 * IVM_CHUNK_SIZE,
                          .lock_timeout_ms = 1000};
    memcpy(jo.key, key, IVM_ID_LEN);
    fz_must(ivm_job_join(r, &jo, m), r, "join");
}

/* Template images:
 *  0 zeroed (the first attacher formats it)
 *  1 formatted, default geometry, empty
 *  2 formatted; job A with this process (slot 0, ring word set) and three
 *    processes of another VM (fresh lease, expired lease, no lease); job B
 *    whose only process is of another VM with an expired lease
 *  3 formatted with one job and one slot, this process in it
 *  4 formatted with 200 jobs and 300 slots (heap at 128 KiB), job A */
static void build_templates(void)
{
    ivm_region_t *r = &region;
    ivm_member_t m;
    uint8_t key_b[IVM_ID_LEN];

    ivm_job_key_make(key_a, "fuzz-job-a", "token");
    ivm_job_key_make(key_b, "fuzz-job-b", "token");
    for (int t = 0; t < NTEMPLATES; t++) {
        memset(r->map.base, 0, r->map.size);
        fz_region_reset(r);
        switch (t) {
        case 0: break;
        case 1: fz_must(ivm_region_format(r, 0, 0), r, "format"); break;
        case 2:
            fz_must(ivm_region_format(r, 0, 0), r, "format");
            join_as_self(r, key_a, 0, &m);
            ivm_slot_user_set(r, m.slot, 0, m.part_off + IVM_CHUNK_SIZE);
            fz_foreign_slot(r, 1, m.job, 1, 1000);
            fz_foreign_slot(r, 2, m.job, 2, 3600u * 1000u);
            fz_foreign_slot(r, 3, m.job, 3, 0);
            join_as_self(r, key_b, 0, &m);
            {
                /* job B: hand our slot to a dead process of another VM */
                struct ivm_slot_entry *s =
                    (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off) + m.slot;
                memset(s->owner.vm_id, 0x5a, IVM_ID_LEN);
                atomic_store(&s->lease_ms, ivm_wall_ms() - 3600u * 1000u);
            }
            break;
        case 3:
            fz_must(ivm_region_format(r, 1, 1), r, "format");
            join_as_self(r, key_a, 0, &m);
            break;
        default:
            fz_must(ivm_region_format(r, 200, 300), r, "format");
            join_as_self(r, key_a, 0, &m);
            break;
        }
        fz_keep_template(r, t, templates, tlayout);
        tpart[t] = tlayout[t].heap_off;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fz_region_memfd(&region, FZ_REGION_SIZE, region_path);
    build_templates();
    return 0;
}

static void check_tables(ivm_region_t *r)
{
    const uint64_t heap_end = r->layout.heap_off + r->layout.heap_size;
    const uint64_t now_ms = ivm_wall_ms();
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry e;
        if (IVM_OK == ivm_job_read(r, j, &e) && IVM_JOB_ACTIVE == e.state) {
            FZ_CHECK(e.part_off >= r->layout.heap_off && e.part_size <= heap_end - e.part_off
                         && e.part_size > 0,
                     "job %u: partition %llu+%llu outside the heap", j,
                     (unsigned long long) e.part_off, (unsigned long long) e.part_size);
        }
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        uint64_t v;
        if (IVM_OK != ivm_slot_read(r, i, &s) || IVM_SLOT_CLAIMED != s.state) {
            continue;
        }
        FZ_CHECK(s.job < r->layout.job_count, "slot %u: job %u", i, s.job);
        (void) ivm_slot_liveness(r, &s, now_ms);
        (void) ivm_slot_verify(r, i, s.gen, s.nonce);
        (void) ivm_slot_user_get(r, i, s.job, s.job_gen, 0, &v);
        (void) ivm_slot_user_get(r, i, s.job, s.job_gen, 1, &v);
    }
}

static void join_and_leave(ivm_region_t *r, fz_t *f, uint8_t flags, uint8_t part_chunks)
{
    ivm_join_opts_t jo = {.label = "fuzz",
                          .host = "fuzz",
                          .rank = 7,
                          .part_size = (uint64_t) (part_chunks % 20) * IVM_CHUNK_SIZE,
                          .lock_timeout_ms = 0};
    ivm_member_t m;
    if (flags & FL_KEY_A) {
        memcpy(jo.key, key_a, IVM_ID_LEN);
    } else {
        ivm_job_key_make(jo.key, "fuzz-new-job", (flags & FL_FORCE) ? "x" : "y");
    }
    if (IVM_OK != ivm_job_join(r, &jo, &m)) {
        return;
    }
    const uint64_t heap_end = r->layout.heap_off + r->layout.heap_size;
    FZ_CHECK(m.part_off >= r->layout.heap_off && m.part_size > 0
                 && m.part_size <= heap_end - m.part_off && m.slot < r->layout.slot_count
                 && m.job < r->layout.job_count,
             "join returned partition %llu+%llu, slot %u, job %u", (unsigned long long) m.part_off,
             (unsigned long long) m.part_size, m.slot, m.job);
    FZ_CHECK(ivm_slot_verify(r, m.slot, m.slot_gen, m.nonce), "our own slot %u fails the proof",
             m.slot);

    ivm_heap_t h;
    int rc = ivm_heap_open(&h, r, m.part_off, m.part_size, 0);
    FZ_CHECK(!m.created_job || IVM_OK == rc, "a job just created has no heap: %s", r->errmsg);
    if (IVM_OK == rc) {
        uint64_t a = 0, b = 0;
        int ra = ivm_heap_alloc(&h, 64 + fz_u8(f), 64, &a);
        int rb = ivm_heap_alloc(&h, IVM_CHUNK_SIZE + 1, 64, &b);
        if (IVM_OK == ra) {
            FZ_CHECK(a >= m.part_off && a < m.part_off + m.part_size, "alloc outside");
            ivm_heap_free(&h, a);
        }
        if (IVM_OK == rb) {
            FZ_CHECK(b >= m.part_off && b < m.part_off + m.part_size, "alloc outside");
            ivm_heap_free(&h, b);
        }
    }
    ivm_slot_user_set(r, m.slot, 0, m.part_off);
    ivm_slot_lease_renew(r, m.slot, m.slot_gen);
    (void) ivm_job_leave(r, &m, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = {data, size};
    ivm_region_t *r = &region;
    uint8_t *base = r->map.base;
    const size_t map_size = r->map.size;

    const unsigned t = fz_u8(&f) % NTEMPLATES;
    const uint8_t flags = fz_u8(&f), remove_job = fz_u8(&f), part_chunks = fz_u8(&f);
    const uint8_t fmt_jobs = fz_u8(&f), fmt_slots = fz_u8(&f);

    fz_unfence(base, map_size);
    memcpy(base, templates[t], map_size);
    fz_region_reset(r);
    while (fz_patch(&f, base, map_size, &tlayout[t], tpart[t])) {
    }
    if (flags & FL_RESIGN) {
        struct ivm_superblock *sb = ivm_sb(r);
        sb->header_crc = ivm_superblock_crc(sb);
    }

    /* what ivmctl info does first, then what an MPI process does */
    (void) ivm_region_validate(r);
    fz_region_reset(r);
    r->lease_ms = (flags & FL_LEASE) ? 1 : 0;
    ivm_attach_opts_t o = {.timeout_ms = 0,
                           .allow_format = 0 != (flags & FL_FORMAT),
                           .job_count = fmt_jobs % 24,
                           .slot_count = fmt_slots % 48};
    if (IVM_OK != ivm_region_attach(r, &o)) {
        return 0;
    }
    FZ_CHECK(r->size > 0 && r->size <= map_size, "validated size %llu",
             (unsigned long long) r->size);
    /* past the validated size nothing may be touched */
    fz_fence(base, map_size, 0, r->size);

    check_tables(r);
    if (flags & FL_BREAK) {
        ivm_lock_break(r);
    }
    ivm_reclaim_stats_t st;
    (void) ivm_reclaim(r, 0, &st);
    if (flags & FL_JOIN) {
        join_and_leave(r, &f, flags, part_chunks);
    }
    if (flags & FL_REMOVE) {
        (void) ivm_job_remove(r, remove_job % (r->layout.job_count + 2), flags & FL_FORCE, 0, &st);
    }
    check_tables(r);
    FZ_CHECK(IVM_OK == ivm_region_validate(r),
             "the region no longer validates after our own "
             "operations: %s",
             r->errmsg);
    fz_unfence(base, map_size);
    return 0;
}
