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

/* Bounded waits of osc/ivm's synchronisation (fence, post/start, locks).
 *
 * Peers run other kernels, so a wait can only poll memory.  It spins for
 * up to osc_ivm_spin_time microseconds (a peer on another CPU answers
 * within a few hundred nanoseconds), keeping MPI progressing, then sleeps
 * between polls (osc_ivm_sleep_time) so that a peer sharing our CPU can
 * run: sched_yield would only yield within our own scheduling group (see
 * coll/ivm's waits for why that is not enough across VMs).
 *
 * Every osc_ivm_liveness_interval ms it checks every rank of the window:
 * that its process still holds its slot in the region, is alive when it
 * is in our VM, and keeps renewing its lease (opal_common_ivm_lease).  Any
 * one of them gone makes the wait fail: whichever rank we wait for (a lock
 * holder, a rank that has not reached the fence), a window with a dead
 * rank cannot complete its epochs, and checking them all needs no
 * knowledge of who holds a shared lock.  A failed wait marks the window
 * broken: its counters are out of step, so later synchronisations fail at
 * once. */

#include "ompi_config.h"

#include "opal/runtime/opal_progress.h"
#include "opal/util/show_help.h"
#include "opal/util/proc.h"

#include "osc_ivm.h"

#define SPIN_PER_ROUND 64

/* Is window rank @r's process still there?  NULL if so, else why not. */
static const char *peer_gone(ompi_osc_ivm_module_t *m, int r, uint64_t now_ns)
{
    osc_ivm_peer_t *p = &m->peer[r];
    return ivm_slot_gone(&m->dev->region, p->slot, p->slot_gen, p->nonce, &p->lease, now_ns);
}

static int wait_failed(ompi_osc_ivm_module_t *m, const char *what, int rank, const char *why)
{
    m->broken = true;
    opal_show_help("help-mpi-osc-ivm.txt", "wait-failed", true, opal_process_info.nodename, what,
                   rank, why);
    return OMPI_ERR_TIMEOUT;
}

int osc_ivm_wait_round(ompi_osc_ivm_module_t *m, unsigned round, uint64_t *start_ns,
                       uint64_t *next_ns, const char *what)
{
    const mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    const uint64_t check_ns = (uint64_t) c->liveness_interval_ms * 1000000u;
    const uint64_t limit_ns = (uint64_t) c->timeout * 1000000000u;

    opal_progress();
    uint64_t now = ivm_now_ns();
    if (0 == round) {
        *start_ns = now;
        *next_ns = now + check_ns;
        return OMPI_SUCCESS;
    }
    ivm_pace(now - *start_ns, mca_common_ivm_params.spin_time_us,
             mca_common_ivm_params.sleep_time_us);
    if (now < *next_ns) {
        return OMPI_SUCCESS;
    }
    *next_ns = now + check_ns;
    for (int r = 0; r < m->n; r++) {
        const char *why = r == m->me ? NULL : peer_gone(m, r, now);
        if (NULL != why) {
            return wait_failed(m, what, r, why);
        }
    }
    if (0 != limit_ns && now - *start_ns > limit_ns) {
        return wait_failed(m, what, -1, "osc_ivm_timeout expired");
    }
    return OMPI_SUCCESS;
}

int osc_ivm_wait_ge64(ompi_osc_ivm_module_t *m, _Atomic uint64_t *word, uint64_t target,
                      const char *what)
{
    uint64_t start = 0, next = 0;

    if (OPAL_UNLIKELY(m->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    for (unsigned round = 0;; round++) {
        for (int k = 0; k < SPIN_PER_ROUND; k++) {
            /* acquire: pairs with the release of the rank that advanced
             * the word, so what it did before is visible to us */
            if (atomic_load_explicit(word, memory_order_acquire) >= target) {
                return OMPI_SUCCESS;
            }
            ivm_cpu_relax();
        }
        int rc = osc_ivm_wait_round(m, round, &start, &next, what);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
    }
}

int osc_ivm_wait_ge32(ompi_osc_ivm_module_t *m, _Atomic uint32_t *word, uint32_t target,
                      const char *what)
{
    uint64_t start = 0, next = 0;

    if (OPAL_UNLIKELY(m->broken)) {
        return OMPI_ERR_TIMEOUT;
    }
    for (unsigned round = 0;; round++) {
        for (int k = 0; k < SPIN_PER_ROUND; k++) {
            /* acquire, as above; counts compared modulo 2^32 */
            if ((int32_t) (atomic_load_explicit(word, memory_order_acquire) - target) >= 0) {
                return OMPI_SUCCESS;
            }
            ivm_cpu_relax();
        }
        int rc = osc_ivm_wait_round(m, round, &start, &next, what);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
    }
}
