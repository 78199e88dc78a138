/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* coll_check: every collective coll/ivm provides, on several
 * communicators, checked against results computed independently (every
 * rank can compute every other rank's contribution: they are functions of
 * rank, index and a per-test salt).
 *
 *   coll_check [--max-bytes N] [--expect flat|hier|any|none] [--quick]
 *              [--leak N] [--many N] [--only NAME] [--intercomm]
 *
 * --expect   what coll/ivm must have done on MPI_COMM_WORLD, checked with
 *            its MPI_T counters (coll_ivm_*): flat/hier = every collective
 *            ran in ivm at least once and no communicator fell back;
 *            none = coll/ivm ran nothing.
 * --leak N   N rounds of dup/split/collectives/free; the job heap's in-use
 *            bytes (coll_ivm_heap_in_use) must come back to where they were.
 * --many N   N communicators alive at once, each used; coll/ivm may run out
 *            of region memory and fall back, results must stay right.
 * --intercomm  also an intercommunicator (which coll/ivm must decline).
 *
 * Prints "coll_check: PASS ..." on rank 0 or FAIL lines; exit status 0
 * only when every rank passed. */

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int wrank, wsize;
static size_t max_bytes = 1u << 20;
static int quick = 0;
static const char *only = NULL;
static long errors = 0;

#define FAILF(...)                                     \
    do {                                               \
        if (errors++ < 20) {                           \
            fprintf(stderr, "FAIL [rank %d] ", wrank); \
            fprintf(stderr, __VA_ARGS__);              \
            fputc('\n', stderr);                       \
        }                                              \
    } while (0)

static int want(const char *name)
{
    return NULL == only || NULL != strstr(only, name);
}

/* ---- contributions ---- */

static int ival(int r, long i, int salt)
{
    return (r + 1) * 31 + (int) ((i * 17 + salt) % 1013);
}

static double dval(int r, long i, int salt)
{
    return (double) ((r * 7 + i * 13 + salt) % 1009) * 0.5;
}

/* an affine map x -> a*x + b (mod 2^32), packed as a << 32 | b */
static uint64_t uval(int r, long i, int salt)
{
    uint64_t a = 2 * (uint64_t) ((r * 5 + i + salt) % 97) + 1,
             b = (uint64_t) ((r * 11 + i * 3 + salt) % 1000);
    return a << 32 | b;
}

/* composition p o q: associative, not commutative */
static uint64_t compose(uint64_t p, uint64_t q)
{
    uint32_t a1 = (uint32_t) (p >> 32), b1 = (uint32_t) p, a2 = (uint32_t) (q >> 32),
             b2 = (uint32_t) q;
    return (uint64_t) (uint32_t) (a1 * a2) << 32 | (uint32_t) (a1 * b2 + b1);
}

static void compose_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    uint64_t *a = in, *b = inout;
    (void) dt;
    for (int i = 0; i < *len; i++) {
        b[i] = compose(a[i], b[i]); /* inout = in op inout */
    }
}

static void pairsum_op(void *in, void *inout, int *len, MPI_Datatype *dt)
{
    int *a = in, *b = inout;
    (void) dt;
    for (int i = 0; i < 2 * *len; i++) {
        b[i] += a[i];
    }
}

