/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Many processes racing: to format one zeroed region (they must all end up
 * with the same region id), and to join and leave jobs (slots unique, one
 * partition per job key, nothing left behind).  Iteration counts come from
 * IVM_RACE_ITERS (default 1000). */

#include <fcntl.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ivm_test.h"

#define NPROC 4

struct shared {
    _Atomic int go;
    _Atomic int errors;
    uint8_t ids[NPROC][IVM_ID_LEN];
};

static struct shared *shm;

static void start_gate(void)
{
    while (0 == atomic_load(&shm->go)) {
        /* spin: we want the children to collide */
    }
}

static void format_child(const char *path, int me)
{
    ivm_region_t r;
    ivm_attach_opts_t o = {5000, true, 0, 0};
    start_gate();
    if (IVM_OK != ivm_region_open(&r, path, false) || IVM_OK != ivm_region_attach(&r, &o)) {
        fprintf(stderr, "child %d: %s\n", me, r.errmsg);
        atomic_fetch_add(&shm->errors, 1);
        _exit(1);
    }
    memcpy(shm->ids[me], r.region_id, IVM_ID_LEN);
    ivm_region_close(&r);
    _exit(0);
}

static int wait_all(int n)
{
    int bad = 0, status;
    for (int i = 0; i < n; i++) {
        if (wait(&status) < 0 || !WIFEXITED(status) || 0 != WEXITSTATUS(status)) {
            bad++;
        }
    }
    return bad;
}

static void format_race(const char *path, int iters)
{
    static const uint8_t zero[IVM_ID_LEN];
    int fd = open(path, O_RDWR);
    for (int it = 0; it < iters; it++) {
        CHECK(0 == ftruncate(fd, 0) && 0 == ftruncate(fd, 4u << 20)); /* fresh zeroed region */
        memset(shm, 0, sizeof(*shm));
        for (int p = 0; p < NPROC; p++) {
            if (0 == fork()) {
                format_child(path, p);
            }
        }
        atomic_store(&shm->go, 1);
        CHECK(0 == wait_all(NPROC));
        for (int p = 0; p < NPROC; p++) {
            CHECK(0 == memcmp(shm->ids[0], shm->ids[p], IVM_ID_LEN));
        }
        CHECK(0 != memcmp(shm->ids[0], zero, IVM_ID_LEN));
        if (ivm_test_failures) {
            fprintf(stderr, "format race failed at iteration %d\n", it);
            break;
        }
    }
    close(fd);
}

static int join_leave_loop(ivm_region_t *r, int me, int iters)
{
    ivm_join_opts_t jo = {.part_size = 256 * 1024, .lock_timeout_ms = 10000, .rank = (uint32_t) me};
    ivm_job_key_make(jo.key, me % 2 ? "job-odd" : "job-even", "race");
    for (int it = 0; it < iters; it++) {
        ivm_member_t m;
        struct ivm_job_entry je;
        if (IVM_OK != ivm_job_join(r, &jo, &m)) {
            fprintf(stderr, "child %d join: %s\n", me, r->errmsg);
            return 1;
        }
        /* our slot proves itself, our job carries our key, and the
         * partition we were given is the job's */
        if (!ivm_slot_verify(r, m.slot, m.slot_gen, m.nonce)
            || IVM_OK != ivm_job_read(r, m.job, &je) || 0 != memcmp(je.key, jo.key, IVM_ID_LEN)
            || je.part_off != m.part_off || NULL == ivm_ptr(r, m.part_off, m.part_size)) {
            fprintf(stderr, "child %d: inconsistent membership at iteration %d\n", me, it);
            return 1;
        }
        if (IVM_OK != ivm_job_leave(r, &m, 10000)) {
            fprintf(stderr, "child %d leave: %s\n", me, r->errmsg);
            return 1;
        }
        if (ivm_slot_verify(r, m.slot, m.slot_gen, m.nonce)) {
            fprintf(stderr, "child %d: slot still valid after leave\n", me);
            return 1;
        }
    }
    return 0;
}

static void claim_race(const char *path, int iters)
{
    ivm_region_t r;
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_format(&r, 16, 64), IVM_OK);
    memset(shm, 0, sizeof(*shm));
    for (int p = 0; p < NPROC; p++) {
        if (0 == fork()) {
            start_gate();
            _exit(join_leave_loop(&r, p, iters));
        }
    }
    atomic_store(&shm->go, 1);
    CHECK(0 == wait_all(NPROC));
    /* everyone left: the region is empty again */
    for (uint32_t j = 0; j < r.layout.job_count; j++) {
        struct ivm_job_entry je;
        CHECK_RC(ivm_job_read(&r, j, &je), IVM_OK);
        CHECK(IVM_JOB_FREE == je.state);
    }
    for (uint32_t i = 0; i < r.layout.slot_count; i++) {
        struct ivm_slot_entry se;
        CHECK_RC(ivm_slot_read(&r, i, &se), IVM_OK);
        CHECK(IVM_SLOT_FREE == se.state);
    }
    CHECK(0 == atomic_load(&ivm_sb(&r)->lock.word));
    ivm_region_close(&r);
}

/* Running out of job entries, slots or heap is a clean error. */
static void exhaustion(const char *path)
{
    ivm_region_t r;
    ivm_member_t m[8];
    ivm_join_opts_t jo = {.part_size = 1u << 20, .lock_timeout_ms = 1000};
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_format(&r, 2, 3), IVM_OK);
    ivm_job_key_make(jo.key, "a", "");
    CHECK_RC(ivm_job_join(&r, &jo, &m[0]), IVM_OK);
    CHECK(m[0].created_job);
    CHECK_RC(ivm_job_join(&r, &jo, &m[1]), IVM_OK);
    CHECK(!m[1].created_job && m[1].job == m[0].job && m[1].slot != m[0].slot);
    ivm_job_key_make(jo.key, "b", "");
    jo.part_size = 64u << 20; /* larger than the heap */
    CHECK_RC(ivm_job_join(&r, &jo, &m[2]), IVM_ERR_NO_SPACE);
    CHECK(NULL != strstr(r.errmsg, "no room"));
    jo.part_size = 1u << 20;
    CHECK_RC(ivm_job_join(&r, &jo, &m[2]), IVM_OK);
    ivm_job_key_make(jo.key, "c", "");
    CHECK_RC(ivm_job_join(&r, &jo, &m[3]), IVM_ERR_NO_SPACE); /* 2 job entries */
    ivm_job_key_make(jo.key, "a", "");
    CHECK_RC(ivm_job_join(&r, &jo, &m[3]), IVM_ERR_NO_SPACE); /* 3 slots */
    CHECK(NULL != strstr(r.errmsg, "slots"));
    for (int i = 0; i < 3; i++) {
        CHECK_RC(ivm_job_leave(&r, &m[i], 1000), IVM_OK);
    }
    ivm_region_close(&r);
}

int main(void)
{
    char path[256];
    const char *env = getenv("IVM_RACE_ITERS");
    int iters = (NULL != env) ? atoi(env) : 1000;
    shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    ivm_test_device(path, 4u << 20);
    format_race(path, iters);
    claim_race(path, iters);
    exhaustion(path);
    unlink(path);
    return ivm_test_done("test_race");
}
