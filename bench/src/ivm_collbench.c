/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* ivm_collbench: latency of MPI collectives on MPI_COMM_WORLD.
 *
 *   ivm_collbench [-l LABEL] [-o ops] [-s sizes] [-T target_ms] [-w warmup]
 *
 * ops: comma-separated subset of barrier,bcast,reduce,allreduce,allgather,
 * alltoall (default all).  sizes: comma-separated byte counts with K/M
 * suffixes, or A:B for powers of two from A to B (default 8:1M).  Sizes are
 * per rank (allgather, alltoall: bytes each rank sends to each rank).
 *
 * Method (as the OSU micro-benchmarks): bcast and reduce time each call
 * and separate calls by a barrier that is not timed (the root would
 * otherwise run ahead); barrier, allreduce, allgather and alltoall time a
 * loop of back-to-back calls.  A loop's latency is the average over its
 * iterations on each rank, averaged over the ranks.  Five loops, together
 * lasting about target_ms (barriers included), are run per measurement and
 * the median loop is reported: a burst of outside load that hits one loop
 * does not move the result.
 *
 * Output: "RESULT,<label>,<op>,<bytes>,<iters per loop>,<usec>" lines on
 * rank 0, and
 * "COLL,<component>" naming which coll component ran MPI_Allreduce
 * (from coll/ivm's MPI_T counter: ivm or other). */

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOPS 5

static int rank, size;

enum { OP_BARRIER, OP_BCAST, OP_REDUCE, OP_ALLREDUCE, OP_ALLGATHER, OP_ALLTOALL, NOPS };
static const char *names[NOPS] = {"barrier", "bcast", "reduce", "allreduce", "allgather",
                                  "alltoall"};

static char *sbuf, *rbuf;

static void once(int op, size_t bytes)
{
    int n = (int) (bytes / sizeof(double)), b = (int) bytes;
    switch (op) {
    case OP_BARRIER: MPI_Barrier(MPI_COMM_WORLD); break;
    case OP_BCAST: MPI_Bcast(sbuf, b, MPI_BYTE, 0, MPI_COMM_WORLD); break;
    case OP_REDUCE: MPI_Reduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD); break;
    case OP_ALLREDUCE: MPI_Allreduce(sbuf, rbuf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD); break;
    case OP_ALLGATHER: MPI_Allgather(sbuf, b, MPI_BYTE, rbuf, b, MPI_BYTE, MPI_COMM_WORLD); break;
    case OP_ALLTOALL: MPI_Alltoall(sbuf, b, MPI_BYTE, rbuf, b, MPI_BYTE, MPI_COMM_WORLD); break;
    }
}

/* Seconds per call over @iters calls on this rank (*wall: per iteration
 * including the untimed barriers, for sizing the loops). */
static double measure(int op, size_t bytes, long iters, double *wall)
{
    double total = 0, w0;
    MPI_Barrier(MPI_COMM_WORLD);
    w0 = MPI_Wtime();
    if (OP_BCAST == op || OP_REDUCE == op) {
        for (long i = 0; i < iters; i++) {
            double t0 = MPI_Wtime();
            once(op, bytes);
            total += MPI_Wtime() - t0;
            MPI_Barrier(MPI_COMM_WORLD);
        }
    } else {
        for (long i = 0; i < iters; i++) {
            once(op, bytes);
        }
        total = MPI_Wtime() - w0;
    }
    *wall = (MPI_Wtime() - w0) / (double) iters;
    return total / (double) iters;
}

static size_t parse_size(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if ('K' == *end || 'k' == *end) v *= 1024;
    if ('M' == *end || 'm' == *end) v *= 1024 * 1024;
    return (size_t) v;
}

static const char *label = "run", *opl = NULL, *sizes = "8:1M";
static double target_ms = 100;
static int warmup = 20;
static size_t list[64]; /* message sizes, from -s */
static int nsizes;

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-l")) label = argv[i + 1];
        else if (!strcmp(argv[i], "-o")) opl = argv[i + 1];
        else if (!strcmp(argv[i], "-s")) sizes = argv[i + 1];
        else if (!strcmp(argv[i], "-T")) target_ms = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-w")) warmup = atoi(argv[i + 1]);
    }
}