static double now(void)
{
    /* MPI_Wtime may count from each process's MPI_Init: compare clocks */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

static MPI_Op op_compose, op_pairsum;
static MPI_Datatype t_pair;  /* contiguous 2 x int: a derived type */
static MPI_Datatype t_gappy; /* 2 ints at 0 and 2 of a 4-int extent */

static const int SENTINEL = 0x5a5a5a5a;

/* ---- element counts to try ---- */

static int counts(long *out, size_t elem)
{
    static const long base[] = {0, 1, 3, 64, 1000, 5000, 70000, 1 << 20, 4 << 20};
    int n = 0;
    for (size_t k = 0; k < sizeof(base) / sizeof(base[0]); k++) {
        if ((size_t) base[k] * elem <= max_bytes && (!quick || base[k] <= 5000)) {
            out[n++] = base[k];
        }
    }
    return n;
}

/* ---- barrier ---- */

static void t_barrier(MPI_Comm c)
{
    int r, n;
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    double *t = malloc(2 * n * sizeof(double));
    for (int k = 0; k < (quick ? 2 : 4) * n; k++) {
        if (r == k % n) {
            usleep(3000);
        }
        double tin = now();
        MPI_Barrier(c);
        double tout = now(), mine[2] = {tin, tout};
        /* checked through point-to-point, not through a collective */
        if (0 != r) {
            MPI_Send(mine, 2, MPI_DOUBLE, 0, 99, c);
        } else {
            double last_in = tin, first_out = tout;
            for (int p = 1; p < n; p++) {
                MPI_Recv(mine, 2, MPI_DOUBLE, p, 99, c, MPI_STATUS_IGNORE);
                last_in = mine[0] > last_in ? mine[0] : last_in;
                first_out = mine[1] < first_out ? mine[1] : first_out;
            }
            if (first_out + 1e-4 < last_in) {
                FAILF("barrier: a rank left at %.6f before the last arrived at %.6f", first_out,
                      last_in);
            }
        }
    }
    free(t);
}

/* ---- bcast ---- */

static void t_bcast(MPI_Comm c)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    int nc = counts(cnt, sizeof(int));
    for (int root = 0; root < n; root++) {
        for (int k = 0; k < nc; k++) {
            if (quick && root > 1 && cnt[k] > 1000) {
                continue;
            }
            long m = cnt[k];
            int salt = root * 3 + k;
            int *b = malloc((m + 1) * sizeof(int));
            for (long i = 0; i < m; i++) {
                b[i] = r == root ? ival(root, i, salt) : -1;
            }
            MPI_Bcast(b, (int) m, MPI_INT, root, c);
            for (long i = 0; i < m; i++) {
                if (b[i] != ival(root, i, salt)) {
                    FAILF("bcast root %d count %ld: [%ld] = %d, expected %d", root, m, i, b[i],
                          ival(root, i, salt));
                    break;
                }
            }
            free(b);
        }
        /* derived type on the receivers, plain ints at the root */
        long m = quick ? 100 : 3000;
        int *g = malloc(4 * m * sizeof(int));
        for (long i = 0; i < 4 * m; i++) {
            g[i] = r == root ? ival(root, i, 77) : SENTINEL;
        }
        if (r == root) {
            MPI_Bcast(g, (int) (2 * m), MPI_INT, root, c);
        } else {
            MPI_Bcast(g, (int) m, t_gappy, root, c);
        }
        for (long e = 0; r != root && e < m; e++) {
            if (g[4 * e] != ival(root, 2 * e, 77) || g[4 * e + 2] != ival(root, 2 * e + 1, 77)
                || g[4 * e + 1] != SENTINEL || g[4 * e + 3] != SENTINEL) {
                FAILF("bcast derived root %d: element %ld wrong", root, e);
                break;
            }
        }
        free(g);
    }
}

/* ---- reduce / allreduce ---- */

enum red_kind { RED_SUM_INT, RED_MAX_DOUBLE, RED_USER_U64, RED_PAIR_SUM, RED_NKIND };
static const char *red_name[] = {"sum/int", "max/double", "user-noncommutative/uint64",
                                 "user-sum/derived-pair"};

static size_t red_elem(int kind)
{
    return kind == RED_SUM_INT ? 4 : kind == RED_PAIR_SUM ? 8 : 8;
}

static void red_fill(int kind, void *buf, int r, long m, int salt)
{
    for (long i = 0; i < m; i++) {
        switch (kind) {
        case RED_SUM_INT: ((int *) buf)[i] = ival(r, i, salt); break;
        case RED_MAX_DOUBLE: ((double *) buf)[i] = dval(r, i, salt); break;
        case RED_USER_U64: ((uint64_t *) buf)[i] = uval(r, i, salt); break;
        case RED_PAIR_SUM:
            ((int *) buf)[2 * i] = ival(r, i, salt);
            ((int *) buf)[2 * i + 1] = ival(r, i + 7, salt);
            break;
        }
    }
}

/* the result over ranks 0..n-1, in rank order */
static int red_check(int kind, const void *buf, int n, long m, int salt, const char *what)
{
    for (long i = 0; i < m; i++) {
        int ok = 1;
        switch (kind) {
        case RED_SUM_INT: {
            long s = 0;
            for (int p = 0; p < n; p++) s += ival(p, i, salt);
            ok = ((const int *) buf)[i] == (int) s;
            break;
        }
        case RED_MAX_DOUBLE: {
            double x = dval(0, i, salt);
            for (int p = 1; p < n; p++) x = dval(p, i, salt) > x ? dval(p, i, salt) : x;
            ok = ((const double *) buf)[i] == x;
            break;
        }
        case RED_USER_U64: {
            uint64_t x = uval(n - 1, i, salt);
            for (int p = n - 2; p >= 0; p--) x = compose(uval(p, i, salt), x);
            ok = ((const uint64_t *) buf)[i] == x;
            break;
        }
        case RED_PAIR_SUM: {
            long s0 = 0, s1 = 0;
            for (int p = 0; p < n; p++) {
                s0 += ival(p, i, salt);
                s1 += ival(p, i + 7, salt);
            }
            ok = ((const int *) buf)[2 * i] == (int) s0
                 && ((const int *) buf)[2 * i + 1] == (int) s1;
            break;
        }
        }
        if (!ok) {
            FAILF("%s %s count %ld: element %ld wrong", what, red_name[kind], m, i);
            return 1;
        }
    }
    return 0;
}

