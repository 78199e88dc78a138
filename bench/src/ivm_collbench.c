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
 *   ivm_collbench [-l LABEL] [-o ops] [-s sizes] [-p patterns] [-T target_ms] [-w warmup]
 *                 [-a 1]
 *
 * ops: comma-separated subset of barrier,bcast,reduce,allreduce,allgather,
 * alltoall,reduce_scatter (default all).  sizes: comma-separated byte
 * counts with K/M suffixes, or A:B for powers of two from A to B (default
 * 8:1M).  Sizes are per rank: the bytes of the (all)reduced or broadcast
 * vector; for allgather and alltoall the bytes each rank sends to each
 * rank; for reduce_scatter the bytes each rank receives (its block; the
 * vector is size x that).  patterns: sep, b2b or both (default sep,b2b).
 * -a 1: the buffers come from MPI_Alloc_mem with mpool_hints=ivm (in the
 * ivm region where there is one).
 *
 * The two call patterns, as benchmarks in use measure them:
 *   sep  every call is timed on its own and calls are separated by an
 *        untimed barrier (the OSU micro-benchmarks' bcast and reduce): the
 *        latency of one call that starts with every rank present;
 *   b2b  a loop of back-to-back calls is timed as a whole (the OSU
 *        allreduce, IMB, most applications): a root may run ahead, and
 *        one call's tail overlaps the next call's start.
 * A loop's latency is the average over its iterations on each rank,
 * averaged over the ranks.  Five loops, together lasting about target_ms
 * (barriers included), are run per measurement and the median loop is
 * reported: a burst of outside load that hits one loop does not move the
 * result.  Bcast and reduce rotate nothing: root 0, as the benchmarks do.
 *
 * Output on rank 0: "RESULT,<label>,<op>,<bytes>,<iters per loop>,<usec>,
 * <pattern>" lines; "COLL,<label>,<component>" naming which coll component
 * ran MPI_Allreduce (from coll/ivm's MPI_T counter: ivm or other); and per
 * measured op "CALLS,<label>,<op>,<run by coll/ivm>,<fell back>,<handed
 * over>" from coll/ivm's counters <op>_calls, <op>_fallbacks and
 * <op>_handovers (summed over the ranks; none where coll/ivm is not
 * loaded). */

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOOPS 5

static int rank, size;

enum {
    OP_BARRIER,
    OP_BCAST,
    OP_REDUCE,
    OP_ALLREDUCE,
    OP_ALLGATHER,
    OP_ALLTOALL,
    OP_REDUCE_SCATTER,
    NOPS
};
static const char *names[NOPS] = {"barrier",   "bcast",    "reduce",        "allreduce",
                                  "allgather", "alltoall", "reduce_scatter"};
enum { PAT_SEP, PAT_B2B, NPATS };
static const char *pat_names[NPATS] = {"sep", "b2b"};

static char *sbuf, *rbuf;
static int *rs_counts;

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
    case OP_REDUCE_SCATTER:
        for (int i = 0; i < size; i++) rs_counts[i] = n;
        MPI_Reduce_scatter(sbuf, rbuf, rs_counts, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        break;
    }
}

/* Seconds per call over @iters calls on this rank in pattern @pat (*wall:
 * per iteration including the untimed barriers, for sizing the loops). */
static double measure(int op, int pat, size_t bytes, long iters, double *wall)
{
    double total = 0, w0;
    MPI_Barrier(MPI_COMM_WORLD);
    w0 = MPI_Wtime();
    if (PAT_SEP == pat) {
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

/* One measurement: RESULT line of the median of LOOPS loops. */
static void run_one(const char *label, int op, int pat, size_t bytes, int warmup, double target_ms)
{
    /* large messages: few warm-up calls (each is milliseconds) */
    int w = bytes > 65536 ? (warmup < 3 ? warmup : 3) : warmup;
    for (int k = 0; k < w; k++) once(op, bytes);
    /* calibrate: iterations for about target_ms of wall time (rank 0's
     * estimate from a short loop, two for small messages) */
    long iters = bytes > 65536 ? 2 : 10;
    double wall = 0;
    for (int k = 0; k < (bytes > 65536 ? 1 : 2); k++) {
        (void) measure(op, pat, bytes, iters, &wall);
    }
    MPI_Bcast(&wall, 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
    iters = (long) (target_ms * 1e-3 / (wall > 1e-7 ? wall : 1e-7));
    /* LOOPS loops of a fifth of target_ms each, at least 3 calls each */
    iters = (iters + LOOPS - 1) / LOOPS;
    iters = iters < 3 ? 3 : iters > 200000 ? 200000 : iters;
    double loop[LOOPS];
    for (int k = 0; k < LOOPS; k++) {
        double mine = measure(op, pat, bytes, iters, &wall), sum = 0;
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
        printf("RESULT,%s,%s,%zu,%ld,%.4f,%s\n", label, names[op], bytes, iters,
               loop[LOOPS / 2] * 1e6, pat_names[pat]);
        fflush(stdout);
    }
}

/* coll/ivm's counters.  A counter handle counts from the moment it is
 * allocated (Open MPI reports the value minus the one at allocation), so
 * the handles are allocated before the first measured call. */
static MPI_T_pvar_session ses;
static MPI_T_pvar_handle handle[NOPS][3];
static int have[NOPS][3];

static void counters_open(void)
{
    static const char *kind[3] = {"calls", "fallbacks", "handovers"};
    int provided, idx, count;
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
    MPI_T_pvar_session_create(&ses);
    for (int op = 0; op < NOPS; op++) {
        for (int k = 0; k < 3; k++) {
            char name[64];
            snprintf(name, sizeof(name), "coll_ivm_%s_%s", names[op], kind[k]);
            have[op][k] =
                MPI_SUCCESS == MPI_T_pvar_get_index(name, MPI_T_PVAR_CLASS_COUNTER, &idx)
                && MPI_SUCCESS == MPI_T_pvar_handle_alloc(ses, idx, NULL, &handle[op][k], &count);
        }
    }
}

/* Counter @k of @op summed over the ranks (-1: not available). */
static long long counter_sum(int op, int k)
{
    unsigned long long v = 0;
    long long mine, sum = 0;
    if (have[op][k]) {
        MPI_T_pvar_read(ses, handle[op][k], &v);
    }
    mine = have[op][k] ? (long long) v : -1;
    MPI_Reduce(&mine, &sum, 1, MPI_LONG_LONG, MPI_SUM, 0, MPI_COMM_WORLD);
    return mine < 0 ? -1 : sum;
}

static void counters_close(void)
{
    for (int op = 0; op < NOPS; op++) {
        for (int k = 0; k < 3; k++) {
            if (have[op][k]) MPI_T_pvar_handle_free(ses, &handle[op][k]);
        }
    }
    MPI_T_pvar_session_free(&ses);
    MPI_T_finalize();
}

/* The command line's settings (defaults as documented above). */
typedef struct {
    const char *label, *opl, *sizes, *patl;
    double target_ms;
    int warmup, alloc_mem;
} options_t;

/* Reads the -X VALUE pairs of the command line; others are skipped. */
static void parse_options(int argc, char **argv, options_t *o)
{
    *o = (options_t){
        .label = "run", .sizes = "8:1M", .patl = "sep,b2b", .target_ms = 100, .warmup = 20};
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "-l")) o->label = argv[i + 1];
        else if (!strcmp(argv[i], "-o")) o->opl = argv[i + 1];
        else if (!strcmp(argv[i], "-s")) o->sizes = argv[i + 1];
        else if (!strcmp(argv[i], "-p")) o->patl = argv[i + 1];
        else if (!strcmp(argv[i], "-T")) o->target_ms = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "-w")) o->warmup = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "-a")) o->alloc_mem = atoi(argv[i + 1]);
    }
}

