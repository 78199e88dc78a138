/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Leases: proof of life that works across VMs.  /proc can prove a process
 * dead only inside its own VM; for a peer in another VM the only evidence
 * is what it keeps writing.  Every process that holds a slot renews the
 * slot's lease word (its wall-clock time in ms) from a thread of its own,
 * because an MPI rank may compute for minutes without calling into MPI.
 *
 * Two ways to read a lease:
 *  - a waiter watches the word change against its own monotonic clock
 *    (ivm_lease_watch_stale): no agreement between the VMs' clocks needed;
 *  - a reclaimer, which cannot wait a lease long to decide, compares the
 *    word with its own wall clock (ivm_lease_expired_wall).  VMs on one
 *    host keep their clocks close (kvmclock, NTP); a time from the future
 *    counts as alive, so only a reclaimer whose clock runs more than a
 *    lease ahead could misjudge, and doc/security.md says so.
 *
 * A lease word of 0 means "no lease": written by a process of an ivm that
 * predates leases, or not renewed yet.  It is never taken as expired; such
 * peers are judged by the older rules (same-VM /proc proof, timeouts). */

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "common_ivm_core.h"

uint64_t ivm_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

const char *ivm_slot_gone(ivm_region_t *r, uint32_t slot, uint32_t gen, uint64_t nonce,
                          ivm_lease_watch_t *w, uint64_t now_ns)
{
    struct ivm_slot_entry s;

    if (!ivm_slot_verify(r, slot, gen, nonce)) {
        return "its process left the ivm region (it exited or crashed)";
    }
    if (IVM_OK != ivm_slot_read(r, slot, &s)) {
        return NULL; /* changing right now: judged at the next check */
    }
    if (IVM_DEAD == ivm_owner_liveness(&s.owner)) {
        return "its process is gone (it crashed in this VM)";
    }
    if (0 != r->lease_ms
        && ivm_lease_watch_stale(w, s.lease_ms, now_ns, (uint64_t) r->lease_ms * 1000000u)) {
        return "its process stopped renewing its lease (opal_common_ivm_lease): its VM is "
               "down or stopped, or the process is hung";
    }
    return NULL;
}

bool ivm_lease_watch_stale(ivm_lease_watch_t *w, uint64_t lease, uint64_t now_ns, uint64_t lease_ns)
{
    if (0 == lease) {
        return false;
    }
    if (0 == w->since_ns || lease != w->value) {
        w->value = lease;
        w->since_ns = now_ns;
        return false;
    }
    return now_ns - w->since_ns > lease_ns;
}

bool ivm_lease_expired_wall(uint64_t lease, uint64_t now_ms, uint64_t lease_ms)
{
    return 0 != lease && now_ms > lease && now_ms - lease > lease_ms;
}

/* The keeper thread: renew, then sleep a period in short steps so that
 * stopping it never takes long. */
static void *keeper_main(void *arg)
{
    ivm_lease_keeper_t *k = arg;
    const struct timespec step = {0, 50 * 1000 * 1000};

    while (!atomic_load_explicit(&k->stop, memory_order_acquire)) {
        ivm_slot_lease_renew(k->region, k->slot, k->gen);
        for (unsigned waited = 0;
             waited < k->period_ms && !atomic_load_explicit(&k->stop, memory_order_acquire);
             waited += 50) {
            nanosleep(&step, NULL);
        }
    }
    return NULL;
}

int ivm_lease_keeper_start(ivm_lease_keeper_t *k, ivm_region_t *r, uint32_t slot, uint32_t gen,
                           unsigned period_ms)
{
    sigset_t all, old;
    memset(k, 0, sizeof(*k));
    k->region = r;
    k->slot = slot;
    k->gen = gen;
    k->period_ms = 0 == period_ms ? 1 : period_ms;
    atomic_init(&k->stop, false);
    ivm_slot_lease_renew(r, slot, gen); /* alive from the first moment */
    /* the thread takes no signals: they stay with the MPI process's own
     * threads, as they were before ivm started one */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&k->thread, NULL, keeper_main, k);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (0 != rc) {
        return ivm_error(r, IVM_ERR_SYSTEM, "cannot start the lease thread: %s", strerror(rc));
    }
    k->running = true;
    return IVM_OK;
}

void ivm_lease_keeper_stop(ivm_lease_keeper_t *k)
{
    if (!k->running) {
        return;
    }
    atomic_store_explicit(&k->stop, true, memory_order_release);
    pthread_join(k->thread, NULL);
    k->running = false;
}
