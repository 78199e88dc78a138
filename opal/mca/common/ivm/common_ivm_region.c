/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The region format: layout, race-free formatting by the first attacher,
 * validation of everything the superblock claims, and the uncached-mapping
 * probe. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common_ivm_core.h"

#define IVM_FORMAT_WAIT_DEFAULT_MS 10000u

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

struct ivm_superblock *ivm_sb(const ivm_region_t *r)
{
    return (struct ivm_superblock *) r->map.base;
}

uint8_t *ivm_ptr(const ivm_region_t *r, uint64_t off, uint64_t len)
{
    if (off > r->size || len > r->size - off) {
        return NULL;
    }
    return r->map.base + off;
}

/* Defaults scale with the region: one slot per 256 KiB (bounded), a job
 * entry per four slots. */
static void default_counts(uint64_t size, uint32_t *jobs, uint32_t *slots)
{
    if (0 == *slots) {
        uint64_t s = size / (256u * 1024u);
        *slots = (uint32_t) (s < 32 ? 32 : (s > 1024 ? 1024 : s));
    }
    if (0 == *jobs) {
        uint32_t j = *slots / 4;
        *jobs = j < 16 ? 16 : (j > 256 ? 256 : j);
    }
}

/* The one place that decides where everything lives. */
int ivm_layout_compute(uint64_t region_size, uint32_t job_count, uint32_t slot_count,
                       struct ivm_layout *l)
{
    memset(l, 0, sizeof(*l));
    if (0 == job_count || job_count > IVM_JOB_COUNT_MAX || 0 == slot_count
        || slot_count > IVM_SLOT_COUNT_MAX) {
        return IVM_ERR_INVALID;
    }
    l->job_count = job_count;
    l->job_entry_size = sizeof(struct ivm_job_entry);
    l->slot_count = slot_count;
    l->slot_entry_size = sizeof(struct ivm_slot_entry);
    l->chunk_size = IVM_CHUNK_SIZE;
    l->job_table_off = IVM_SB_SIZE;
    l->slot_table_off =
        align_up(l->job_table_off + (uint64_t) job_count * l->job_entry_size, IVM_CACHELINE);
    l->heap_off =
        align_up(l->slot_table_off + (uint64_t) slot_count * l->slot_entry_size, IVM_CHUNK_SIZE);
    if (region_size < l->heap_off + IVM_CHUNK_SIZE) {
        return IVM_ERR_TOO_SMALL;
    }
    l->heap_size = (region_size - l->heap_off) / IVM_CHUNK_SIZE * IVM_CHUNK_SIZE;
    return IVM_OK;
}

/* A stored layout is valid only if it is exactly what ivm_layout_compute()
 * gives for its own counts: no other geometry can be trusted. */
int ivm_layout_check(const struct ivm_layout *l, uint64_t region_size, char *why, size_t len)
{
    struct ivm_layout expect;
    int rc = ivm_layout_compute(region_size, l->job_count, l->slot_count, &expect);
    if (IVM_OK != rc) {
        snprintf(why, len, "job count %u / slot count %u impossible for %llu bytes", l->job_count,
                 l->slot_count, (unsigned long long) region_size);
        return IVM_ERR_CORRUPT;
    }
    if (0 != memcmp(&expect, l, sizeof(expect))) {
        snprintf(why, len, "table offsets do not match the layout for %u jobs and %u slots",
                 l->job_count, l->slot_count);
        return IVM_ERR_CORRUPT;
    }
    return IVM_OK;
}

uint32_t ivm_superblock_crc(const struct ivm_superblock *sb)
{
    /* The static fields are plain (non-atomic) except state, which is
     * excluded: it changes after the checksum is written. */
    uint32_t crc = ivm_crc32c(0, &sb->magic, sizeof(sb->magic));
    crc = ivm_crc32c(crc, &sb->version, sizeof(sb->version));
    return ivm_crc32c(crc, &sb->region_size,
                      offsetof(struct ivm_superblock, header_crc)
                          - offsetof(struct ivm_superblock, region_size));
}

int ivm_region_open(ivm_region_t *r, const char *spec, bool readonly)
{
    memset(r, 0, sizeof(*r));
    r->map.fd = -1;
    return ivm_map(&r->map, spec, readonly, r->errmsg, sizeof(r->errmsg));
}

void ivm_region_close(ivm_region_t *r)
{
    ivm_unmap(&r->map);
    r->size = 0;
}

/* Classify a superblock that is not READY, or READY but of another version. */
static int foreign_or_version(ivm_region_t *r, const struct ivm_superblock *sb)
{
    if (IVM_MAGIC == sb->magic && IVM_FORMAT_VERSION != sb->version) {
        return ivm_error(r, IVM_ERR_VERSION,
                         "%s holds an ivm region of format version %u; this build reads "
                         "version %u (reformat it with 'ivmctl format' once no job uses it)",
                         r->map.spec, sb->version, IVM_FORMAT_VERSION);
    }
    if (IVM_MAGIC != sb->magic) {
        return ivm_error(r, IVM_ERR_BAD_MAGIC,
                         "%s is neither zeroed nor an ivm region (magic 0x%016llx); "
                         "format it with 'ivmctl format %s'",
                         r->map.spec, (unsigned long long) sb->magic, r->map.spec);
    }
    return IVM_OK;
}

