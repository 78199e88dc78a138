/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Jobs and process slots.
 *
 * Several MPI jobs, started by different mpiruns in different VMs, share
 * one region.  Each job owns a partition of the heap, found by a 128-bit
 * job key that all of its processes compute alike and that no other job can
 * produce (ivm_job_key_make).  Each process owns a slot recording who it is
 * (VM, pid, start time) and a random nonce that peers read back to prove
 * they really share memory with it.  Table changes happen under the region
 * lock; the entries are re-validated every time they are read because a
 * peer in another VM can corrupt them at any moment.
 *
 * Readers (ivmctl, peers in other VMs) do not take the lock, so an entry is
 * published like this.  A creator, holding the lock, finds the entry FREE,
 * bumps gen, fills the fields, and then stores ACTIVE (CLAIMED) with
 * release; a free is a release store of FREE (a slot's nonce is cleared
 * first), the other fields stay.  A reader (read_entry) loads state with
 * acquire before it copies the fields, so the fields of the incarnation it
 * saw published are in its copy, and afterwards checks that state and gen
 * did not change while it copied: an entry freed and created again
 * meanwhile may have given it a mix of two incarnations. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common_ivm_core.h"

static struct ivm_job_entry *job_at(ivm_region_t *r, uint32_t i)
{
    return (struct ivm_job_entry *) (r->map.base + r->layout.job_table_off
                                     + (uint64_t) i * sizeof(struct ivm_job_entry));
}

static struct ivm_slot_entry *slot_at(ivm_region_t *r, uint32_t i)
{
    return (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off
                                      + (uint64_t) i * sizeof(struct ivm_slot_entry));
}

void ivm_job_key_make(uint8_t key[IVM_ID_LEN], const char *jobid, const char *launch_token)
{
    char buf[1024];
    snprintf(buf, sizeof(buf), "ivm-job\n%s\n%s", NULL != jobid ? jobid : "",
             NULL != launch_token ? launch_token : "");
    ivm_hash128(buf, strlen(buf), key);
}

/* A reader retries an entry that changed while it copied it: a creation or
 * a free, one per hold of the region lock, is over long before this many
 * tries.  An entry that keeps changing (a runaway peer) is reported busy. */
#define READ_TRIES 100

/* Copy the entry at @src (a job or slot entry: state, then gen) to @dst and
 * return, in @state, the state the copy belongs to.  False if the entry
 * kept changing.  Only @dst is used afterwards: the region is not read
 * again once the copy has been checked.  gen is a plain word of the format
 * (only the lock holder writes it): it is read through a volatile pointer,
 * exactly where written below, and the fences order it, as in a seqlock. */
static bool read_entry(void *dst, const void *src, size_t len, _Atomic uint32_t *state_word,
                       const volatile uint32_t *gen_word, uint32_t *state)
{
    for (unsigned it = 0; it < READ_TRIES; it++) {
        uint32_t gen = *gen_word;
        /* acquire: gen is read before state.  Pairs with the release fence
         * a creator issues before it bumps gen (publish_begin): a gen of a
         * new incarnation comes with a state no older than the free before
         * it, never with the previous incarnation's ACTIVE. */
        atomic_thread_fence(memory_order_acquire);
        /* acquire: pairs with the creator's release store of ACTIVE or
         * CLAIMED: the fields of the incarnation seen are in the copy below */
        uint32_t s = atomic_load_explicit(state_word, memory_order_acquire);
        memcpy(dst, src, len);
        /* acquire: pairs with the release fence a creator issues after
         * bumping gen and before writing a field (publish_begin): if the copy
         * holds any field of a later incarnation, the loads below see that
         * incarnation's gen, or the free before it */
        atomic_thread_fence(memory_order_acquire);
        /* acquire: a state published since the copy comes with its gen */
        uint32_t s_after = atomic_load_explicit(state_word, memory_order_acquire);
        if (s_after == s && *gen_word == gen) {
            *state = s;
            return true;
        }
        ivm_backoff(it);
    }
    return false;
}

