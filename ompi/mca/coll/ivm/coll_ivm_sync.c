/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Synchronisation inside a group's area: bounded waits on tokens, the
 * channel protocol (common_ivm_layout_coll.h) and the tree barrier.
 *
 * Peers run other kernels, so a wait can only poll memory.  It spins,
 * keeping MPI progressing (opal_progress), for up to opal_common_ivm_spin_time
 * microseconds: a peer on another CPU answers within a few hundred
 * nanoseconds.  Past that the awaited peer is probably not running (ranks
 * outnumber CPUs, or it is still computing), and the wait sleeps between
 * polls (opal_common_ivm_sleep_time), which hands the CPU to whatever else is
 * runnable.  sched_yield() would not do: it yields only within the
 * caller's scheduling group, and processes of different VMs (different
 * sessions, hence autogroups, in the emulated VMs) would then get the CPU
 * only when the time slice ends, milliseconds later.
 *
 * While it waits it checks, every coll_ivm_liveness_interval ms, that the
 * awaited process still holds its slot in the region, that it is alive
 * when it is in our VM, and that it keeps renewing its lease (any VM:
 * opal_common_ivm_lease, 30 s by default), and it gives up after
 * coll_ivm_timeout seconds if that is set.  So no wait outlives a dead
 * peer by more than a lease.  A wait that fails leaves the group's tokens out
 * of step, so the group is marked broken and every later call on it
 * fails. */

#include "ompi_config.h"

#include <string.h>

#include "opal/mca/btl/base/base.h"
#include "opal/runtime/opal_progress.h"
#include "opal/util/show_help.h"
#include "opal/util/proc.h"

#include "coll_ivm.h"

#define SPIN_PER_ROUND 64

/* Is the process behind @member still there?  NULL if so, else why not. */
static const char *member_gone(coll_ivm_group_t *g, int member, uint64_t now_ns)
{
    coll_ivm_member_t *mb = &g->member[member];
    return ivm_slot_gone(&g->dev->region, mb->slot, mb->slot_gen, mb->nonce, &mb->lease, now_ns);
}

static int wait_failed(coll_ivm_group_t *g, int member, const char *why)
{
    g->broken = true;
    opal_show_help("help-mpi-coll-ivm.txt", "wait-failed", true, opal_process_info.nodename,
                   g->member[member].rank, why);
    return OMPI_ERR_TIMEOUT;
}

