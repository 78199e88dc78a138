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

/* ivm_oscbench: one-sided latency and bandwidth between 2 ranks.
 *
 *   ivm_oscbench [-l LABEL] [-f allocate|create] [-s sizes] [-T target_ms]
 *
 * Rank 0 is the origin, rank 1 the target, which waits in MPI_Recv (so a
 * component that needs the target's progress gets it).  Window: MPI_Win_
 * allocate (-f allocate, default) or MPI_Win_create on MPI_Alloc_mem
 * memory with mpool_hints=ivm (-f create).  Tests, each a loop timed on
 * the origin:
 *   put, get      MPI_Put / MPI_Get of SIZE bytes + MPI_Win_flush, in one
 *                 MPI_Win_lock_all epoch (every size of -s; bandwidth =
 *                 SIZE / time)
 *   acc           MPI_Accumulate of one int64 (MPI_SUM) + flush
 *   fop           MPI_Fetch_and_op of one int64 (MPI_SUM) + flush
 *   lock          MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1) + MPI_Win_unlock(1)
 * Five loops lasting about target_ms together are run per test and the
 * median loop is reported (a burst of outside load does not move it).
 *
 * Output (rank 0): "RESULT,<label>,<test>,<bytes>,<iters>,<usec>" lines,
 * and "OSC,<n>": windows osc/ivm created in this run (its MPI_T counter
 * osc_ivm_windows; -1 when osc/ivm is not loaded). */

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOPS 5
/* the largest size measured; windows of 2 ranks fit a default job
 * partition of osc/ivm (16 MiB, half for windows) */
#define MAXSIZE (1u << 20)

enum { T_PUT, T_GET, T_ACC, T_FOP, T_LOCK };
static const char *const names[] = {"put", "get", "acc", "fop", "lock"};

static MPI_Win win;
static char *obuf;

static void one(int test, size_t bytes)
{
    int64_t one = 1, res;
    switch (test) {
    case T_PUT:
        MPI_Put(obuf, (int) bytes, MPI_BYTE, 1, 0, (int) bytes, MPI_BYTE, win);
        MPI_Win_flush(1, win);
        break;
    case T_GET:
        MPI_Get(obuf, (int) bytes, MPI_BYTE, 1, 0, (int) bytes, MPI_BYTE, win);
        MPI_Win_flush(1, win);
        break;
    case T_ACC:
        MPI_Accumulate(&one, 1, MPI_INT64_T, 1, 0, 1, MPI_INT64_T, MPI_SUM, win);
        MPI_Win_flush(1, win);
        break;
    case T_FOP:
        MPI_Fetch_and_op(&one, &res, MPI_INT64_T, 1, 0, MPI_SUM, win);
        MPI_Win_flush(1, win);
        break;
    default:
        MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 1, 0, win);
        MPI_Win_unlock(1, win);
        break;
    }
}

static double loop(int test, size_t bytes, long iters)
{
    if (T_LOCK != test) {
        MPI_Win_lock_all(0, win);
    }
    double t0 = MPI_Wtime();
    for (long i = 0; i < iters; i++) {
        one(test, bytes);
    }
    double t = MPI_Wtime() - t0;
    if (T_LOCK != test) {
        MPI_Win_unlock_all(win);
    }
    return t;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* Origin: calibrate, then LOOPS loops; prints the median. */
static void measure(const char *label, int test, size_t bytes, double target_ms)
{
    long iters = 1;
    double t, loops[LOOPS];
    (void) loop(test, bytes, 16); /* warm up: caches, TLB, first-touch */
    while ((t = loop(test, bytes, iters)) < target_ms / 1000.0 / LOOPS / 4 && iters < (1L << 30)) {
        iters *= 2;
    }
    iters = (long) (iters * (target_ms / 1000.0 / LOOPS) / (t > 0 ? t : 1e-9)) + 1;
    for (int k = 0; k < LOOPS; k++) {
        loops[k] = loop(test, bytes, iters) / iters;
    }
    qsort(loops, LOOPS, sizeof(double), cmp);
    printf("RESULT,%s,%s,%zu,%ld,%.4f\n", label, names[test], bytes, iters, loops[LOOPS / 2] * 1e6);
    fflush(stdout);
}

/* osc/ivm's MPI_T counter of windows it created, bound right after MPI_Init
 * (before any window exists); -1 when osc/ivm is not loaded. */
static MPI_T_pvar_session pv_session;
static MPI_T_pvar_handle pv_windows;
static int pv_ok;

static void osc_ivm_windows_bind(void)
{
    int provided, idx, n;
    pv_ok =
        MPI_SUCCESS == MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)
        && MPI_SUCCESS == MPI_T_pvar_get_index("osc_ivm_windows", MPI_T_PVAR_CLASS_COUNTER, &idx)
        && MPI_SUCCESS == MPI_T_pvar_session_create(&pv_session)
        && MPI_SUCCESS == MPI_T_pvar_handle_alloc(pv_session, idx, NULL, &pv_windows, &n);
}

static long long osc_ivm_windows(void)
{
    unsigned long long v = 0;
    if (!pv_ok || MPI_SUCCESS != MPI_T_pvar_read(pv_session, pv_windows, &v)) {
        return -1;
    }
    return (long long) v;
}

static size_t parse_size(const char *s)
{
    char *end;
    size_t v = strtoul(s, &end, 10);
    return 'K' == *end ? v << 10 : 'M' == *end ? v << 20 : v;
}

int main(int argc, char **argv)
{
    const char *label = "run", *flavor = "allocate", *sizes = "8,64,512,4K,32K,256K,1M";
    double target_ms = 50;
    int rank, size, done = 0;
    void *base;
    MPI_Info info;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    osc_ivm_windows_bind();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (0 == strcmp(argv[i], "-l")) label = argv[i + 1];
        else if (0 == strcmp(argv[i], "-f")) flavor = argv[i + 1];
        else if (0 == strcmp(argv[i], "-s")) sizes = argv[i + 1];
        else if (0 == strcmp(argv[i], "-T")) target_ms = atof(argv[i + 1]);
    }
    if (2 != size) {
        if (0 == rank) fprintf(stderr, "ivm_oscbench: needs exactly 2 ranks\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    obuf = malloc(MAXSIZE);
    memset(obuf, 1, MAXSIZE);
    if (0 == strcmp(flavor, "create")) {
        MPI_Info_create(&info);
        MPI_Info_set(info, "mpool_hints", "ivm");
        MPI_Alloc_mem(MAXSIZE, info, &base);
        MPI_Win_create(base, MAXSIZE, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &win);
        MPI_Info_free(&info);
    } else {
        MPI_Win_allocate(MAXSIZE, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &win);
    }
    memset(base, 0, MAXSIZE);
    MPI_Barrier(MPI_COMM_WORLD);
    if (0 == rank) {
        char *list = strdup(sizes), *save = NULL;
        for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            size_t b = parse_size(tok);
            if (b > 0 && b <= MAXSIZE) {
                measure(label, T_PUT, b, target_ms);
                measure(label, T_GET, b, target_ms);
            }
        }
        free(list);
        measure(label, T_ACC, 8, target_ms);
        measure(label, T_FOP, 8, target_ms);
        measure(label, T_LOCK, 0, target_ms);
        printf("OSC,%lld\n", osc_ivm_windows());
        MPI_Send(&done, 1, MPI_INT, 1, 0, MPI_COMM_WORLD);
    } else {
        MPI_Recv(&done, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
    MPI_Win_free(&win);
    if (0 == strcmp(flavor, "create")) {
        MPI_Free_mem(base);
    }
    free(obuf);
    MPI_Finalize();
    return 0;
}