int ivm_region_validate(ivm_region_t *r)
{
    struct ivm_superblock copy;
    char why[256];

    /* acquire: pairs with the formatter's release store of READY
     * (write_format): loaded before the copy, so a READY seen here comes
     * with the static fields it published.  A copy torn by a reformat
     * racing it (ivmctl format --force) fails the checksum below. */
    uint32_t state = atomic_load_explicit(&ivm_sb(r)->state, memory_order_acquire);
    /* Work on a snapshot: peers may scribble on the live page meanwhile. */
    memcpy(&copy, r->map.base, offsetof(struct ivm_superblock, lock));
    int rc = foreign_or_version(r, &copy);
    if (IVM_OK != rc) {
        return rc;
    }
    if (IVM_SB_READY != state) {
        return ivm_error(r, IVM_ERR_CORRUPT, "%s: superblock state 0x%08x is not 'ready'",
                         r->map.spec, state);
    }
    if (copy.header_crc != ivm_superblock_crc(&copy)) {
        return ivm_error(r, IVM_ERR_CORRUPT, "%s: superblock checksum mismatch", r->map.spec);
    }
    if (copy.region_size > r->map.size) {
        return ivm_error(r, IVM_ERR_TOO_SMALL,
                         "%s: formatted for %llu bytes but only %zu bytes are mapped", r->map.spec,
                         (unsigned long long) copy.region_size, r->map.size);
    }
    if (IVM_OK != ivm_layout_check(&copy.layout, copy.region_size, why, sizeof(why))) {
        return ivm_error(r, IVM_ERR_CORRUPT, "%s: %s", r->map.spec, why);
    }
    r->size = copy.region_size;
    r->layout = copy.layout;
    memcpy(r->region_id, copy.region_id, IVM_ID_LEN);
    return IVM_OK;
}

static bool superblock_is_zero(const ivm_region_t *r)
{
    static const uint8_t zero[IVM_SB_SIZE];
    return 0 == memcmp(r->map.base, zero, IVM_SB_SIZE);
}

/* Called by the single winner of the 0 -> FORMATTING transition (or by an
 * explicit format).  Publishes with a release store of READY, after which
 * no static field changes again. */
static void write_format(ivm_region_t *r, const struct ivm_layout *l, const uint8_t id[16])
{
    struct ivm_superblock *sb = ivm_sb(r);
    memset(r->map.base + l->job_table_off, 0, l->heap_off - l->job_table_off);
    memset((uint8_t *) sb + offsetof(struct ivm_superblock, lock), 0,
           IVM_SB_SIZE - offsetof(struct ivm_superblock, lock));
    sb->magic = IVM_MAGIC;
    sb->version = IVM_FORMAT_VERSION;
    sb->region_size = r->map.size;
    memcpy(sb->region_id, id, IVM_ID_LEN);
    sb->format_time = ivm_now_sec();
    sb->layout = *l;
    sb->pad0 = 0;
    sb->header_crc = ivm_superblock_crc(sb);
    /* pairs with the acquire load in ivm_region_attach/validate */
    atomic_store_explicit(&sb->state, IVM_SB_READY, memory_order_release);
}

static int prepare_format(ivm_region_t *r, uint32_t jobs, uint32_t slots, struct ivm_layout *l,
                          uint8_t id[16])
{
    default_counts(r->map.size, &jobs, &slots);
    int rc = ivm_layout_compute(r->map.size, jobs, slots, l);
    if (IVM_ERR_TOO_SMALL == rc) {
        return ivm_error(r, rc, "%s: %zu bytes cannot hold %u jobs and %u slots", r->map.spec,
                         r->map.size, jobs, slots);
    }
    if (IVM_OK != rc) {
        return ivm_error(r, rc, "invalid job count %u or slot count %u", jobs, slots);
    }
    if (IVM_OK != ivm_random_bytes(id, IVM_ID_LEN)) {
        return ivm_error(r, IVM_ERR_SYSTEM, "getrandom failed");
    }
    return IVM_OK;
}

int ivm_region_format(ivm_region_t *r, uint32_t job_count, uint32_t slot_count)
{
    struct ivm_layout l;
    uint8_t id[IVM_ID_LEN];
    int rc = prepare_format(r, job_count, slot_count, &l, id);
    if (IVM_OK != rc) {
        return rc;
    }
    atomic_store_explicit(&ivm_sb(r)->state, IVM_SB_FORMATTING, memory_order_relaxed);
    atomic_thread_fence(memory_order_seq_cst);
    write_format(r, &l, id);
    return ivm_region_validate(r);
}

