/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Reading a job or slot entry while it is created and freed (issue 10,
 * defect 4).  A writer thread joins a job (creating job entry 0 and
 * claiming slot 0) and leaves it again, over and over, through the real
 * core API; after each leave it fills every field of the two free entries,
 * except state and gen, with 0xff: the leftovers a free entry may hold (a
 * free entry's fields mean nothing; ones that fail validation make a stale
 * read visible).  Reader threads call ivm_job_read and ivm_slot_read in a
 * tight loop through their own mappings of the device, like ivmctl info or
 * another VM.  A read may say FREE, ACTIVE/CLAIMED with the writer's
 * values, or IVM_ERR_BUSY (the entry kept changing); never "corrupted" and
 * never an active entry with a leftover field.
 *
 * A reader that copies the entry before it loads state (the order this
 * test was written against) takes leftovers for the fields of the job the
 * writer publishes meanwhile; so does one that loads state first but does
 * not check afterwards that the entry stayed the same.  On a 2-CPU machine
 * either fails within a fraction of a second.  There are more readers than
 * CPUs, so the scheduler also preempts readers at random points, as a host
 * preempts a VM's vCPU.  The test stops at the first bad read, or after
 * IVM_READ_ORDER_SECS seconds (default 4). */

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "ivm_test.h"

#define NREADERS 3
#define LABEL "read-order"
#define HOST "writer-host"
#define RANK 7u

static const char *device;
static uint8_t job_key[IVM_ID_LEN];
static _Atomic bool stop;
static _Atomic bool writer_ready;
static _Atomic unsigned long cycles, reads, seen_active, seen_busy, bad_reads;

static void open_region(ivm_region_t *r)
{
    ivm_test_open(r, device);
    if (IVM_OK != ivm_region_validate(r)) {
        fprintf(stderr, "cannot validate %s: %s\n", device, r->errmsg);
        exit(2);
    }
}

static bool all_ff(const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        if (0xff != b[i]) {
            return false;
        }
    }
    return true;
}

/* The leftovers of a free entry: everything after state and gen. */
static void dirty_free_entries(ivm_region_t *r)
{
    uint8_t *job = r->map.base + r->layout.job_table_off;
    uint8_t *slot = r->map.base + r->layout.slot_table_off;
    /* release: as a creator does (publish_begin in common_ivm_job.c),
     * write a free entry's fields only once its free (the release store of
     * state in ivm_job_leave) is visible to whoever sees these bytes: a
     * reader that copied them sees the entry FREE, or changed, when it
     * checks after the copy */
    atomic_thread_fence(memory_order_release);
    memset(job + offsetof(struct ivm_job_entry, key), 0xff,
           sizeof(struct ivm_job_entry) - offsetof(struct ivm_job_entry, key));
    memset(slot + offsetof(struct ivm_slot_entry, job), 0xff,
           sizeof(struct ivm_slot_entry) - offsetof(struct ivm_slot_entry, job));
}

static void *writer(void *arg)
{
    ivm_region_t r;
    ivm_join_opts_t jo = {.label = LABEL,
                          .host = HOST,
                          .rank = RANK,
                          .part_size = 128 * 1024,
                          .lock_timeout_ms = 10000};
    (void) arg;
    open_region(&r);
    memcpy(jo.key, job_key, IVM_ID_LEN);
    dirty_free_entries(&r);
    atomic_store(&writer_ready, true);
    while (!atomic_load(&stop)) {
        ivm_member_t m;
        if (IVM_OK != ivm_job_join(&r, &jo, &m)) {
            fprintf(stderr, "writer: join: %s\n", r.errmsg);
            atomic_fetch_add(&bad_reads, 1);
            break;
        }
        if (0 != m.job || 0 != m.slot || !m.created_job) {
            fprintf(stderr,
                    "writer: got job %u slot %u (created %d), expected a new job 0 "
                    "and slot 0\n",
                    m.job, m.slot, (int) m.created_job);
            atomic_fetch_add(&bad_reads, 1);
            break;
        }
        if (IVM_OK != ivm_job_leave(&r, &m, 10000)) {
            fprintf(stderr, "writer: leave: %s\n", r.errmsg);
            atomic_fetch_add(&bad_reads, 1);
            break;
        }
        dirty_free_entries(&r);
        atomic_fetch_add(&cycles, 1);
    }
    atomic_store(&stop, true);
    ivm_region_close(&r);
    return NULL;
}