static void red_args(int kind, MPI_Datatype *dt, MPI_Op *op)
{
    *dt = kind == RED_SUM_INT      ? MPI_INT
          : kind == RED_MAX_DOUBLE ? MPI_DOUBLE
          : kind == RED_USER_U64   ? MPI_UINT64_T
                                   : t_pair;
    *op = kind == RED_MAX_DOUBLE ? MPI_MAX
          : kind == RED_USER_U64 ? op_compose
          : kind == RED_PAIR_SUM ? op_pairsum
                                 : MPI_SUM;
}

static void t_reduce(MPI_Comm c, int all)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    for (int kind = 0; kind < RED_NKIND; kind++) {
        int nc = counts(cnt, red_elem(kind));
        MPI_Datatype dt;
        MPI_Op op;
        red_args(kind, &dt, &op);
        for (int root = 0; root < (all ? 1 : n); root++) {
            for (int k = 0; k < nc; k++) {
                long m = cnt[k];
                if (quick && root > 1 && m > 64) {
                    continue;
                }
                for (int inplace = 0; inplace < 2; inplace++) {
                    int salt = 5 * root + k + 100 * inplace + kind;
                    size_t bytes = (size_t) m * red_elem(kind) + 8;
                    void *s = malloc(bytes), *d = malloc(bytes);
                    red_fill(kind, s, r, m, salt);
                    memset(d, 0xab, bytes);
                    int use_ip = inplace && (all || r == root);
                    if (use_ip) {
                        memcpy(d, s, bytes - 8);
                    }
                    if (all) {
                        MPI_Allreduce(use_ip ? MPI_IN_PLACE : s, d, (int) m, dt, op, c);
                    } else {
                        MPI_Reduce(use_ip ? MPI_IN_PLACE : s, d, (int) m, dt, op, root, c);
                    }
                    if (all || r == root) {
                        char what[64];
                        snprintf(what, sizeof(what), "%s root %d%s", all ? "allreduce" : "reduce",
                                 root, use_ip ? " in-place" : "");
                        red_check(kind, d, n, m, salt, what);
                    }
                    free(s);
                    free(d);
                }
            }
        }
    }
}

/* ---- reduce_scatter(_block) ---- */

/* First wrong element of @d, our @cnt elements (from global element
 * @off) of the rank-ordered reduction of kind @kind over @n ranks; -1 if
 * none */
static long rs_first_bad(int kind, const char *d, long cnt, long off, int n, int salt)
{
    for (long i = 0; i < cnt; i++) {
        long gi = off + i;
        switch (kind) {
        case RED_SUM_INT: {
            long sum = 0;
            for (int p = 0; p < n; p++) sum += ival(p, gi, salt);
            if (((const int *) d)[i] != (int) sum) return i;
            break;
        }
        case RED_MAX_DOUBLE: {
            double x = dval(0, gi, salt);
            for (int p = 1; p < n; p++) x = dval(p, gi, salt) > x ? dval(p, gi, salt) : x;
            if (((const double *) d)[i] != x) return i;
            break;
        }
        case RED_USER_U64: {
            uint64_t x = uval(n - 1, gi, salt);
            for (int p = n - 2; p >= 0; p--) x = compose(uval(p, gi, salt), x);
            if (((const uint64_t *) d)[i] != x) return i;
            break;
        }
        case RED_PAIR_SUM: {
            long s0 = 0, s1 = 0;
            for (int p = 0; p < n; p++) {
                s0 += ival(p, gi, salt);
                s1 += ival(p, gi + 7, salt);
            }
            if (((const int *) d)[2 * i] != (int) s0 || ((const int *) d)[2 * i + 1] != (int) s1)
                return i;
            break;
        }
        }
    }
    return -1;
}

/* One reduce_scatter(_block) of kind @kind with counts @rc (@per each for
 * _block), in place or not, checked */
static void rs_one(MPI_Comm c, int block, long per, int kind, const int *rc, int salt, int inplace)
{
    int r, n;
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    MPI_Datatype dt;
    MPI_Op op;
    red_args(kind, &dt, &op);
    long total = 0, mine_off = 0;
    for (int p = 0; p < n; p++) {
        if (p < r) mine_off += rc[p];
        total += rc[p];
    }
    size_t es = red_elem(kind);
    char *s = malloc(total * es + 8), *d = malloc(total * es + 8);
    red_fill(kind, s, r, total, salt);
    memset(d, 0xcd, total * es + 8);
    if (inplace) {
        memcpy(d, s, total * es);
    }
    const void *sb = inplace ? MPI_IN_PLACE : s;
    if (block) {
        MPI_Reduce_scatter_block(sb, d, (int) per, dt, op, c);
    } else {
        MPI_Reduce_scatter(sb, d, rc, dt, op, c);
    }
    /* my block of the rank-ordered reduction */
    long bad = rs_first_bad(kind, d, rc[r], mine_off, n, salt);
    if (bad >= 0) {
        FAILF("reduce_scatter%s %s per %ld%s: element %ld wrong", block ? "_block" : "",
              red_name[kind], per, inplace ? " in-place" : "", bad);
    }
    free(s);
    free(d);
}

