/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Lock words in the region: the region lock serialises the rare changes of
 * the job and slot tables (attach, detach, reclaim, ivmctl); each job
 * partition has one for its large-block allocator.  A lock word is a
 * 64-bit word taken with a CAS, never a futex or pthread mutex, because its
 * users run on different kernels.  A holder that dies would block everyone,
 * so waits are bounded: when the timeout expires the lock is stolen if its
 * holder is provably dead (same VM), or, with leases (r->lease_ms), once it
 * has held the lock for longer than a lease; otherwise the caller gets
 * IVM_ERR_TIMEOUT and a message naming the holder; `ivmctl clean
 * --break-lock` is the admin's way out for the region lock. */

#include <string.h>

#include "common_ivm_core.h"

static void describe_holder(ivm_region_t *r, const char *what, const struct ivm_owner *h,
                            unsigned timeout_ms)
{
    char vm[2 * IVM_ID_LEN + 1];
    ivm_hex(h->vm_id, 8, vm);
    ivm_error(r, IVM_ERR_TIMEOUT,
              "the %s of %s has been held for more than %u ms by pid %llu of VM %s; "
              "if that process is gone, run 'ivmctl clean --break-lock %s'",
              what, r->map.spec, timeout_ms, (unsigned long long) h->pid, vm, r->map.spec);
}

static bool try_take(struct ivm_lockword *lw, uint64_t expect, uint64_t token)
{
    /* acq_rel: acquire pairs with the release in ivm_lockword_release so
     * the data written by the previous holder is visible to us. */
    return atomic_compare_exchange_strong_explicit(&lw->word, &expect, token, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

static void record_holder(struct ivm_lockword *lw)
{
    struct ivm_owner me;
    ivm_owner_self(&me);
    memcpy(&lw->holder, &me, sizeof(me));
    atomic_fetch_add_explicit(&lw->epoch, 1, memory_order_relaxed);
}

/* A holder that kept the lock for @held_ms is dead if /proc says so (its
 * own VM), or if the lock outlived a lease: the region lock and the heap
 * locks guard table and list updates of microseconds, so a holder that
 * keeps one for a lease (30 s by default) has died, or its VM has. */
static bool holder_dead(const ivm_region_t *r, const struct ivm_owner *holder, uint64_t held_ms)
{
    int live = ivm_owner_liveness(holder);
    return IVM_DEAD == live || (IVM_UNKNOWN == live && 0 != r->lease_ms && held_ms > r->lease_ms);
}

/* Should a waiter whose timeout has passed keep waiting for the lease of a
 * holder it cannot prove dead?  Only with leases, and only up to one. */
static bool lease_pending(const ivm_region_t *r, uint64_t held_ms)
{
    return 0 != r->lease_ms && held_ms <= r->lease_ms;
}

int ivm_lockword_acquire(ivm_region_t *r, struct ivm_lockword *lw, const char *what,
                         unsigned timeout_ms, uint64_t *token)
{
    uint64_t mine = 0, deadline = ivm_now_ms() + timeout_ms;

    while (0 == mine) {
        if (IVM_OK != ivm_random_bytes(&mine, sizeof(mine))) {
            return ivm_error(r, IVM_ERR_SYSTEM, "getrandom failed");
        }
    }
    uint64_t first_seen = atomic_load_explicit(&lw->word, memory_order_relaxed);
    uint64_t first_seen_ms = ivm_now_ms();
    unsigned handovers = 0;
    for (unsigned it = 0;; it++) {
        if (try_take(lw, 0, mine)) {
            break;
        }
        if (ivm_now_ms() < deadline) {
            ivm_backoff(it);
            continue;
        }
        uint64_t held = atomic_load_explicit(&lw->word, memory_order_acquire);
        if (0 == held) {
            continue; /* released just now */
        }
        /* Steal only from a holder that kept the lock for the whole wait (so
         * the holder record is its own, not its predecessor's) and that is
         * provably dead. */
        struct ivm_owner holder;
        memcpy(&holder, &lw->holder, sizeof(holder));
        /* one reading of the clock for both decisions: with two, a holder
         * could be "not dead yet" by the first and "past its lease" by the
         * second, and the wait would give up instead of taking over */
        const uint64_t held_ms = ivm_now_ms() - first_seen_ms;
        if (held == first_seen && holder_dead(r, &holder, held_ms) && try_take(lw, held, mine)) {
            break;
        }
        if (held == first_seen && lease_pending(r, held_ms)) {
            ivm_backoff(it);
            continue; /* the holder is in another VM: wait out its lease */
        }
        if (held != first_seen && ++handovers < 8) {
            /* it changed hands, so others progress: wait again, a bounded
             * number of times so a peer flipping the word cannot hang us */
            first_seen = held;
            first_seen_ms = ivm_now_ms();
            deadline = first_seen_ms + timeout_ms;
            continue;
        }
        describe_holder(r, what, &holder, timeout_ms);
        return IVM_ERR_TIMEOUT;
    }
    record_holder(lw);
    *token = mine;
    return IVM_OK;
}

void ivm_lockword_release(struct ivm_lockword *lw, uint64_t token)
{
    uint64_t expect = token;
    /* release pairs with the acquire of the next try_take().  If the token
     * no longer matches, the lock was broken by an admin: leave it. */
    atomic_compare_exchange_strong_explicit(&lw->word, &expect, 0, memory_order_release,
                                            memory_order_relaxed);
}

int ivm_lock_acquire(ivm_region_t *r, unsigned timeout_ms, uint64_t *token)
{
    return ivm_lockword_acquire(r, &ivm_sb(r)->lock, "region lock", timeout_ms, token);
}

void ivm_lock_release(ivm_region_t *r, uint64_t token)
{
    ivm_lockword_release(&ivm_sb(r)->lock, token);
}

int ivm_lock_break(ivm_region_t *r)
{
    atomic_store_explicit(&ivm_sb(r)->lock.word, 0, memory_order_release);
    return IVM_OK;
}