/* want[op]: whether -o names op (every op without -o); whole names only:
 * "reduce" must not select reduce_scatter. */
static void select_ops(const char *opl, int want[NOPS])
{
    for (int k = 0; k < NOPS; k++) {
        want[k] = NULL == opl;
    }
    if (NULL != opl) {
        char *copy = strdup(opl), *save = NULL;
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            for (int k = 0; k < NOPS; k++) want[k] |= !strcmp(t, names[k]);
        }
        free(copy);
    }
}

/* The -s list as byte counts (A:B: powers of two from A to B, 0 first if
 * A is 0); returns how many, at most 64. */
static int parse_sizes(const char *sizes, size_t list[64])
{
    int nsizes = 0;
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
    return nsizes;
}

/* Send and receive buffers of size x maxb bytes, from MPI_Alloc_mem in
 * the ivm region with -a 1 (so coll/ivm can take its single-copy paths). */
static void buffers_alloc(int alloc_mem, size_t maxb)
{
    if (alloc_mem) {
        MPI_Info info;
        MPI_Info_create(&info);
        MPI_Info_set(info, "mpool_hints", "ivm");
        if (MPI_SUCCESS != MPI_Alloc_mem((MPI_Aint) (size * maxb), info, &sbuf)
            || MPI_SUCCESS != MPI_Alloc_mem((MPI_Aint) (size * maxb), info, &rbuf)) {
            fprintf(stderr, "ivm_collbench: MPI_Alloc_mem failed\n");
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
        MPI_Info_free(&info);
        memset(sbuf, 0, size * maxb);
        memset(rbuf, 0, size * maxb);
    } else {
        sbuf = calloc((size_t) size, maxb);
        rbuf = calloc((size_t) size, maxb);
    }
    rs_counts = calloc((size_t) size, sizeof(int));
    if (NULL == sbuf || NULL == rbuf || NULL == rs_counts) {
        fprintf(stderr, "ivm_collbench: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
}

/* Gives the buffers back the way buffers_alloc got them. */
static void buffers_free(int alloc_mem)
{
    if (alloc_mem) {
        MPI_Free_mem(sbuf);
        MPI_Free_mem(rbuf);
    } else {
        free(sbuf);
        free(rbuf);
    }
    free(rs_counts);
}

/* CALLS lines of the measured ops and the COLL line, from coll/ivm's
 * counters (read before the counters' own reductions add to them); then
 * closes the counters. */
static void report_counters(const char *label, const int want[NOPS])
{
    long long count[NOPS][3];
    for (int op = 0; op < NOPS; op++) {
        for (int k = 0; k < 3; k++) count[op][k] = counter_sum(op, k);
    }
    for (int op = 0; op < NOPS; op++) {
        if (want[op] && 0 == rank && count[op][0] >= 0) {
            printf("CALLS,%s,%s,%lld,%lld,%lld\n", label, names[op], count[op][0], count[op][1],
                   count[op][2]);
        }
    }
    /* which component serves MPI_Allreduce? */
    long long before = counter_sum(OP_ALLREDUCE, 0);
    double x = 1, y;
    MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    long long after = counter_sum(OP_ALLREDUCE, 0);
    counters_close();
    if (0 == rank) {
        printf("COLL,%s,%s\n", label, after > before ? "ivm" : "other");
    }
}

int main(int argc, char **argv)
{
    options_t o;
    size_t list[64];
    int nsizes, want[NOPS], pats[NPATS];

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    counters_open();
    parse_options(argc, argv, &o);
    select_ops(o.opl, want);
    for (int k = 0; k < NPATS; k++) pats[k] = NULL != strstr(o.patl, pat_names[k]);
    nsizes = parse_sizes(o.sizes, list);
    size_t maxb = 8;
    for (int i = 0; i < nsizes; i++) maxb = list[i] > maxb ? list[i] : maxb;
    buffers_alloc(o.alloc_mem, maxb);

    for (int op = 0; op < NOPS; op++) {
        if (!want[op]) continue;
        for (int pat = 0; pat < NPATS; pat++) {
            if (!pats[pat]) continue;
            for (int i = 0; i < nsizes; i++) {
                if (OP_BARRIER == op && i > 0) break;
                run_one(o.label, op, pat, OP_BARRIER == op ? 0 : list[i], o.warmup, o.target_ms);
            }
        }
    }

    report_counters(o.label, want);
    buffers_free(o.alloc_mem);
    MPI_Finalize();
    return 0;
}