static void t_reduce_scatter(MPI_Comm c, int block)
{
    int n;
    MPI_Comm_size(c, &n);
    long sizes[] = {0, 1, 5, 300, 9000, 100000};
    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        long per = sizes[k];
        if ((size_t) per * n * 8 > max_bytes || (quick && per > 300)) {
            continue;
        }
        for (int kind = 0; kind < RED_NKIND; kind++) {
            int *rc = malloc(n * sizeof(int));
            for (int p = 0; p < n; p++) {
                rc[p] = block ? (int) per : (int) (per + (p % 3) - 1 < 0 ? 0 : per + (p % 3) - 1);
            }
            for (int inplace = 0; inplace < 2; inplace++) {
                rs_one(c, block, per, kind, rc, 11 * (int) k + kind + 50 * inplace, inplace);
            }
            free(rc);
        }
    }
}

/* ---- gather / scatter / allgather / alltoall (and v) ---- */

/* block of rank p for destination q (alltoall) or of rank p (others) */
static int bval(int p, int q, long i, int salt)
{
    return ival(p * 131 + q, i, salt);
}

static int check_block(const int *got, int p, int q, long m, int salt, const char *what)
{
    for (long i = 0; i < m; i++) {
        if (got[i] != bval(p, q, i, salt)) {
            FAILF("%s: block from %d to %d, element %ld = %d, expected %d", what, p, q, i, got[i],
                  bval(p, q, i, salt));
            return 1;
        }
    }
    return 0;
}

static long vcount(long base, int p)
{
    return base == 0 ? 0 : base + (p * 37) % 5 - 2 < 0 ? 0 : base + (p * 37) % 5 - 2;
}

static void t_gather(MPI_Comm c, int v)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    int nc = counts(cnt, sizeof(int) * n);
    for (int root = 0; root < n; root++) {
        for (int k = 0; k < nc; k++) {
            long m = cnt[k];
            if (quick && root > 1 && m > 64) continue;
            int *rcounts = malloc(n * sizeof(int)), *displs = malloc(n * sizeof(int));
            long total = 0;
            for (int p = 0; p < n; p++) {
                rcounts[p] = (int) (v ? vcount(m, p) : m);
                displs[p] = (int) total + (v ? 3 : 0);
                total += rcounts[p] + (v ? 3 : 0);
            }
            for (int inplace = 0; inplace < 2; inplace++) {
                int salt = 7 * root + k + 40 * inplace + v;
                int *s = malloc((rcounts[r] + 1) * sizeof(int)),
                    *d = malloc((total + 1) * sizeof(int));
                for (long i = 0; i < rcounts[r]; i++) s[i] = bval(r, 0, i, salt);
                for (long i = 0; i < total; i++) d[i] = -7;
                int ip = inplace && r == root;
                if (ip) memcpy(d + displs[r], s, rcounts[r] * sizeof(int));
                if (v) {
                    MPI_Gatherv(ip ? MPI_IN_PLACE : s, rcounts[r], MPI_INT, d, rcounts, displs,
                                MPI_INT, root, c);
                } else {
                    MPI_Gather(ip ? MPI_IN_PLACE : s, (int) m, MPI_INT, d, (int) m, MPI_INT, root,
                               c);
                }
                if (r == root) {
                    for (int p = 0; p < n; p++) {
                        char what[64];
                        snprintf(what, sizeof(what), "gather%s root %d count %ld%s", v ? "v" : "",
                                 root, m, ip ? " in-place" : "");
                        if (check_block(d + displs[p], p, 0, rcounts[p], salt, what)) break;
                    }
                }
                free(s);
                free(d);
            }
            free(rcounts);
            free(displs);
        }
    }
}

static void t_scatter(MPI_Comm c, int v)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    int nc = counts(cnt, sizeof(int) * n);
    for (int root = 0; root < n; root++) {
        for (int k = 0; k < nc; k++) {
            long m = cnt[k];
            if (quick && root > 1 && m > 64) continue;
            int *scounts = malloc(n * sizeof(int)), *displs = malloc(n * sizeof(int));
            long total = 0;
            for (int p = 0; p < n; p++) {
                scounts[p] = (int) (v ? vcount(m, p) : m);
                /* scatterv: blocks in reverse order with gaps */
                total += scounts[p] + (v ? 2 : 0);
            }
            long off = 0;
            for (int p = n - 1; p >= 0; p--) {
                displs[p] = (int) (v ? off + 1 : (long) p * m);
                off += scounts[p] + (v ? 2 : 0);
            }
            for (int inplace = 0; inplace < 2; inplace++) {
                int salt = 9 * root + k + 60 * inplace + v;
                int *s = malloc((total + 1) * sizeof(int)),
                    *d = malloc((scounts[r] + 1) * sizeof(int));
                if (r == root) {
                    for (int p = 0; p < n; p++)
                        for (long i = 0; i < scounts[p]; i++)
                            s[displs[p] + i] = bval(root, p, i, salt);
                }
                for (long i = 0; i < scounts[r]; i++) d[i] = -9;
                int ip = inplace && r == root;
                if (v) {
                    MPI_Scatterv(s, scounts, displs, MPI_INT, ip ? MPI_IN_PLACE : d, scounts[r],
                                 MPI_INT, root, c);
                } else {
                    MPI_Scatter(s, (int) m, MPI_INT, ip ? MPI_IN_PLACE : d, (int) m, MPI_INT, root,
                                c);
                }
                if (!ip) {
                    char what[64];
                    snprintf(what, sizeof(what), "scatter%s root %d count %ld", v ? "v" : "", root,
                             m);
                    check_block(d, root, r, scounts[r], salt, what);
                }
                free(s);
                free(d);
            }
            free(scounts);
            free(displs);
        }
    }
}

