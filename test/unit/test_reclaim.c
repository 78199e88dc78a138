/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Reclaiming space: slots of processes that died without leaving are freed
 * (they are provably dead: same VM), their emptied jobs too; processes that
 * are alive, or that live in another VM, are never reclaimed automatically;
 * ivm_job_remove (ivmctl clean --job) needs --force for other VMs and never
 * removes a live job.  Also the region lock: a dead holder's lock is taken
 * over, a live holder's lock times out with a message. */

#include <signal.h>
#include <sys/wait.h>

#include "ivm_test.h"

static ivm_join_opts_t opts(const char *key)
{
    ivm_join_opts_t jo = {.part_size = 128 * 1024, .lock_timeout_ms = 2000};
    ivm_job_key_make(jo.key, key, "");
    return jo;
}

/* A child joins and dies without leaving; returns its member record. */
static pid_t child_join(ivm_region_t *r, const char *key, bool stay_alive, int pipefd[2])
{
    CHECK(0 == pipe(pipefd));
    pid_t pid = fork();
    if (0 == pid) {
        ivm_member_t m;
        ivm_join_opts_t jo = opts(key);
        int rc = ivm_job_join(r, &jo, &m);
        (void) !write(pipefd[1], &rc, sizeof(rc));
        if (stay_alive) {
            pause();
        }
        _exit(0);
    }
    int rc = -99;
    CHECK(sizeof(rc) == read(pipefd[0], &rc, sizeof(rc)));
    CHECK_RC(rc, IVM_OK);
    return pid;
}

static void test_dead_and_alive(ivm_region_t *r)
{
    int p1[2], p2[2];
    ivm_reclaim_stats_t st;
    pid_t dead = child_join(r, "dead-job", false, p1);
    waitpid(dead, NULL, 0);
    CHECK(1 == ivm_test_active_jobs(r));
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(1 == st.slots_freed && 1 == st.jobs_freed && 128 * 1024 == st.bytes_freed);
    CHECK(0 == ivm_test_active_jobs(r));

    /* joining reclaims too: the dead job is gone once the live one is in */
    dead = child_join(r, "dead-job", false, p1);
    waitpid(dead, NULL, 0);
    pid_t alive = child_join(r, "live-job", true, p2);
    CHECK(1 == ivm_test_active_jobs(r));
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(0 == st.slots_freed && 1 == ivm_test_active_jobs(r));
    /* the live job is never removed, not even with force */
    uint32_t live_job = 0;
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry je;
        if (IVM_OK == ivm_job_read(r, j, &je) && IVM_JOB_ACTIVE == je.state) {
            live_job = j;
        }
    }
    CHECK_RC(ivm_job_remove(r, live_job, true, 2000, &st), IVM_ERR_BUSY);
    CHECK(NULL != strstr(r->errmsg, "alive"));
    kill(alive, SIGKILL);
    waitpid(alive, NULL, 0);
    /* a new joiner reclaims on its way in */
    ivm_member_t m;
    ivm_join_opts_t jo = opts("new-job");
    CHECK_RC(ivm_job_join(r, &jo, &m), IVM_OK);
    CHECK(1 == ivm_test_active_jobs(r));
    CHECK_RC(ivm_job_leave(r, &m, 2000), IVM_OK);
    CHECK(0 == ivm_test_active_jobs(r));
    close(p1[0]);
    close(p1[1]);
    close(p2[0]);
    close(p2[1]);
}

static void test_other_vm(ivm_region_t *r)
{
    ivm_member_t m;
    ivm_reclaim_stats_t st;
    ivm_join_opts_t jo = opts("foreign-job");
    CHECK_RC(ivm_job_join(r, &jo, &m), IVM_OK);
    /* pretend the slot belongs to a process in another VM */
    struct ivm_slot_entry *s = (struct ivm_slot_entry *) ivm_ptr(
        r, r->layout.slot_table_off + m.slot * sizeof(struct ivm_slot_entry), 128);
    s->owner.vm_id[0] ^= 0xff;
    CHECK(IVM_UNKNOWN == ivm_owner_liveness(&s->owner));
    CHECK_RC(ivm_reclaim(r, 2000, &st), IVM_OK);
    CHECK(0 == st.slots_freed && 1 == st.slots_unknown && 1 == ivm_test_active_jobs(r));
    CHECK_RC(ivm_job_remove(r, m.job, false, 2000, &st), IVM_ERR_BUSY);
    CHECK(NULL != strstr(r->errmsg, "--force"));
    CHECK_RC(ivm_job_remove(r, m.job, true, 2000, &st), IVM_OK);
    CHECK(1 == st.slots_freed && 1 == st.jobs_freed && 0 == ivm_test_active_jobs(r));
    CHECK_RC(ivm_job_remove(r, m.job, true, 2000, &st), IVM_ERR_NOT_FOUND);
}

static void test_lock(ivm_region_t *r)
{
    uint64_t token;
    int pfd[2];
    CHECK(0 == pipe(pfd));
    /* a holder that dies: its lock is taken over after the timeout */
    pid_t pid = fork();
    if (0 == pid) {
        uint64_t t;
        _exit(IVM_OK == ivm_lock_acquire(r, 1000, &t) ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && 0 == WEXITSTATUS(status));
    CHECK(0 != atomic_load(&ivm_sb(r)->lock.word));
    CHECK_RC(ivm_lock_acquire(r, 100, &token), IVM_OK);
    ivm_lock_release(r, token);
    CHECK(0 == atomic_load(&ivm_sb(r)->lock.word));

    /* a live holder: bounded wait, then a message naming it */
    pid = fork();
    if (0 == pid) {
        uint64_t t;
        int rc = ivm_lock_acquire(r, 1000, &t);
        (void) !write(pfd[1], &rc, sizeof(rc));
        pause();
        _exit(0);
    }
    int rc = -1;
    CHECK(sizeof(rc) == read(pfd[0], &rc, sizeof(rc)));
    CHECK_RC(rc, IVM_OK);
    uint64_t t0 = ivm_now_ms();
    CHECK_RC(ivm_lock_acquire(r, 300, &token), IVM_ERR_TIMEOUT);
    CHECK(ivm_now_ms() - t0 < 5000);
    char pidstr[32];
    snprintf(pidstr, sizeof(pidstr), "pid %d", (int) pid);
    CHECK(NULL != strstr(r->errmsg, pidstr));
    CHECK(NULL != strstr(r->errmsg, "--break-lock"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CHECK_RC(ivm_lock_acquire(r, 100, &token), IVM_OK);
    ivm_lock_release(r, token);
    /* the admin's way out */
    atomic_store(&ivm_sb(r)->lock.word, 42);
    CHECK_RC(ivm_lock_break(r), IVM_OK);
    CHECK_RC(ivm_lock_acquire(r, 100, &token), IVM_OK);
    ivm_lock_release(r, token);
    close(pfd[0]);
    close(pfd[1]);
}

int main(void)
{
    char path[256];
    ivm_region_t r;
    struct ivm_owner me;
    ivm_test_device(path, 4u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, NULL), IVM_OK);
    ivm_owner_self(&me);
    CHECK(IVM_ALIVE == ivm_owner_liveness(&me));
    me.start_time++; /* same pid, other start time: a recycled pid */
    CHECK(IVM_DEAD == ivm_owner_liveness(&me));
    test_dead_and_alive(&r);
    test_other_vm(&r);
    test_lock(&r);
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_reclaim");
}