/* A creator holding the region lock bumps the gen of a FREE entry before
 * writing its fields (see read_entry). */
static void publish_begin(uint32_t *gen)
{
    /* release: whoever sees the new gen also sees the free that came before
     * it (it happened before our lock acquisition) */
    atomic_thread_fence(memory_order_release);
    (*gen)++;
    /* release: whoever sees a field written after this also sees the new
     * gen, so a reader that copied it notices the change */
    atomic_thread_fence(memory_order_release);
}

int ivm_job_read(ivm_region_t *r, uint32_t idx, struct ivm_job_entry *out)
{
    uint32_t state;
    if (idx >= r->layout.job_count) {
        return ivm_error(r, IVM_ERR_INVALID, "job index %u out of range", idx);
    }
    struct ivm_job_entry *e = job_at(r, idx);
    if (!read_entry(out, e, sizeof(*out), &e->state, &e->gen, &state)) {
        return ivm_error(r, IVM_ERR_BUSY, "%s: job entry %u kept changing while it was read",
                         r->map.spec, idx);
    }
    atomic_store_explicit(&out->state, state, memory_order_relaxed);
    if (IVM_JOB_FREE == state) {
        return IVM_OK;
    }
    uint64_t heap_end = r->layout.heap_off + r->layout.heap_size;
    if (IVM_JOB_ACTIVE != state || out->part_off < r->layout.heap_off || out->part_off > heap_end
        || 0 == out->part_size || out->part_size > heap_end - out->part_off
        || 0 != out->part_off % IVM_CHUNK_SIZE || 0 != out->part_size % IVM_CHUNK_SIZE) {
        return ivm_error(r, IVM_ERR_CORRUPT,
                         "%s: job entry %u is corrupted (state %u, partition %llu+%llu)",
                         r->map.spec, idx, state, (unsigned long long) out->part_off,
                         (unsigned long long) out->part_size);
    }
    return IVM_OK;
}

int ivm_slot_read(ivm_region_t *r, uint32_t idx, struct ivm_slot_entry *out)
{
    uint32_t state;
    if (idx >= r->layout.slot_count) {
        return ivm_error(r, IVM_ERR_INVALID, "slot index %u out of range", idx);
    }
    struct ivm_slot_entry *e = slot_at(r, idx);
    if (!read_entry(out, e, sizeof(*out), &e->state, &e->gen, &state)) {
        return ivm_error(r, IVM_ERR_BUSY, "%s: slot %u kept changing while it was read",
                         r->map.spec, idx);
    }
    atomic_store_explicit(&out->state, state, memory_order_relaxed);
    if (IVM_SLOT_FREE == state) {
        return IVM_OK;
    }
    if (IVM_SLOT_CLAIMED != state || out->job >= r->layout.job_count) {
        return ivm_error(r, IVM_ERR_CORRUPT, "%s: slot %u is corrupted (state %u, job %u)",
                         r->map.spec, idx, state, out->job);
    }
    return IVM_OK;
}

static bool slot_in_job(const struct ivm_slot_entry *s, uint32_t job, uint32_t gen)
{
    /* relaxed: called with the region lock held, whose acquire ordered us
     * after every table change */
    return IVM_SLOT_CLAIMED == atomic_load_explicit(&s->state, memory_order_relaxed)
           && s->job == job && s->job_gen == gen;
}

static void free_slot(ivm_region_t *r, uint32_t i)
{
    struct ivm_slot_entry *s = slot_at(r, i);
    /* relaxed: ordered before the release store of FREE below, so no peer
     * that sees the slot free can still verify the old nonce */
    atomic_store_explicit(&s->nonce, 0, memory_order_relaxed);
    /* release: pairs with read_entry's acquire loads of state; the next
     * claim's field writes come after it (publish_begin) */
    atomic_store_explicit(&s->state, IVM_SLOT_FREE, memory_order_release);
}