static void t_allgather(MPI_Comm c, int v)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    int nc = counts(cnt, sizeof(int) * n);
    for (int k = 0; k < nc; k++) {
        long m = cnt[k];
        int *rcounts = malloc(n * sizeof(int)), *displs = malloc(n * sizeof(int));
        long total = 0;
        for (int p = 0; p < n; p++) {
            rcounts[p] = (int) (v ? vcount(m, p) : m);
            displs[p] = (int) total + (v ? 1 : 0);
            total += rcounts[p] + (v ? 1 : 0);
        }
        for (int inplace = 0; inplace < 2; inplace++) {
            int salt = 13 * k + 30 * inplace + v;
            int *s = malloc((rcounts[r] + 1) * sizeof(int)), *d = malloc((total + 1) * sizeof(int));
            for (long i = 0; i < rcounts[r]; i++) s[i] = bval(r, 0, i, salt);
            for (long i = 0; i < total; i++) d[i] = -3;
            if (inplace) memcpy(d + displs[r], s, rcounts[r] * sizeof(int));
            if (v) {
                MPI_Allgatherv(inplace ? MPI_IN_PLACE : s, rcounts[r], MPI_INT, d, rcounts, displs,
                               MPI_INT, c);
            } else {
                MPI_Allgather(inplace ? MPI_IN_PLACE : s, (int) m, MPI_INT, d, (int) m, MPI_INT, c);
            }
            for (int p = 0; p < n; p++) {
                char what[64];
                snprintf(what, sizeof(what), "allgather%s count %ld%s", v ? "v" : "", m,
                         inplace ? " in-place" : "");
                if (check_block(d + displs[p], p, 0, rcounts[p], salt, what)) break;
            }
            free(s);
            free(d);
        }
        free(rcounts);
        free(displs);
    }
    /* derived receive type: element = 2 ints spread over a 4-int extent */
    if (!v) {
        long m = quick ? 50 : 2000;
        int *s = malloc(2 * m * sizeof(int)), *d = malloc(4 * m * n * sizeof(int));
        for (long i = 0; i < 2 * m; i++) s[i] = bval(r, 0, i, 5);
        for (long i = 0; i < 4 * m * n; i++) d[i] = SENTINEL;
        MPI_Allgather(s, (int) (2 * m), MPI_INT, d, (int) m, t_gappy, c);
        for (int p = 0; p < n; p++) {
            const int *b = d + 4 * m * p;
            for (long e = 0; e < m; e++) {
                if (b[4 * e] != bval(p, 0, 2 * e, 5) || b[4 * e + 2] != bval(p, 0, 2 * e + 1, 5)
                    || b[4 * e + 1] != SENTINEL || b[4 * e + 3] != SENTINEL) {
                    FAILF("allgather derived: block %d element %ld wrong", p, e);
                    p = n;
                    break;
                }
            }
        }
        free(s);
        free(d);
    }
}

static void t_alltoall(MPI_Comm c, int v)
{
    int r, n;
    long cnt[16];
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    int nc = counts(cnt, sizeof(int) * n);
    for (int k = 0; k < nc; k++) {
        long m = cnt[k];
        if (quick && m > 1000) continue;
        int *sc = malloc(n * sizeof(int)), *sd = malloc(n * sizeof(int));
        int *rc = malloc(n * sizeof(int)), *rd = malloc(n * sizeof(int));
        long stot = 0, rtot = 0;
        /* v: block r->q has vcount(m, r + q) elements, blocks reversed */
        for (int q = n - 1; q >= 0; q--) {
            sc[q] = (int) (v ? vcount(m, r + q) : m);
            sd[q] = (int) (v ? stot + 1 : (long) q * m);
            stot += sc[q] + (v ? 1 : 0);
        }
        for (int p = 0; p < n; p++) {
            rc[p] = (int) (v ? vcount(m, p + r) : m);
            rd[p] = (int) (v ? rtot + 2 : (long) p * m);
            rtot += rc[p] + (v ? 2 : 0);
        }
        if (!v) {
            stot = rtot = (long) n * m;
        }
        for (int inplace = 0; inplace < 2; inplace++) {
            int salt = 17 * k + 20 * inplace + v;
            /* in place uses the receive layout for sending */
            int *s = malloc((stot + 1) * sizeof(int)), *d = malloc((rtot + 1) * sizeof(int));
            for (int q = 0; q < n; q++)
                for (long i = 0; i < (inplace ? rc[q] : sc[q]); i++) {
                    if (inplace) d[rd[q] + i] = bval(r, q, i, salt);
                    else s[sd[q] + i] = bval(r, q, i, salt);
                }
            if (!inplace)
                for (long i = 0; i < rtot; i++) d[i] = -5;
            if (v) {
                MPI_Alltoallv(inplace ? MPI_IN_PLACE : s, sc, sd, MPI_INT, d, rc, rd, MPI_INT, c);
            } else {
                MPI_Alltoall(inplace ? MPI_IN_PLACE : s, (int) m, MPI_INT, d, (int) m, MPI_INT, c);
            }
            for (int p = 0; p < n; p++) {
                char what[64];
                snprintf(what, sizeof(what), "alltoall%s count %ld%s", v ? "v" : "", m,
                         inplace ? " in-place" : "");
                if (check_block(d + rd[p], p, r, rc[p], salt, what)) break;
            }
            free(s);
            free(d);
        }
        free(sc);
        free(sd);
        free(rc);
        free(rd);
    }
}