static void bad(int me, const char *what, int rc, const char *errmsg)
{
    fprintf(stderr, "reader %d: %s (rc %d %s%s%s)\n", me, what, rc, ivm_strerror(rc),
            IVM_OK != rc ? ": " : "", IVM_OK != rc ? errmsg : "");
    atomic_fetch_add(&bad_reads, 1);
    atomic_store(&stop, true);
}

static void check_job(int me, ivm_region_t *r)
{
    struct ivm_job_entry e;
    int rc = ivm_job_read(r, 0, &e);
    if (IVM_ERR_BUSY == rc) {
        atomic_fetch_add(&seen_busy, 1);
    } else if (IVM_OK != rc) {
        bad(me, "job entry 0 read failed", rc, r->errmsg);
    } else if (IVM_JOB_ACTIVE == e.state) {
        atomic_fetch_add(&seen_active, 1);
        if (0 != memcmp(e.key, job_key, IVM_ID_LEN) || 0 != strncmp(e.label, LABEL, IVM_LABEL_LEN)
            || all_ff(&e.part_off, sizeof(e.part_off))
            || all_ff(&e.create_time, sizeof(e.create_time))) {
            bad(me, "active job entry 0 with a free entry's leftovers", rc, "");
        }
    }
}

static void check_slot(int me, ivm_region_t *r)
{
    struct ivm_slot_entry s;
    int rc = ivm_slot_read(r, 0, &s);
    if (IVM_ERR_BUSY == rc) {
        atomic_fetch_add(&seen_busy, 1);
    } else if (IVM_OK != rc) {
        bad(me, "slot 0 read failed", rc, r->errmsg);
    } else if (IVM_SLOT_CLAIMED == s.state) {
        atomic_fetch_add(&seen_active, 1);
        if (0 != s.job || RANK != s.rank || 0 != strncmp(s.host, HOST, IVM_HOST_LEN)
            || (uint64_t) getpid() != s.owner.pid) {
            bad(me, "claimed slot 0 with a free entry's leftovers", rc, "");
        }
    }
}

static void *reader(void *arg)
{
    int me = (int) (intptr_t) arg;
    ivm_region_t r;
    unsigned long n = 0;

    open_region(&r);
    while (!atomic_load(&writer_ready)) {
        /* start with the writer */
    }
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        check_job(me, &r);
        check_slot(me, &r);
        n++;
    }
    atomic_fetch_add(&reads, n);
    ivm_region_close(&r);
    return NULL;
}

int main(void)
{
    char path[256];
    const char *env = getenv("IVM_READ_ORDER_SECS");
    unsigned secs = (NULL != env) ? (unsigned) atoi(env) : 4;
    pthread_t w, rd[NREADERS];
    ivm_region_t r;

    ivm_test_device(path, 4u << 20);
    device = path;
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_format(&r, 4, 8), IVM_OK);
    ivm_job_key_make(job_key, "read-order", "");

    CHECK(0 == pthread_create(&w, NULL, writer, NULL));
    for (intptr_t i = 0; i < NREADERS; i++) {
        CHECK(0 == pthread_create(&rd[i], NULL, reader, (void *) i));
    }
    for (unsigned ms = 0; ms < secs * 1000u && !atomic_load(&stop); ms += 10) {
        const struct timespec tick = {0, 10 * 1000 * 1000};
        nanosleep(&tick, NULL);
    }
    atomic_store(&stop, true);
    pthread_join(w, NULL);
    for (int i = 0; i < NREADERS; i++) {
        pthread_join(rd[i], NULL);
    }

    printf("test_read_order: %lu create/free cycles, %lu reads of both entries, %lu active, "
           "%lu busy, %lu bad\n",
           atomic_load(&cycles), atomic_load(&reads), atomic_load(&seen_active),
           atomic_load(&seen_busy), atomic_load(&bad_reads));
    CHECK(0 == atomic_load(&bad_reads));
    if (0 == atomic_load(&bad_reads)) {
        /* the race was really run: jobs were created, and seen active */
        CHECK(atomic_load(&cycles) > 100 && atomic_load(&seen_active) > 0);
    }
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_read_order");
}