/* -s: sizes and LO:HI ranges (powers of two from LO, 0 included) into list[] */
static void parse_sizes(void)
{
    char *copy = strdup(sizes), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t && nsizes < 64; t = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(t, ':');
        if (colon) {
            *colon = '\0';
            size_t s = parse_size(t), hi = parse_size(colon + 1);
            if (0 == s) {
                list[nsizes++] = 0;
                s = 1;
            }
            for (; s <= hi && nsizes < 64; s *= 2) {
                list[nsizes++] = s;
            }
        } else {
            list[nsizes++] = parse_size(t);
        }
    }
    free(copy);
}

/* Calls per loop for about target_ms of wall time per LOOPS loops (rank
 * 0's estimate, from the last of a few short loops) */
static long calibrate(int op, size_t bytes)
{
    long iters = 10;
    double wall = 0;
    for (int k = 0; k < 3; k++) {
        (void) measure(op, bytes, iters, &wall);
    }
    MPI_Bcast(&wall, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    iters = (long) (target_ms * 1e-3 / (wall > 1e-7 ? wall : 1e-7));
    iters = iters < 10 ? 10 : iters > 1000000 ? 1000000 : iters;
    iters = (iters + LOOPS - 1) / LOOPS;
    return iters < 10 ? 10 : iters;
}

/* One RESULT line: @op on @bytes.  LOOPS loops of a fifth of target_ms
 * each; the median loop is reported, so that a burst of outside load
 * hitting one loop does not move the result */
static void bench_one(int op, size_t bytes)
{
    double loop[LOOPS], wall;
    for (int w = 0; w < warmup; w++) once(op, bytes);
    long iters = calibrate(op, bytes);
    for (int k = 0; k < LOOPS; k++) {
        double mine = measure(op, bytes, iters, &wall), sum = 0;
        MPI_Reduce(&mine, &sum, 1, MPI_DOUBLE, MPI_SUM, 0, MPI_COMM_WORLD);
        loop[k] = sum / size;
    }
    if (0 == rank) {
        for (int a = 1; a < LOOPS; a++) {
            for (int b = a; b > 0 && loop[b - 1] > loop[b]; b--) {
                double t = loop[b];
                loop[b] = loop[b - 1];
                loop[b - 1] = t;
            }
        }
        printf("RESULT,%s,%s,%zu,%ld,%.4f\n", label, names[op], bytes, iters,
               loop[LOOPS / 2] * 1e6);
        fflush(stdout);
    }
}

/* which component served MPI_Allreduce on MPI_COMM_WORLD? (COLL line) */
static void report_component(void)
{
    int provided, idx, count;
    unsigned long long calls = 0;
    MPI_T_pvar_session ses;
    MPI_T_pvar_handle h;
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
    MPI_T_pvar_session_create(&ses);
    int have = MPI_SUCCESS == MPI_T_pvar_get_index("coll_ivm_allreduce_calls",
                                                    MPI_T_PVAR_CLASS_COUNTER, &idx)
               && MPI_SUCCESS == MPI_T_pvar_handle_alloc(ses, idx, NULL, &h, &count);
    if (have) {
        double x = 1, y;
        MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        MPI_T_pvar_read(ses, h, &calls);
        MPI_T_pvar_handle_free(ses, &h);
    }
    MPI_T_pvar_session_free(&ses);
    MPI_T_finalize();
    if (0 == rank) {
        printf("COLL,%s,%s\n", label, calls > 0 ? "ivm" : "other");
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    parse_args(argc, argv);
    parse_sizes();
    size_t maxb = 8;
    for (int i = 0; i < nsizes; i++) maxb = list[i] > maxb ? list[i] : maxb;
    sbuf = calloc((size_t) size, maxb);
    rbuf = calloc((size_t) size, maxb);

    for (int op = 0; op < NOPS; op++) {
        if (NULL != opl && NULL == strstr(opl, names[op])) continue;
        for (int i = 0; i < nsizes; i++) {
            if (OP_BARRIER == op && i > 0) break;
            bench_one(op, OP_BARRIER == op ? 0 : list[i]);
        }
    }
    report_component();
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