/* ---- MPI_T counters of coll/ivm ---- */

static MPI_T_pvar_session session;
static const char *ops[] = {"barrier",        "bcast",
                            "reduce",         "allreduce",
                            "allgather",      "allgatherv",
                            "gather",         "gatherv",
                            "scatter",        "scatterv",
                            "alltoall",       "alltoallv",
                            "reduce_scatter", "reduce_scatter_block"};
#define NOPS (int) (sizeof(ops) / sizeof(ops[0]))
static MPI_T_pvar_handle h_calls[NOPS], h_fb[NOPS], h_flat, h_hier, h_cfb, h_heap;
static int have_pvars = 0;

static int pvar_handle(const char *name, int cls, MPI_T_pvar_handle *h)
{
    int idx, count;
    if (MPI_SUCCESS != MPI_T_pvar_get_index(name, cls, &idx)) {
        return -1;
    }
    return MPI_SUCCESS == MPI_T_pvar_handle_alloc(session, idx, NULL, h, &count) ? 0 : -1;
}

static unsigned long long pvar(MPI_T_pvar_handle h)
{
    unsigned long long v = 0;
    MPI_T_pvar_read(session, h, &v);
    return v;
}

static void pvars_init(void)
{
    char name[96];
    int provided;
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
    MPI_T_pvar_session_create(&session);
    have_pvars = 1;
    for (int i = 0; i < NOPS; i++) {
        snprintf(name, sizeof(name), "coll_ivm_%s_calls", ops[i]);
        have_pvars &= 0 == pvar_handle(name, MPI_T_PVAR_CLASS_COUNTER, &h_calls[i]);
        snprintf(name, sizeof(name), "coll_ivm_%s_fallbacks", ops[i]);
        have_pvars &= 0 == pvar_handle(name, MPI_T_PVAR_CLASS_COUNTER, &h_fb[i]);
    }
    have_pvars &= 0 == pvar_handle("coll_ivm_comms_flat", MPI_T_PVAR_CLASS_COUNTER, &h_flat);
    have_pvars &=
        0 == pvar_handle("coll_ivm_comms_hierarchical", MPI_T_PVAR_CLASS_COUNTER, &h_hier);
    have_pvars &= 0 == pvar_handle("coll_ivm_comms_fallback", MPI_T_PVAR_CLASS_COUNTER, &h_cfb);
    have_pvars &= 0 == pvar_handle("coll_ivm_heap_in_use", MPI_T_PVAR_CLASS_LEVEL, &h_heap);
}

/* ---- leak and exhaustion loops ---- */

static void use_comm(MPI_Comm c, int salt)
{
    int r, n, v, sum = 0;
    MPI_Comm_rank(c, &r);
    MPI_Comm_size(c, &n);
    v = ival(r, 0, salt);
    int got;
    MPI_Allreduce(&v, &got, 1, MPI_INT, MPI_SUM, c);
    for (int p = 0; p < n; p++) sum += ival(p, 0, salt);
    if (got != sum) FAILF("allreduce on a derived communicator: %d, expected %d", got, sum);
    int b = r == 0 ? 4242 + salt : 0;
    MPI_Bcast(&b, 1, MPI_INT, 0, c);
    if (b != 4242 + salt) FAILF("bcast on a derived communicator");
    MPI_Barrier(c);
}

static unsigned long long heap_now(void)
{
    MPI_Barrier(MPI_COMM_WORLD); /* everyone has freed what it freed */
    MPI_Barrier(MPI_COMM_WORLD); /* ... and the counter was sampled after that */
    return have_pvars ? pvar(h_heap) : 0;
}

