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

/* osc/ivm's synchronisation, as atomics on the window's area
 * (common_ivm_layout_osc.h has the words and their protocols).
 *
 * Every put, get and accumulate is finished when its call returns (the
 * origin did the loads and stores itself), so completing operations
 * (flush, unlock, complete, fence) only has to order memory: the release
 * of the synchronisation word that ends an epoch makes the epoch's stores
 * visible to whoever acquires it next, and flush and MPI_Win_sync are a
 * full fence. */

#include "ompi_config.h"

#include <stdlib.h>

#include "osc_ivm.h"

/* ---- fence ---- */

int osc_ivm_barrier(ompi_osc_ivm_module_t *m, const char *what)
{
    _Atomic uint64_t *arrived = &osc_ivm_fence_line(m)->arrived;
    const uint64_t k = ++m->fences;

    /* release: our stores of the epoch are visible to every rank that
     * sees the count complete; acquire: and theirs to us */
    atomic_fetch_add_explicit(arrived, 1, memory_order_acq_rel);
    return osc_ivm_wait_ge64(m, arrived, k * (uint64_t) m->n, what);
}

int ompi_osc_ivm_fence(int mpi_assert, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    (void) mpi_assert; /* every fence is a barrier: the assertions only allow less */
    mca_osc_ivm_component.counters->syncs++;
    return osc_ivm_barrier(m, "MPI_Win_fence");
}

/* ---- post / start / complete / wait ---- */

/* Window ranks of @group's members into @out; their number, or -1. */
static int group_ranks(ompi_osc_ivm_module_t *m, struct ompi_group_t *group, struct ompi_win_t *win,
                       int *out)
{
    int gsize = ompi_group_size(group);
    int *in = malloc(sizeof(int) * (gsize > 0 ? gsize : 1));
    if (NULL == in || gsize > m->n) {
        free(in);
        return -1;
    }
    for (int i = 0; i < gsize; i++) {
        in[i] = i;
    }
    int rc = ompi_group_translate_ranks(group, gsize, in, win->w_group, out);
    free(in);
    for (int i = 0; OMPI_SUCCESS == rc && i < gsize; i++) {
        if (out[i] < 0 || out[i] >= m->n) {
            rc = OMPI_ERROR;
        }
    }
    return OMPI_SUCCESS == rc ? gsize : -1;
}

