/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Leases (common_ivm_lease.c): how waiters and reclaimers read them, the
 * thread that renews one, and what an expired lease allows: a slot of
 * another VM whose lease expired is reclaimed with its job, one whose lease
 * is fresh, or that has no lease, is not; a region lock held by another
 * VM's process for longer than a lease is taken over. */

#include <time.h>

#include "ivm_test.h"

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long) (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_watch(void)
{
    ivm_lease_watch_t w = {0};
    const uint64_t s = 1000000000u;                 /* ns */
    CHECK(!ivm_lease_watch_stale(&w, 0, 5 * s, s)); /* no lease: never */
    CHECK(!ivm_lease_watch_stale(&w, 0, 500 * s, s));
    CHECK(!ivm_lease_watch_stale(&w, 77, 10 * s, s)); /* first sight */
    CHECK(!ivm_lease_watch_stale(&w, 77, 10 * s + s / 2, s));
    CHECK(ivm_lease_watch_stale(&w, 77, 11 * s + 1, s)); /* unchanged past a lease */
    CHECK(!ivm_lease_watch_stale(&w, 78, 12 * s, s));    /* renewed: alive again */
    CHECK(!ivm_lease_watch_stale(&w, 78, 12 * s + s / 2, s));

    CHECK(!ivm_lease_expired_wall(0, 1000000, 30000));              /* no lease */
    CHECK(!ivm_lease_expired_wall(990000, 1000000, 30000));         /* 10 s old */
    CHECK(ivm_lease_expired_wall(960000, 1000000, 30000));          /* 40 s old */
    CHECK(!ivm_lease_expired_wall(1000000 + 5000, 1000000, 30000)); /* from the future */
}

static ivm_join_opts_t opts(const char *key)
{
    ivm_join_opts_t jo = {.part_size = 128 * 1024, .lock_timeout_ms = 2000};
    ivm_job_key_make(jo.key, key, "");
    return jo;
}

static struct ivm_slot_entry *slot_ptr(ivm_region_t *r, uint32_t i)
{
    return (struct ivm_slot_entry *) ivm_ptr(
        r, r->layout.slot_table_off + (uint64_t) i * sizeof(struct ivm_slot_entry),
        sizeof(struct ivm_slot_entry));
}

/* The keeper renews while it runs, and only then. */
static void test_keeper(ivm_region_t *r)
{
    ivm_member_t m;
    ivm_lease_keeper_t k;
    ivm_join_opts_t jo = opts("keeper");
    CHECK_RC(ivm_job_join(r, &jo, &m), IVM_OK);
    struct ivm_slot_entry *s = slot_ptr(r, m.slot);
    CHECK(0 != atomic_load(&s->lease_ms)); /* alive from the claim on */
    atomic_store(&s->lease_ms, 1);
    CHECK_RC(ivm_lease_keeper_start(&k, r, m.slot, m.slot_gen, 20), IVM_OK);
    uint64_t a = atomic_load(&s->lease_ms);
    CHECK(a > 1);
    sleep_ms(150);
    uint64_t b = atomic_load(&s->lease_ms);
    CHECK(b > a);
    ivm_lease_keeper_stop(&k);
    uint64_t c = atomic_load(&s->lease_ms);
    sleep_ms(150);
    CHECK(atomic_load(&s->lease_ms) == c);
    /* a slot that is no longer ours (another generation) is left alone */
    ivm_slot_lease_renew(r, m.slot, m.slot_gen + 1);
    CHECK(atomic_load(&s->lease_ms) == c);
    CHECK_RC(ivm_job_leave(r, &m, 2000), IVM_OK);
}

/* A job in "another VM": our slot with a foreign VM id, so /proc cannot
 * judge it; the lease decides. */
static void join_foreign(ivm_region_t *r, const char *key, uint64_t lease, ivm_member_t *m)
{
    ivm_join_opts_t jo = opts(key);
    CHECK_RC(ivm_job_join(r, &jo, m), IVM_OK);
    struct ivm_slot_entry *s = slot_ptr(r, m->slot);
    s->owner.vm_id[0] ^= 0xff;
    atomic_store(&s->lease_ms, lease);
}

static void test_reclaim_by_lease(ivm_region_t *r)
{
    ivm_member_t fresh, old, none;
    ivm_reclaim_stats_t st;
    r->lease_ms = 0; /* joining reclaims too: not yet */
    join_foreign(r, "fresh", ivm_wall_ms() - 5000, &fresh);
    join_foreign(r, "expired", ivm_wall_ms() - 60000, &old);
    join_foreign(r, "no-lease", 0, &none);
    CHECK(3 == ivm_test_active_jobs(r));
    r->lease_ms = 30000;
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(1 == st.slots_freed && 1 == st.jobs_freed && 2 == st.slots_unknown);
    CHECK(2 == ivm_test_active_jobs(r));
    CHECK(!ivm_slot_verify(r, old.slot, old.slot_gen, old.nonce));
    CHECK(ivm_slot_verify(r, fresh.slot, fresh.slot_gen, fresh.nonce));
    /* without leases (0) nothing of another VM is ever reclaimed */
    atomic_store(&slot_ptr(r, fresh.slot)->lease_ms, ivm_wall_ms() - 60000);
    r->lease_ms = 0;
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(0 == st.slots_freed && 2 == ivm_test_active_jobs(r));
    r->lease_ms = 30000;
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(1 == st.slots_freed && 1 == ivm_test_active_jobs(r));
    slot_ptr(r, none.slot)->owner.vm_id[0] ^= 0xff; /* ours again: leave it */
    CHECK_RC(ivm_job_leave(r, &none, 2000), IVM_OK);
    CHECK(0 == ivm_test_active_jobs(r));
}

/* A region lock held by a process of another VM is taken over once it has
 * been held for longer than a lease, and not before. */
static void test_lock_lease(ivm_region_t *r)
{
    uint64_t token;
    struct ivm_superblock *sb = ivm_sb(r);
    ivm_owner_self(&sb->lock.holder);
    sb->lock.holder.vm_id[0] ^= 0xff;
    atomic_store(&sb->lock.word, 42);
    r->lease_ms = 0;
    CHECK_RC(ivm_lock_acquire(r, 100, &token), IVM_ERR_TIMEOUT);
    r->lease_ms = 400;
    uint64_t t0 = ivm_now_ms();
    CHECK_RC(ivm_lock_acquire(r, 100, &token), IVM_OK);
    uint64_t waited = ivm_now_ms() - t0;
    CHECK(waited >= 400 && waited < 3000);
    ivm_lock_release(r, token);
}

int main(void)
{
    char path[256];
    ivm_region_t r;
    test_watch();
    ivm_test_device(path, 4u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, NULL), IVM_OK);
    test_keeper(&r);
    test_reclaim_by_lease(&r);
    test_lock_lease(&r);
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_lease");
}