static void t_leak(int rounds)
{
    unsigned long long before = heap_now(), after;
    for (int k = 0; k < rounds; k++) {
        MPI_Comm d, s;
        MPI_Comm_dup(MPI_COMM_WORLD, &d);
        MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, wsize - wrank, &s);
        use_comm(d, k);
        use_comm(s, k + 1);
        MPI_Comm_free(&s);
        MPI_Comm_free(&d);
    }
    after = heap_now();
    if (0 == wrank) {
        printf("coll_check: leak check: heap in use %llu bytes before %d dup/split/free rounds, "
               "%llu after\n",
               before, rounds, after);
    }
    if (have_pvars && after != before) {
        FAILF("job heap in use changed from %llu to %llu bytes over %d dup/split/free rounds",
              before, after, rounds);
    }
}

static void t_many(int ncomm)
{
    MPI_Comm *c = malloc(ncomm * sizeof(MPI_Comm));
    unsigned long long before = heap_now(), fb0 = have_pvars ? pvar(h_cfb) : 0;
    for (int k = 0; k < ncomm; k++) {
        MPI_Comm_dup(MPI_COMM_WORLD, &c[k]);
        use_comm(c[k], k);
    }
    unsigned long long fb = have_pvars ? pvar(h_cfb) - fb0 : 0;
    for (int k = 0; k < ncomm; k++) {
        use_comm(c[k], k + 3); /* again, all still alive */
        MPI_Comm_free(&c[k]);
    }
    unsigned long long after = heap_now();
    if (0 == wrank) {
        printf("coll_check: %d communicators alive at once: %llu fell back (region budget), heap "
               "%llu -> %llu\n",
               ncomm, fb, before, after);
    }
    if (have_pvars && after != before) {
        FAILF("job heap in use changed from %llu to %llu after %d communicators", before, after,
              ncomm);
    }
    free(c);
}

/* ---- an intercommunicator (coll/ivm declines those) ---- */

static void t_intercomm(void)
{
    MPI_Comm local, inter;
    int color = wrank % 2, lr, rsize;
    MPI_Comm_split(MPI_COMM_WORLD, color, wrank, &local);
    MPI_Comm_rank(local, &lr);
    MPI_Intercomm_create(local, 0, MPI_COMM_WORLD, 1 - color, 5, &inter);
    MPI_Comm_remote_size(inter, &rsize);
    /* allreduce: each side gets the sum over the other side */
    int v = ival(wrank, 0, 3), got = -1;
    long expect = 0;
    MPI_Allreduce(&v, &got, 1, MPI_INT, MPI_SUM, inter);
    for (int p = 1 - color; p < wsize; p += 2) expect += ival(p, 0, 3);
    if (got != (int) expect) FAILF("intercommunicator allreduce: %d, expected %ld", got, expect);
    /* bcast from rank 0 of the even side */
    int b = 0 == wrank ? 777 : -1;
    if (0 == color) {
        MPI_Bcast(&b, 1, MPI_INT, 0 == lr ? MPI_ROOT : MPI_PROC_NULL, inter);
    } else {
        MPI_Bcast(&b, 1, MPI_INT, 0, inter);
        if (777 != b) FAILF("intercommunicator bcast: %d", b);
    }
    MPI_Barrier(inter);
    MPI_Comm_free(&inter);
    MPI_Comm_free(&local);
    if (0 == wrank) printf("coll_check: intercommunicator (remote size %d) checked\n", rsize);
}

/* ---- driver ---- */

static void run_all(MPI_Comm c, const char *label)
{
    int n;
    MPI_Comm_size(c, &n);
    if (0 == wrank) {
        printf("coll_check: testing %s (size %d)\n", label, n);
        fflush(stdout);
    }
    if (want("barrier")) t_barrier(c);
    if (want("bcast")) t_bcast(c);
    if (want("reduce")) t_reduce(c, 0);
    if (want("allreduce")) t_reduce(c, 1);
    if (want("reduce_scatter")) t_reduce_scatter(c, 0);
    if (want("reduce_scatter_block")) t_reduce_scatter(c, 1);
    if (want("gather")) t_gather(c, 0);
    if (want("gatherv")) t_gather(c, 1);
    if (want("scatter")) t_scatter(c, 0);
    if (want("scatterv")) t_scatter(c, 1);
    if (want("allgather")) t_allgather(c, 0);
    if (want("allgatherv")) t_allgather(c, 1);
    if (want("alltoall")) t_alltoall(c, 0);
    if (want("alltoallv")) t_alltoall(c, 1);
}

static const char *expect = "any";
static int leak, many, intercomm;

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--max-bytes") && i + 1 < argc)
            max_bytes = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--expect") && i + 1 < argc) expect = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--leak") && i + 1 < argc) leak = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--many") && i + 1 < argc) many = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--intercomm")) intercomm = 1;
    }
}