/* Free every active job that no claimed slot references any more. */
static int free_empty_jobs(ivm_region_t *r, ivm_reclaim_stats_t *st)
{
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry job;
        int rc = ivm_job_read(r, j, &job);
        if (IVM_OK != rc) {
            return rc;
        }
        if (IVM_JOB_ACTIVE != job.state) {
            continue;
        }
        bool used = false;
        for (uint32_t i = 0; i < r->layout.slot_count && !used; i++) {
            used = slot_in_job(slot_at(r, i), j, job.gen);
        }
        if (!used) {
            /* release: pairs with read_entry's acquire loads of state; the
             * next creation's field writes come after it (publish_begin) */
            atomic_store_explicit(&job_at(r, j)->state, IVM_JOB_FREE, memory_order_release);
            st->jobs_freed++;
            st->bytes_freed += job.part_size;
        }
    }
    return IVM_OK;
}

int ivm_slot_liveness(const ivm_region_t *r, const struct ivm_slot_entry *s, uint64_t now_ms)
{
    int live = ivm_owner_liveness(&s->owner);
    /* /proc answers for our own VM; for another VM the lease is the only
     * evidence (and a same-VM process that /proc shows alive stays alive,
     * even stopped) */
    if (IVM_UNKNOWN == live && 0 != r->lease_ms
        && ivm_lease_expired_wall(s->lease_ms, now_ms, r->lease_ms)) {
        return IVM_DEAD;
    }
    return live;
}

/* Caller holds the region lock. */
static int reclaim_locked(ivm_region_t *r, ivm_reclaim_stats_t *st)
{
    const uint64_t now_ms = ivm_wall_ms();
    memset(st, 0, sizeof(*st));
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        int rc = ivm_slot_read(r, i, &s);
        if (IVM_OK != rc) {
            return rc;
        }
        if (IVM_SLOT_CLAIMED != s.state) {
            continue;
        }
        int live = ivm_slot_liveness(r, &s, now_ms);
        if (IVM_DEAD == live) {
            free_slot(r, i);
            st->slots_freed++;
        } else if (IVM_UNKNOWN == live) {
            st->slots_unknown++;
        }
    }
    return free_empty_jobs(r, st);
}

static int cmp_u64pair(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    return (x[0] > y[0]) - (x[0] < y[0]);
}

/* First fit over the gaps between active partitions (sorted, checked for
 * overlap, which only corruption can produce). */
static int alloc_partition(ivm_region_t *r, uint64_t size, uint64_t *off)
{
    uint64_t(*parts)[2] = calloc(r->layout.job_count, sizeof(*parts));
    uint32_t n = 0;
    int rc = IVM_OK;
    if (NULL == parts) {
        return ivm_error(r, IVM_ERR_SYSTEM, "out of memory");
    }
    for (uint32_t j = 0; j < r->layout.job_count && IVM_OK == rc; j++) {
        struct ivm_job_entry job;
        rc = ivm_job_read(r, j, &job);
        if (IVM_OK == rc && IVM_JOB_ACTIVE == job.state) {
            parts[n][0] = job.part_off;
            parts[n++][1] = job.part_size;
        }
    }
    qsort(parts, n, sizeof(*parts), cmp_u64pair);
    uint64_t cursor = r->layout.heap_off, end = r->layout.heap_off + r->layout.heap_size;
    uint64_t used = 0, largest = 0;
    bool found = false;
    for (uint32_t k = 0; k <= n && IVM_OK == rc && !found; k++) {
        uint64_t next = (k < n) ? parts[k][0] : end;
        if (next < cursor) {
            rc = ivm_error(r, IVM_ERR_CORRUPT, "%s: job partitions overlap", r->map.spec);
            break;
        }
        if (next - cursor >= size) {
            *off = cursor;
            found = true;
        }
        largest = (next - cursor > largest) ? next - cursor : largest;
        if (k < n) {
            cursor = parts[k][0] + parts[k][1];
            used += parts[k][1];
        }
    }
    free(parts);
    if (IVM_OK == rc && !found) {
        rc = ivm_error(r, IVM_ERR_NO_SPACE,
                       "%s: no room for a %llu-byte job partition (heap %llu bytes, %u jobs "
                       "use %llu, largest free gap %llu); use a bigger device, a smaller "
                       "partition size, or 'ivmctl clean' to reclaim dead jobs",
                       r->map.spec, (unsigned long long) size,
                       (unsigned long long) r->layout.heap_size, n, (unsigned long long) used,
                       (unsigned long long) largest);
    }
    return rc;
}