int coll_ivm_wait(coll_ivm_group_t *g, _Atomic uint64_t *word, uint64_t target, int member)
{
    const mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    const uint64_t check_ns = (uint64_t) c->liveness_interval_ms * 1000000u;
    const uint64_t limit_ns = (uint64_t) c->timeout * 1000000000u;
    uint64_t start = 0, next_check = 0;

    if (OPAL_UNLIKELY(g->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    for (unsigned round = 0;; round++) {
        for (int k = 0; k < SPIN_PER_ROUND; k++) {
            if (coll_ivm_tok_reached(atomic_load_explicit(word, memory_order_acquire), target)) {
                return OMPI_SUCCESS;
            }
            ivm_cpu_relax();
        }
        opal_progress();
        uint64_t now = ivm_now_ns();
        if (0 == round) {
            start = now;
            next_check = now + check_ns;
            continue;
        }
        ivm_pace(now - start, mca_common_ivm_params.spin_time_us,
                 mca_common_ivm_params.sleep_time_us);
        if (now >= next_check) {
            next_check = now + check_ns;
            const char *why = member_gone(g, member, now);
            if (NULL != why) {
                return wait_failed(g, member, why);
            }
            if (0 != limit_ns && now - start > limit_ns) {
                return wait_failed(g, member, "coll_ivm_timeout expired");
            }
        }
    }
}

static inline uint64_t *last_tok(coll_ivm_group_t *g, unsigned ch, uint64_t seq,
                                 uint64_t chunk_index)
{
    return &g->last_tok[ch * g->geom.nbuf + coll_ivm_buf_index(g, seq, chunk_index)];
}

int coll_ivm_chan_acquire(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint64_t chunk_index)
{
    uint64_t need = *last_tok(g, ch, seq, chunk_index);
    for (int j = 0; j < g->n; j++) {
        if (j == g->me) {
            continue;
        }
        /* acquire: pairs with the reader's release store of done (its reads
         * of this buffer happened before) */
        int rc = coll_ivm_wait(g, &coll_ivm_ctl(g, j)->done[ch], need, j);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
    }
    return OMPI_SUCCESS;
}

void coll_ivm_chan_publish(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint32_t chunk_index)
{
    uint64_t tok = coll_ivm_tok(seq, chunk_index);
    *last_tok(g, ch, seq, chunk_index) = tok;
    /* release: the chunk's bytes are visible before the token (pairs with
     * the acquire load in coll_ivm_wait of the readers) */
    atomic_store_explicit(&coll_ivm_ctl(g, g->me)->ready[ch], tok, memory_order_release);
}

int coll_ivm_chan_wait(coll_ivm_group_t *g, unsigned ch, int member, uint64_t seq,
                       uint32_t chunk_index)
{
    return coll_ivm_wait(g, &coll_ivm_ctl(g, member)->ready[ch], coll_ivm_tok(seq, chunk_index),
                         member);
}

void coll_ivm_chan_done(coll_ivm_group_t *g, unsigned ch, uint64_t tok)
{
    /* release: our reads of the buffers complete before the writer may
     * reuse them (pairs with the acquire in coll_ivm_chan_acquire) */
    atomic_store_explicit(&coll_ivm_ctl(g, g->me)->done[ch], tok, memory_order_release);
}

/* One progress round of every BTL; returns the events found. */
static int drain_round(void)
{
    mca_btl_base_selected_module_t *sm;
    int n = 0;

    OPAL_LIST_FOREACH(sm, &mca_btl_base_modules_initialized, mca_btl_base_selected_module_t)
    {
        if (NULL != sm->btl_component->btl_progress) {
            n += sm->btl_component->btl_progress();
        }
    }
    return n;
}

/* After a barrier: every peer posted its earlier point-to-point messages to
 * us before it published its arrival, so they are in btl/ivm's queues now,
 * or, from a peer of our VM, in vader's; deliver them before returning
 * (bounded, in case peers keep sending).  Every BTL is asked because
 * opal_progress does not say when it found nothing. */
void coll_ivm_drain_btl(void)
{
    for (int k = 0; k < 1024 && drain_round() > 0; k++) {
    }
}

/* Fan-in over a tree of degree g->degree rooted at member 0: a member
 * announces arrival once its children's subtrees have arrived. */
int coll_ivm_fanin(coll_ivm_group_t *g, uint64_t seq)
{
    uint64_t first = (uint64_t) g->me * g->degree + 1;
    for (uint64_t k = first; k < first + g->degree && k < (uint64_t) g->n; k++) {
        int rc = coll_ivm_wait(g, &coll_ivm_ctl(g, (int) k)->arrive, seq, (int) k);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
    }
    if (0 != g->me) {
        /* release: everything we did before the barrier is visible to the
         * members released after it (pairs with the parent's acquire) */
        atomic_store_explicit(&coll_ivm_ctl(g, g->me)->arrive, seq, memory_order_release);
    }
    return OMPI_SUCCESS;
}

/* Fan-out: member 0 releases everyone with one store to its own line. */
int coll_ivm_fanout(coll_ivm_group_t *g, uint64_t seq)
{
    if (0 == g->me) {
        atomic_store_explicit(&coll_ivm_ctl(g, 0)->release, seq, memory_order_release);
        return OMPI_SUCCESS;
    }
    return coll_ivm_wait(g, &coll_ivm_ctl(g, 0)->release, seq, 0);
}

int coll_ivm_small_exchange(coll_ivm_group_t *g, const void *data, size_t len, uint64_t *step)
{
    const uint64_t t = ++g->small_seq;
    struct coll_ivm_small *mine = coll_ivm_small(g, g->me, t);

    if (len > 0) {
        memcpy(mine->data, data, len);
    }
    /* release: the payload is visible before the token, and everything we
     * did before a barrier before the members that see it go on */
    atomic_store_explicit(&mine->tok, t, memory_order_release);
    for (int j = 0; j < g->n; j++) {
        if (j != g->me) {
            int rc = coll_ivm_wait(g, &coll_ivm_small(g, j, t)->tok, t, j);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
        }
    }
    *step = t;
    return OMPI_SUCCESS;
}

/* Wait until every other member's bdone has reached @need; keep the
 * smallest value seen (relative to @b, the step about to be taken), which
 * covers the next steps without a look. */
static int bcast_ring_wait(coll_ivm_group_t *g, uint64_t b, uint64_t need)
{
    uint64_t lowest = b;
    for (int j = 0; j < g->n; j++) {
        if (j == g->me) {
            continue;
        }
        /* acquire: pairs with the reader's release store of bdone, made
         * after it copied the slot out */
        _Atomic uint64_t *word = &coll_ivm_ctl(g, j)->bdone;
        int rc = coll_ivm_wait(g, word, need, j);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
        uint64_t v = atomic_load_explicit(word, memory_order_acquire);
        /* a token compared, never used to address anything; a value
         * beyond b (a corrupt word) counts as b */
        if (coll_ivm_tok_reached(lowest, v)) {
            lowest = v;
        }
    }
    g->bdone_min = lowest;
    return OMPI_SUCCESS;
}

int coll_ivm_ring_post(coll_ivm_group_t *g, const void *data, size_t len, uint64_t *step)
{
    const uint64_t b = ++g->bcast_seq;
    struct coll_ivm_small *slot = coll_ivm_bslot(g, g->me, b);
    /* the slot last held step b - COLL_IVM_BCAST_SLOTS (or nothing: for
     * b <= COLL_IVM_BCAST_SLOTS the difference wraps and every bdone, 0
     * at the start, has reached it) */
    const uint64_t need = b - COLL_IVM_BCAST_SLOTS;
    int rc = OMPI_SUCCESS;

    if (OPAL_UNLIKELY(g->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    if (!coll_ivm_tok_reached(g->bdone_min, need)) {
        rc = bcast_ring_wait(g, b, need);
    }
    if (OMPI_SUCCESS != rc) {
        g->broken = true;
        return rc;
    }
    memcpy(slot->data, data, len);
    /* release: the payload is visible before the token (pairs with the
     * readers' acquire in coll_ivm_wait) */
    atomic_store_explicit(&slot->tok, b, memory_order_release);
    *step = b;
    return OMPI_SUCCESS;
}

int coll_ivm_ring_read(coll_ivm_group_t *g, int root, void *data, size_t len, uint64_t *step)
{
    const uint64_t b = ++g->bcast_seq;
    struct coll_ivm_small *slot = coll_ivm_bslot(g, root, b);
    /* acquire: the payload written before the token */
    int rc = coll_ivm_wait(g, &slot->tok, b, root);
    if (OMPI_SUCCESS != rc) {
        g->broken = true;
        return rc;
    }
    memcpy(data, slot->data, len);
    *step = b;
    return OMPI_SUCCESS;
}

void coll_ivm_ring_done(coll_ivm_group_t *g, uint64_t step)
{
    /* release: what we read of the step (the slot, or the root's buffer
     * it pointed to) is complete before the root reuses it; roots store
     * it too, so that roots that follow never wait on a member that was
     * root itself */
    atomic_store_explicit(&coll_ivm_ctl(g, g->me)->bdone, step, memory_order_release);
}

int coll_ivm_ring_wait_read(coll_ivm_group_t *g, uint64_t step)
{
    int rc = bcast_ring_wait(g, step, step);
    if (OMPI_SUCCESS != rc) {
        g->broken = true;
    }
    return rc;
}

int coll_ivm_ring_gather(coll_ivm_group_t *g, uint64_t *step)
{
    const uint64_t b = ++g->bcast_seq;
    for (int j = 0; j < g->n; j++) {
        if (j == g->me) {
            continue;
        }
        /* acquire: the payload written before the token */
        int rc = coll_ivm_wait(g, &coll_ivm_bslot(g, j, b)->tok, b, j);
        if (OMPI_SUCCESS != rc) {
            g->broken = true;
            return rc;
        }
    }
    *step = b;
    return OMPI_SUCCESS;
}

int coll_ivm_bcast_small(coll_ivm_group_t *g, uint8_t *buf, size_t len, int root)
{
    uint64_t b;
    int rc = g->me == root ? coll_ivm_ring_post(g, buf, len, &b)
                           : coll_ivm_ring_read(g, root, buf, len, &b);
    if (OMPI_SUCCESS == rc) {
        coll_ivm_ring_done(g, b);
    }
    return rc;
}