/* the user-defined operations and datatypes the tests use */
static void create_ops_and_types(void)
{
    MPI_Op_create(compose_op, 0, &op_compose);
    MPI_Op_create(pairsum_op, 1, &op_pairsum);
    MPI_Type_contiguous(2, MPI_INT, &t_pair);
    MPI_Type_commit(&t_pair);
    MPI_Datatype v2;
    MPI_Type_vector(2, 1, 2, MPI_INT, &v2);
    MPI_Type_create_resized(v2, 0, 4 * sizeof(int), &t_gappy);
    MPI_Type_commit(&t_gappy);
    MPI_Type_free(&v2);
}

/* every test on world and on communicators whose ranks are reordered */
static void run_communicators(void)
{
    run_all(MPI_COMM_WORLD, "MPI_COMM_WORLD");
    if (!quick || wsize > 2) {
        MPI_Comm rev, half;
        /* reversed rank order: groups of the same region are not in rank order */
        MPI_Comm_split(MPI_COMM_WORLD, 0, wsize - wrank, &rev);
        run_all(rev, "reversed MPI_COMM_WORLD");
        MPI_Comm_free(&rev);
        if (wsize >= 4) {
            MPI_Comm_split(MPI_COMM_WORLD, wrank % 2, wrank, &half);
            run_all(half, "odd/even split");
            MPI_Comm_free(&half);
            /* even ranks first, then odd ones: with several regions, a
             * region's ranks are not a block of consecutive ranks */
            MPI_Comm inter;
            MPI_Comm_split(MPI_COMM_WORLD, 0, (wrank % 2) * wsize + wrank, &inter);
            run_all(inter, "interleaved MPI_COMM_WORLD");
            MPI_Comm_free(&inter);
        }
    }
}

/* --expect flat|hier: every tested collective ran in coll/ivm (in the
 * hierarchical mode only those it serves hierarchically) */
static void check_ops_ran(void)
{
    for (int i = 0; i < NOPS; i++) {
        /* in the hierarchical mode only these run in ivm */
        static const char *hier_ops = " barrier bcast reduce allreduce allgather gather scatter ";
        char word[32];
        snprintf(word, sizeof(word), " %s ", ops[i]);
        int hier_only_prev = !strcmp(expect, "hier") && NULL == strstr(hier_ops, word);
        if (want(ops[i]) && !hier_only_prev && 0 == pvar(h_calls[i])) {
            FAILF("coll/ivm ran no MPI_%s", ops[i]);
        }
    }
}

/* what coll/ivm did (counters of this process) against --expect */
static void check_expect(void)
{
    if (!have_pvars) {
        FAILF("coll/ivm's MPI_T counters are missing (is coll/ivm installed?)");
        return;
    }
    unsigned long long flat = pvar(h_flat), hier = pvar(h_hier), cfb = pvar(h_cfb), total = 0;
    int bad_expect = 0;
    for (int i = 0; i < NOPS; i++) total += pvar(h_calls[i]);
    if (!strcmp(expect, "none")) {
        bad_expect = total != 0;
    } else {
        bad_expect = !strcmp(expect, "flat") ? (0 == flat || 0 != hier) : (0 == hier);
        check_ops_ran();
        if (0 == many && 0 != cfb) {
            FAILF("%llu communicators fell back to the next component", cfb);
        }
    }
    if (bad_expect) {
        FAILF("expected coll/ivm mode '%s': %llu flat, %llu hierarchical communicators, %llu ivm "
              "calls",
              expect, flat, hier, total);
    }
    if (0 == wrank) {
        printf("coll_check: coll/ivm counters (rank 0): %llu flat, %llu hierarchical, %llu "
               "fallback communicators;",
               flat, hier, cfb);
        for (int i = 0; i < NOPS; i++)
            printf(" %s=%llu/%llu", ops[i], pvar(h_calls[i]), pvar(h_fb[i]));
        printf(" (ivm/next)\n");
    }
}

/* collect verdicts over point-to-point; rank 0 prints the result line */
static long verdict(void)
{
    long total = errors;
    if (0 == wrank) {
        for (int p = 1; p < wsize; p++) {
            long e;
            MPI_Recv(&e, 1, MPI_LONG, p, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            total += e;
        }
        printf("coll_check: %s: %ld errors on %d ranks\n", total ? "FAIL" : "PASS", total, wsize);
    } else {
        MPI_Send(&total, 1, MPI_LONG, 0, 7, MPI_COMM_WORLD);
    }
    MPI_Bcast(&total, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    return total;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &wrank);
    MPI_Comm_size(MPI_COMM_WORLD, &wsize);
    parse_args(argc, argv);
    pvars_init();
    create_ops_and_types();

    run_communicators();
    if (intercomm && wsize >= 2) t_intercomm();
    if (leak > 0) t_leak(leak);
    if (many > 0) t_many(many);
    if (strcmp(expect, "any")) {
        check_expect();
    }
    long total = verdict();
    MPI_Type_free(&t_pair);
    MPI_Type_free(&t_gappy);
    MPI_Op_free(&op_compose);
    MPI_Op_free(&op_pairsum);
    MPI_T_pvar_session_free(&session);
    MPI_T_finalize();
    MPI_Finalize();
    return total ? 1 : 0;
}