static int find_job(ivm_region_t *r, const uint8_t key[IVM_ID_LEN], uint32_t *idx)
{
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry job;
        int rc = ivm_job_read(r, j, &job);
        if (IVM_OK != rc) {
            return rc;
        }
        if (IVM_JOB_ACTIVE == job.state && 0 == memcmp(job.key, key, IVM_ID_LEN)) {
            *idx = j;
            return IVM_OK;
        }
    }
    return IVM_ERR_NOT_FOUND;
}

static int create_job(ivm_region_t *r, const ivm_join_opts_t *o, uint32_t *idx)
{
    uint64_t size = (o->part_size + IVM_CHUNK_SIZE - 1) / IVM_CHUNK_SIZE * IVM_CHUNK_SIZE;
    uint64_t off = 0;
    if (size < ivm_heap_min_partition()) {
        size = ivm_heap_min_partition();
    }
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry *e = job_at(r, j);
        /* acquire: pairs with the release store of FREE, so the free is
         * complete before we reuse the entry (we hold the region lock) */
        if (IVM_JOB_FREE != atomic_load_explicit(&e->state, memory_order_acquire)) {
            continue;
        }
        int rc = alloc_partition(r, size, &off);
        if (IVM_OK == rc) {
            rc = ivm_heap_init(r, off, size); /* before ACTIVE: joiners find it ready */
        }
        if (IVM_OK != rc) {
            return rc;
        }
        publish_begin(&e->gen);
        memcpy(e->key, o->key, IVM_ID_LEN);
        e->part_off = off;
        e->part_size = size;
        e->create_time = ivm_now_sec();
        ivm_copy_label(e->label, sizeof(e->label), o->label);
        /* relaxed: published by the release store of ACTIVE below */
        atomic_store_explicit(&e->part_user, 0, memory_order_relaxed);
        /* release: pairs with read_entry's acquire load of state: a reader
         * that sees ACTIVE sees the gen and every field written above */
        atomic_store_explicit(&e->state, IVM_JOB_ACTIVE, memory_order_release);
        *idx = j;
        return IVM_OK;
    }
    return ivm_error(r, IVM_ERR_NO_SPACE,
                     "%s: all %u job entries are in use; 'ivmctl clean' reclaims dead jobs",
                     r->map.spec, r->layout.job_count);
}

static int claim_slot(ivm_region_t *r, const ivm_join_opts_t *o, uint32_t job, ivm_member_t *m)
{
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry *s = slot_at(r, i);
        /* acquire: as for job entries in create_job */
        if (IVM_SLOT_FREE != atomic_load_explicit(&s->state, memory_order_acquire)) {
            continue;
        }
        uint64_t nonce = 0;
        while (0 == nonce) {
            if (IVM_OK != ivm_random_bytes(&nonce, sizeof(nonce))) {
                return ivm_error(r, IVM_ERR_SYSTEM, "getrandom failed");
            }
        }
        publish_begin(&s->gen);
        s->job = job;
        s->job_gen = job_at(r, job)->gen;
        ivm_owner_self(&s->owner);
        s->claim_time = ivm_now_sec();
        s->rank = o->rank;
        ivm_copy_label(s->host, sizeof(s->host), o->host);
        /* relaxed, these three: published by the release store of CLAIMED */
        for (unsigned k = 0; k < IVM_SLOT_USER_WORDS; k++) {
            atomic_store_explicit(&s->user[k], 0, memory_order_relaxed);
        }
        /* alive from the claim on; the owner's lease thread takes over */
        atomic_store_explicit(&s->lease_ms, ivm_wall_ms(), memory_order_relaxed);
        atomic_store_explicit(&s->nonce, nonce, memory_order_relaxed);
        /* release: pairs with read_entry's acquire load of state (and
         * ivm_slot_verify's): a reader that sees CLAIMED sees the gen, the
         * nonce and every field written above */
        atomic_store_explicit(&s->state, IVM_SLOT_CLAIMED, memory_order_release);
        m->slot = i;
        m->slot_gen = s->gen;
        m->nonce = nonce;
        m->job = job;
        m->job_gen = s->job_gen;
        return IVM_OK;
    }
    return ivm_error(r, IVM_ERR_NO_SPACE,
                     "%s: all %u process slots are in use; 'ivmctl clean' reclaims slots of "
                     "dead processes",
                     r->map.spec, r->layout.slot_count);
}