int ompi_osc_ivm_post(struct ompi_group_t *group, int mpi_assert, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    int *ranks = malloc(sizeof(int) * m->n), count;
    (void) mpi_assert;

    if (m->npost >= 0 || NULL == ranks) {
        free(ranks);
        return NULL == ranks ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_ERR_RMA_SYNC;
    }
    count = group_ranks(m, group, win, ranks);
    if (count < 0) {
        free(ranks);
        return OMPI_ERR_BAD_PARAM;
    }
    for (int i = 0; i < count; i++) {
        /* release: our stores before the post are visible to the origin
         * that acquires this count in its start */
        atomic_fetch_add_explicit(osc_ivm_post_word(m, ranks[i], m->me), 1, memory_order_release);
    }
    free(ranks);
    m->npost = count;
    mca_osc_ivm_component.counters->syncs++;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_start(struct ompi_group_t *group, int mpi_assert, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (m->nstart > 0) {
        return OMPI_ERR_RMA_SYNC;
    }
    int count = group_ranks(m, group, win, m->start_ranks);
    if (count < 0) {
        return OMPI_ERR_BAD_PARAM;
    }
    for (int i = 0; i < count; i++) {
        int t = m->start_ranks[i];
        uint32_t expected = ++m->posts_seen[t];
        /* with MPI_MODE_NOCHECK the post has happened already: consume it
         * without looking */
        if (0 == (mpi_assert & MPI_MODE_NOCHECK)) {
            int rc =
                osc_ivm_wait_ge32(m, osc_ivm_post_word(m, m->me, t), expected, "MPI_Win_start");
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
        }
    }
    atomic_thread_fence(memory_order_acquire);
    m->nstart = count;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_complete(struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    for (int i = 0; i < m->nstart; i++) {
        /* release: the epoch's stores to the target are visible before
         * it sees our complete */
        atomic_fetch_add_explicit(&osc_ivm_state(m, m->start_ranks[i])->complete, 1,
                                  memory_order_release);
    }
    m->nstart = 0;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_wait(struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (m->npost < 0) {
        return OMPI_ERR_RMA_SYNC;
    }
    uint64_t target = m->completes_expected + (uint64_t) m->npost;
    int rc = osc_ivm_wait_ge64(m, &osc_ivm_state(m, m->me)->complete, target, "MPI_Win_wait");
    if (OMPI_SUCCESS == rc) {
        m->completes_expected = target;
        m->npost = -1;
    }
    return rc;
}

int ompi_osc_ivm_test(struct ompi_win_t *win, int *flag)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (m->npost < 0) {
        return OMPI_ERR_RMA_SYNC;
    }
    uint64_t target = m->completes_expected + (uint64_t) m->npost;
    /* acquire: pairs with the origins' release in complete */
    *flag =
        atomic_load_explicit(&osc_ivm_state(m, m->me)->complete, memory_order_acquire) >= target;
    if (*flag) {
        m->completes_expected = target;
        m->npost = -1;
    }
    return OMPI_SUCCESS;
}

/* ---- passive target ---- */

static int lock_shared(ompi_osc_ivm_module_t *m, int t, const char *what)
{
    _Atomic uint64_t *lw = &osc_ivm_state(m, t)->lock;
    uint64_t start = 0, next = 0;

    for (unsigned round = 0;; round++) {
        /* acquire: the previous exclusive holder's stores are visible */
        uint64_t v = atomic_fetch_add_explicit(lw, 1, memory_order_acquire);
        if (0 == (v & OSC_IVM_LOCK_EXCL_MASK)) {
            return OMPI_SUCCESS;
        }
        atomic_fetch_sub_explicit(lw, 1, memory_order_relaxed);
        while (0 != (atomic_load_explicit(lw, memory_order_relaxed) & OSC_IVM_LOCK_EXCL_MASK)) {
            int rc = osc_ivm_wait_round(m, round++, &start, &next, what);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
        }
    }
}

static int lock_exclusive(ompi_osc_ivm_module_t *m, int t, const char *what)
{
    _Atomic uint64_t *lw = &osc_ivm_state(m, t)->lock;
    const uint64_t mine = (uint64_t) (m->me + 1) << OSC_IVM_LOCK_EXCL_SHIFT;
    uint64_t start = 0, next = 0;

    for (unsigned round = 0;; round++) {
        uint64_t expected = 0;
        /* acquire: every earlier holder's stores are visible to us */
        if (atomic_compare_exchange_strong_explicit(lw, &expected, mine, memory_order_acquire,
                                                    memory_order_relaxed)) {
            return OMPI_SUCCESS;
        }
        do {
            int rc = osc_ivm_wait_round(m, round++, &start, &next, what);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
        } while (0 != atomic_load_explicit(lw, memory_order_relaxed));
    }
}

static void unlock_target(ompi_osc_ivm_module_t *m, int t)
{
    _Atomic uint64_t *lw = &osc_ivm_state(m, t)->lock;
    /* release: our stores under the lock are visible to the next holder */
    if (OSC_IVM_LOCK_SHARED == m->lock_state[t]) {
        atomic_fetch_sub_explicit(lw, 1, memory_order_release);
    } else if (OSC_IVM_LOCK_EXCL == m->lock_state[t]) {
        /* clears the holder only: shared attempts in flight keep their count */
        atomic_fetch_and_explicit(lw, OSC_IVM_LOCK_SHARED_MASK, memory_order_release);
    } else {
        atomic_thread_fence(memory_order_seq_cst);
    }
    m->lock_state[t] = OSC_IVM_UNLOCKED;
}

int ompi_osc_ivm_lock(int lock_type, int target, int mpi_assert, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    int rc = OMPI_SUCCESS;

    if (target < 0 || target >= m->n) {
        return OMPI_ERR_BAD_PARAM;
    }
    if (OSC_IVM_UNLOCKED != m->lock_state[target] || m->lock_all) {
        return OMPI_ERR_RMA_SYNC;
    }
    if (OPAL_UNLIKELY(m->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    if (mpi_assert & MPI_MODE_NOCHECK) {
        m->lock_state[target] = OSC_IVM_LOCK_NOCHECK;
    } else if (MPI_LOCK_EXCLUSIVE == lock_type) {
        rc = lock_exclusive(m, target, "MPI_Win_lock (exclusive)");
        m->lock_state[target] = OSC_IVM_LOCK_EXCL;
    } else {
        rc = lock_shared(m, target, "MPI_Win_lock (shared)");
        m->lock_state[target] = OSC_IVM_LOCK_SHARED;
    }
    if (OMPI_SUCCESS != rc) {
        m->lock_state[target] = OSC_IVM_UNLOCKED;
        return rc;
    }
    m->nlocks++;
    mca_osc_ivm_component.counters->locks++;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_unlock(int target, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (target < 0 || target >= m->n || OSC_IVM_UNLOCKED == m->lock_state[target] || m->lock_all) {
        return OMPI_ERR_RMA_SYNC;
    }
    unlock_target(m, target);
    m->nlocks--;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_lock_all(int mpi_assert, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (m->lock_all || m->nlocks > 0) {
        return OMPI_ERR_RMA_SYNC;
    }
    if (OPAL_UNLIKELY(m->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    for (int t = 0; t < m->n; t++) {
        int rc = OMPI_SUCCESS;
        if (mpi_assert & MPI_MODE_NOCHECK) {
            m->lock_state[t] = OSC_IVM_LOCK_NOCHECK;
        } else {
            rc = lock_shared(m, t, "MPI_Win_lock_all");
            m->lock_state[t] = OSC_IVM_LOCK_SHARED;
        }
        if (OMPI_SUCCESS != rc) {
            m->lock_state[t] = OSC_IVM_UNLOCKED;
            while (t-- > 0) {
                unlock_target(m, t);
            }
            return rc;
        }
        mca_osc_ivm_component.counters->locks++;
    }
    m->lock_all = true;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_unlock_all(struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);

    if (!m->lock_all) {
        return OMPI_ERR_RMA_SYNC;
    }
    for (int t = 0; t < m->n; t++) {
        unlock_target(m, t);
    }
    m->lock_all = false;
    return OMPI_SUCCESS;
}

/* Operations are complete when they return: flushing orders memory only. */
int ompi_osc_ivm_sync(struct ompi_win_t *win)
{
    (void) win;
    atomic_thread_fence(memory_order_seq_cst);
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_flush(int target, struct ompi_win_t *win)
{
    (void) target;
    return ompi_osc_ivm_sync(win);
}

int ompi_osc_ivm_flush_all(struct ompi_win_t *win)
{
    return ompi_osc_ivm_sync(win);
}

int ompi_osc_ivm_flush_local(int target, struct ompi_win_t *win)
{
    (void) target;
    return ompi_osc_ivm_sync(win);
}

int ompi_osc_ivm_flush_local_all(struct ompi_win_t *win)
{
    return ompi_osc_ivm_sync(win);
}

/* ---- the accumulate lock (element types the CPU cannot update atomically) ---- */

int osc_ivm_acc_lock(ompi_osc_ivm_module_t *m, int target)
{
    _Atomic uint64_t *w = &osc_ivm_state(m, target)->acc_lock;
    uint64_t start = 0, next = 0;

    for (unsigned round = 0;; round++) {
        uint64_t expected = 0;
        /* acquire: the previous holder's updates are visible */
        if (atomic_compare_exchange_weak_explicit(w, &expected, (uint64_t) m->me + 1,
                                                  memory_order_acquire, memory_order_relaxed)) {
            return OMPI_SUCCESS;
        }
        int rc = osc_ivm_wait_round(m, round, &start, &next, "an accumulate (accumulate lock)");
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
    }
}

void osc_ivm_acc_unlock(ompi_osc_ivm_module_t *m, int target)
{
    /* release: our updates are visible to the next holder */
    atomic_store_explicit(&osc_ivm_state(m, target)->acc_lock, 0, memory_order_release);
}