static int try_format_zeroed(ivm_region_t *r, const ivm_attach_opts_t *o, bool *formatted)
{
    struct ivm_layout l;
    uint8_t id[IVM_ID_LEN];
    uint32_t expect = IVM_SB_ZERO;

    *formatted = false;
    if (!superblock_is_zero(r)) {
        /* A formatter's CAS comes before its other stores: if state reads
         * non-zero now, our earlier zero was stale and the caller retries. */
        atomic_thread_fence(memory_order_seq_cst);
        if (IVM_SB_ZERO != atomic_load_explicit(&ivm_sb(r)->state, memory_order_acquire)) {
            return IVM_OK;
        }
        int rc = foreign_or_version(r, ivm_sb(r));
        return (IVM_OK != rc)
                   ? rc
                   : ivm_error(r, IVM_ERR_CORRUPT,
                               "%s: ivm magic present but superblock state is zero", r->map.spec);
    }
    if (!o->allow_format) {
        return ivm_error(r, IVM_ERR_BAD_MAGIC, "%s is not formatted; run 'ivmctl format %s'",
                         r->map.spec, r->map.spec);
    }
    int rc = prepare_format(r, o->job_count, o->slot_count, &l, id);
    if (IVM_OK != rc) {
        return rc;
    }
    /* Exactly one attacher, in any VM, wins this CAS; the others wait for
     * READY and then all see the same region id. */
    if (atomic_compare_exchange_strong_explicit(&ivm_sb(r)->state, &expect, IVM_SB_FORMATTING,
                                                memory_order_acq_rel, memory_order_acquire)) {
        write_format(r, &l, id);
        *formatted = true;
    }
    return IVM_OK;
}

int ivm_region_attach(ivm_region_t *r, const ivm_attach_opts_t *opts)
{
    ivm_attach_opts_t o = {IVM_FORMAT_WAIT_DEFAULT_MS, true, 0, 0};
    uint64_t deadline;

    if (NULL != opts) {
        o = *opts;
    }
    deadline = ivm_now_ms() + o.timeout_ms;
    for (unsigned it = 0;; it++) {
        uint32_t state = atomic_load_explicit(&ivm_sb(r)->state, memory_order_acquire);
        if (IVM_SB_READY == state) {
            return ivm_region_validate(r);
        }
        if (IVM_SB_ZERO == state) {
            bool formatted;
            int rc = try_format_zeroed(r, &o, &formatted);
            if (IVM_OK != rc || formatted) {
                return (IVM_OK != rc) ? rc : ivm_region_validate(r);
            }
            /* lost the race: wait for the winner, within the deadline (a
             * word that keeps reading ZERO must not hold us forever) */
        } else if (IVM_SB_FORMATTING != state) {
            int rc = foreign_or_version(r, ivm_sb(r));
            return (IVM_OK != rc)
                       ? rc
                       : ivm_error(r, IVM_ERR_CORRUPT, "%s: invalid superblock state 0x%08x",
                                   r->map.spec, state);
        }
        if (ivm_now_ms() > deadline) {
            return ivm_error(r, IVM_ERR_TIMEOUT,
                             "%s is still being formatted after %u ms (did the formatting "
                             "process die?); run 'ivmctl format --force %s'",
                             r->map.spec, o.timeout_ms, r->map.spec);
        }
        ivm_backoff(it);
    }
}

static double time_copy_ns(void *dst, const void *src, size_t len)
{
    double best = 1e30;
    for (int rep = 0; rep < 5; rep++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        memcpy(dst, src, len);
        __asm__ __volatile__("" ::"r"(dst) : "memory");
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ns = (double) (b.tv_sec - a.tv_sec) * 1e9 + (double) (b.tv_nsec - a.tv_nsec);
        best = ns < best ? ns : best;
    }
    return best;
}

/* sysfs resource and UIO "phys" mappings are created uncached; under KVM on
 * AMD hosts that is real.  Reading the region then costs 10-100x more than
 * reading ordinary memory, which a timed read shows.  Reads only: the
 * region is live. */
int ivm_mapping_read_ratio(const ivm_mapping_t *m, size_t off, size_t len, double *ratio)
{
    if (off > m->size || len > m->size - off || 0 == len) {
        return IVM_ERR_INVALID;
    }
    uint8_t *local = malloc(2 * len);
    if (NULL == local) {
        return IVM_ERR_SYSTEM;
    }
    memset(local, 1, 2 * len);
    double t_local = time_copy_ns(local + len, local, len);
    double t_region = time_copy_ns(local + len, m->base + off, len);
    free(local);
    *ratio = (t_local > 0) ? t_region / t_local : 1.0;
    return IVM_OK;
}

/* The components time a read of the heap (what their transfers read). */
int ivm_region_probe_uncached(ivm_region_t *r, double threshold)
{
    size_t len = IVM_UNCACHED_PROBE_LEN;
    if (len > r->layout.heap_size) {
        len = r->layout.heap_size;
    }
    int rc = ivm_mapping_read_ratio(&r->map, r->layout.heap_off, len, &r->uncached_ratio);
    if (IVM_OK != rc) {
        r->uncached_ratio = 1.0;
        return ivm_error(r, rc, "cannot time a read of %s", r->map.spec);
    }
    r->uncached = r->uncached_ratio > threshold;
    return IVM_OK;
}