int ivm_job_join(ivm_region_t *r, const ivm_join_opts_t *o, ivm_member_t *m)
{
    ivm_reclaim_stats_t st;
    uint64_t token;
    uint32_t job = 0;

    memset(m, 0, sizeof(*m));
    int rc = ivm_lock_acquire(r, o->lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    rc = reclaim_locked(r, &st);
    if (IVM_OK == rc) {
        rc = find_job(r, o->key, &job);
        if (IVM_ERR_NOT_FOUND == rc) {
            rc = create_job(r, o, &job);
            m->created_job = (IVM_OK == rc);
        }
    }
    if (IVM_OK == rc) {
        rc = claim_slot(r, o, job, m);
        if (IVM_OK != rc && m->created_job) {
            ivm_reclaim_stats_t unused = {0};
            free_empty_jobs(r, &unused); /* do not leak the partition we just made */
        }
    }
    if (IVM_OK == rc) {
        struct ivm_job_entry je;
        rc = ivm_job_read(r, job, &je);
        m->part_off = je.part_off;
        m->part_size = je.part_size;
        /* relaxed: a diagnostic counter, under the region lock */
        atomic_fetch_add_explicit(&ivm_sb(r)->change_count, 1, memory_order_relaxed);
    }
    ivm_lock_release(r, token);
    return rc;
}

int ivm_job_leave(ivm_region_t *r, const ivm_member_t *m, unsigned lock_timeout_ms)
{
    ivm_reclaim_stats_t st = {0};
    struct ivm_slot_entry s;
    struct ivm_owner me;
    uint64_t token;

    int rc = ivm_lock_acquire(r, lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    ivm_owner_self(&me);
    rc = ivm_slot_read(r, m->slot, &s);
    if (IVM_OK == rc) {
        /* Release only what is still ours: an admin may have cleaned it. */
        if (IVM_SLOT_CLAIMED == s.state && s.gen == m->slot_gen && s.owner.pid == me.pid
            && ivm_owner_same_vm(&s.owner, &me)) {
            free_slot(r, m->slot);
        }
        rc = free_empty_jobs(r, &st);
        atomic_fetch_add_explicit(&ivm_sb(r)->change_count, 1, memory_order_relaxed);
    }
    ivm_lock_release(r, token);
    return rc;
}

int ivm_reclaim(ivm_region_t *r, unsigned lock_timeout_ms, ivm_reclaim_stats_t *st)
{
    uint64_t token;
    int rc = ivm_lock_acquire(r, lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    rc = reclaim_locked(r, st);
    atomic_fetch_add_explicit(&ivm_sb(r)->change_count, 1, memory_order_relaxed);
    ivm_lock_release(r, token);
    return rc;
}

/* ivmctl clean --job: never frees a job with a provably live process; with
 * force it frees one whose processes live in other VMs (the admin vouches
 * that they are gone). */
static int remove_locked(ivm_region_t *r, uint32_t job, bool force, ivm_reclaim_stats_t *st)
{
    struct ivm_job_entry je;
    int rc = ivm_job_read(r, job, &je);
    if (IVM_OK != rc) {
        return rc;
    }
    if (IVM_JOB_ACTIVE != je.state) {
        return ivm_error(r, IVM_ERR_NOT_FOUND, "job %u is not active", job);
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        if (IVM_OK != ivm_slot_read(r, i, &s) || !slot_in_job(&s, job, je.gen)) {
            continue;
        }
        int live = ivm_owner_liveness(&s.owner);
        if (IVM_ALIVE == live || (IVM_UNKNOWN == live && !force)) {
            return ivm_error(
                r, IVM_ERR_BUSY, "job %u: process %llu in slot %u is %s; not removing it%s", job,
                (unsigned long long) s.owner.pid, i, IVM_ALIVE == live ? "alive" : "in another VM",
                IVM_ALIVE == live ? "" : " (use --force if that VM's job is gone)");
        }
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        if (slot_in_job(slot_at(r, i), job, je.gen)) {
            free_slot(r, i);
            st->slots_freed++;
        }
    }
    return free_empty_jobs(r, st);
}

int ivm_job_remove(ivm_region_t *r, uint32_t job, bool force, unsigned lock_timeout_ms,
                   ivm_reclaim_stats_t *st)
{
    uint64_t token;
    memset(st, 0, sizeof(*st));
    int rc = ivm_lock_acquire(r, lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    rc = remove_locked(r, job, force, st);
    atomic_fetch_add_explicit(&ivm_sb(r)->change_count, 1, memory_order_relaxed);
    ivm_lock_release(r, token);
    return rc;
}

/* The co-location proof: the peer said (through the modex) that it owns
 * slot @slot with @nonce; only memory really shared with it shows that. */
int ivm_slot_verify(ivm_region_t *r, uint32_t slot, uint32_t slot_gen, uint64_t nonce)
{
    if (slot >= r->layout.slot_count || 0 == nonce) {
        return 0;
    }
    struct ivm_slot_entry *s = slot_at(r, slot);
    /* acquire: pairs with claim_slot's release store of CLAIMED, so gen and
     * nonce are the claimer's */
    return IVM_SLOT_CLAIMED == atomic_load_explicit(&s->state, memory_order_acquire)
           && s->gen == slot_gen && atomic_load_explicit(&s->nonce, memory_order_relaxed) == nonce;
}

/* Owner-defined words of a slot (e.g. where the owner's receive ring is). */
int ivm_slot_user_set(ivm_region_t *r, uint32_t slot, unsigned k, uint64_t value)
{
    if (slot >= r->layout.slot_count || k >= IVM_SLOT_USER_WORDS) {
        return IVM_ERR_INVALID;
    }
    /* release: whatever @value points to is initialised before it */
    atomic_store_explicit(&slot_at(r, slot)->user[k], value, memory_order_release);
    return IVM_OK;
}

void ivm_slot_lease_renew(ivm_region_t *r, uint32_t slot, uint32_t gen)
{
    if (slot >= r->layout.slot_count) {
        return;
    }
    struct ivm_slot_entry *s = slot_at(r, slot);
    /* only while the slot is still ours: once reclaimed it may be another
     * process's; relaxed, the lease carries no other data */
    if (IVM_SLOT_CLAIMED == atomic_load_explicit(&s->state, memory_order_acquire)
        && gen == *(volatile uint32_t *) &s->gen) {
        atomic_store_explicit(&s->lease_ms, ivm_wall_ms(), memory_order_relaxed);
    }
}

/* A peer's user word, only if the slot is claimed by a member of @job. */
int ivm_slot_user_get(ivm_region_t *r, uint32_t slot, uint32_t job, uint32_t job_gen, unsigned k,
                      uint64_t *value)
{
    struct ivm_slot_entry s;
    if (k >= IVM_SLOT_USER_WORDS || IVM_OK != ivm_slot_read(r, slot, &s)
        || IVM_SLOT_CLAIMED != s.state) {
        return ivm_error(r, IVM_ERR_NOT_FOUND, "slot %u is not in use", slot);
    }
    if (s.job != job || s.job_gen != job_gen) {
        return ivm_error(r, IVM_ERR_NOT_FOUND, "slot %u belongs to another job", slot);
    }
    /* acquire: pairs with ivm_slot_user_set's release store */
    *value = atomic_load_explicit(&slot_at(r, slot)->user[k], memory_order_acquire);
    return IVM_OK;
}
