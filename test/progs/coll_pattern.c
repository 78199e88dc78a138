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

/* coll_pattern: collectives called the way benchmarks and applications
 * call them, results checked on every call.
 *
 *   coll_pattern [--iters N] [--large BYTES] [--expect ivm|none]
 *                [--expect-handover OP]
 *
 *  - back-to-back broadcasts and reductions with rotating roots and no
 *    barrier between them, sizes cycling through the bcast ring (up to 56
 *    bytes), one chunk and several chunks;
 *  - a burst of 8-byte broadcasts from one root that runs far ahead of
 *    its readers (more steps than the ring has slots), checked at the end;
 *  - one loop mixing bcast, reduce, allreduce, allgather, alltoall and
 *    reduce_scatter_block of different sizes;
 *  - large counts with a non-contiguous datatype (every other int of a
 *    strided vector) for bcast, allgather and alltoall;
 *  - broadcasts from buffers of MPI_Alloc_mem with mpool_hints=ivm (in the
 *    region: the readers copy straight from the root's buffer), rotating
 *    roots, the root changing its buffer right after each call; allgather
 *    and alltoall between such buffers, the senders changing theirs at
 *    once too.
 * Every value is a function of (call, rank, index), so each rank knows
 * what every buffer must hold.
 *
 * --expect ivm: coll/ivm's MPI_T counters must show it ran bcast,
 * allreduce, allgather and alltoall; none: coll/ivm ran nothing.
 * --expect-handover OP: coll_ivm_OP_handovers must be positive (the
 * calls went to the next component by the size decision).
 * --expect-single-copy: coll_ivm_single_copy_calls must be positive on
 * some rank (the calls on region buffers took the single-copy path).
 * Prints "PVARS op=run/fallbacks/handovers ..." and "coll_pattern: PASS"
 * on rank 0; exit 0 only if every rank passed. */

#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int rank, size;
static long errors = 0;

#define FAILF(...)                                    \
    do {                                              \
        if (errors++ < 20) {                          \
            fprintf(stderr, "FAIL [rank %d] ", rank); \
            fprintf(stderr, __VA_ARGS__);             \
            fputc('\n', stderr);                      \
        }                                             \
    } while (0)

/* the value of element i that rank r contributes to call c */
static int val(long c, int r, long i)
{
    return (int) ((c * 1000003 + r * 7919 + i * 31) & 0x3fffffff) % 1000000;
}

/* ---- back-to-back with rotating roots ---- */

static const long ring_sizes[] = {1, 8, 56, 57, 1000, 70000};
#define NRING (sizeof(ring_sizes) / sizeof(ring_sizes[0]))

static void b2b_rotating(long iters)
{
    unsigned char *b = malloc(70000);
    int *s = malloc(70000 / 4 * sizeof(int)), *r = malloc(70000 / 4 * sizeof(int));
    for (long c = 0; c < iters; c++) {
        const int root = (int) (c % size);
        const long n = ring_sizes[c % NRING];
        for (long i = 0; i < n; i++) b[i] = rank == root ? (unsigned char) val(c, root, i) : 0;
        MPI_Bcast(b, (int) n, MPI_BYTE, root, MPI_COMM_WORLD);
        for (long i = 0; i < n; i++) {
            if (b[i] != (unsigned char) val(c, root, i)) {
                FAILF("bcast %ld root %d bytes %ld: [%ld] = %d", c, root, n, i, b[i]);
                break;
            }
        }
        const long m = n / 4 > 0 ? n / 4 : 1;
        for (long i = 0; i < m; i++) s[i] = val(c, rank, i) % 1000;
        MPI_Reduce(s, r, (int) m, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
        for (long i = 0; rank == root && i < m; i++) {
            long want = 0;
            for (int p = 0; p < size; p++) want += val(c, p, i) % 1000;
            if (r[i] != want) {
                FAILF("reduce %ld root %d count %ld: [%ld] = %d, expected %ld", c, root, m, i, r[i],
                      want);
                break;
            }
        }
    }
    free(b);
    free(s);
    free(r);
}

/* A root far ahead of its readers: many 8-byte broadcasts, checked after. */
static void burst(long n)
{
    const int root = size - 1;
    uint64_t *v = calloc((size_t) n, sizeof(uint64_t));
    for (long c = 0; c < n; c++) {
        if (rank == root) v[c] = (uint64_t) val(c, root, 0) * 977 + (uint64_t) c;
        MPI_Bcast(&v[c], 1, MPI_UINT64_T, root, MPI_COMM_WORLD);
    }
    for (long c = 0; c < n; c++) {
        if (v[c] != (uint64_t) val(c, root, 0) * 977 + (uint64_t) c) {
            FAILF("burst bcast %ld: %llu", c, (unsigned long long) v[c]);
            break;
        }
    }
    free(v);
}

/* ---- mixed collectives and sizes in one loop ---- */

static const long mixed_counts[] = {1, 14, 15, 300, 4096, 70000, 262144};
#define NMIXED (sizeof(mixed_counts) / sizeof(mixed_counts[0]))

static void mixed(long iters)
{
    const long maxn = mixed_counts[NMIXED - 1];
    int *s = malloc((size_t) maxn * size * sizeof(int));
    int *r = malloc((size_t) maxn * size * sizeof(int));
    for (long c = 0; c < iters; c++) {
        const long n = mixed_counts[(c * 5) % NMIXED];
        const int op = (int) (c % 6), root = (int) ((c / 6) % size);
        const long tot = 0 == op || 1 == op || 2 == op ? n : n * size;
        for (long i = 0; i < tot; i++) s[i] = val(c, rank, i) % 4096;
        memset(r, 0xff, (size_t) tot * sizeof(int));
        switch (op) {
        case 0:
            if (rank == root) memcpy(r, s, (size_t) n * sizeof(int));
            MPI_Bcast(r, (int) n, MPI_INT, root, MPI_COMM_WORLD);
            for (long i = 0; i < n; i++) {
                if (r[i] != val(c, root, i) % 4096) {
                    FAILF("mixed bcast %ld n %ld: [%ld] = %d", c, n, i, r[i]);
                    break;
                }
            }
            break;
        case 1:
        case 2:
            if (1 == op) {
                MPI_Reduce(s, r, (int) n, MPI_INT, MPI_SUM, root, MPI_COMM_WORLD);
            } else {
                MPI_Allreduce(s, r, (int) n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
            }
            for (long i = 0; (2 == op || rank == root) && i < n; i++) {
                long want = 0;
                for (int p = 0; p < size; p++) want += val(c, p, i) % 4096;
                if (r[i] != want) {
                    FAILF("mixed %s %ld n %ld: [%ld] = %d, expected %ld",
                          1 == op ? "reduce" : "allreduce", c, n, i, r[i], want);
                    break;
                }
            }
            break;
        case 3:
            MPI_Allgather(s, (int) n, MPI_INT, r, (int) n, MPI_INT, MPI_COMM_WORLD);
            for (int p = 0; p < size; p++) {
                for (long i = 0; i < n; i++) {
                    if (r[p * n + i] != val(c, p, i) % 4096) {
                        FAILF("mixed allgather %ld n %ld: from %d [%ld]", c, n, p, i);
                        p = size;
                        break;
                    }
                }
            }
            break;
        case 4:
            MPI_Alltoall(s, (int) n, MPI_INT, r, (int) n, MPI_INT, MPI_COMM_WORLD);
            for (int p = 0; p < size; p++) {
                for (long i = 0; i < n; i++) {
                    if (r[p * n + i] != val(c, p, rank * n + i) % 4096) {
                        FAILF("mixed alltoall %ld n %ld: from %d [%ld]", c, n, p, i);
                        p = size;
                        break;
                    }
                }
            }
            break;
        case 5:
            MPI_Reduce_scatter_block(s, r, (int) n, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
            for (long i = 0; i < n; i++) {
                long want = 0;
                for (int p = 0; p < size; p++) want += val(c, p, rank * n + i) % 4096;
                if (r[i] != want) {
                    FAILF("mixed reduce_scatter_block %ld n %ld: [%ld] = %d, expected %ld", c, n, i,
                          r[i], want);
                    break;
                }
            }
            break;
        }
    }
    free(s);
    free(r);
}

/* ---- large counts, non-contiguous datatype ---- */

/* vec: every other int (stride 2), n of them: a 2n-int extent */
static void strided(long n)
{
    MPI_Datatype one, vec;
    MPI_Type_vector(1, 1, 2, MPI_INT, &one);
    MPI_Type_create_resized(one, 0, 2 * sizeof(int), &vec);
    MPI_Type_commit(&vec);
    int *x = malloc((size_t) 2 * n * size * sizeof(int));
    int *y = malloc((size_t) 2 * n * size * sizeof(int));
    int *packed = malloc((size_t) n * size * sizeof(int));
    const long c0 = 900000;

    /* bcast: the gaps must keep their values */
    const int root = size / 2;
    for (long i = 0; i < 2 * n; i++) x[i] = i % 2 ? -7 : (rank == root ? val(c0, root, i / 2) : 0);
    MPI_Bcast(x, (int) n, vec, root, MPI_COMM_WORLD);
    for (long i = 0; i < 2 * n; i++) {
        if (x[i] != (i % 2 ? -7 : val(c0, root, i / 2))) {
            FAILF("strided bcast n %ld: [%ld] = %d", n, i, x[i]);
            break;
        }
    }
    /* allgather of n ints each into the strided type */
    for (long i = 0; i < n; i++) packed[i] = val(c0 + 1, rank, i);
    for (long i = 0; i < 2 * n * size; i++) y[i] = -7;
    MPI_Allgather(packed, (int) n, MPI_INT, y, (int) n, vec, MPI_COMM_WORLD);
    for (int p = 0; p < size; p++) {
        for (long i = 0; i < n; i++) {
            if (y[2 * (p * n + i)] != val(c0 + 1, p, i) || y[2 * (p * n + i) + 1] != -7) {
                FAILF("strided allgather n %ld: from %d [%ld]", n, p, i);
                p = size;
                break;
            }
        }
    }
    /* alltoall: strided on both sides */
    long per = n / size;
    for (long i = 0; i < 2 * per * size; i++) x[i] = i % 2 ? -5 : val(c0 + 2, rank, i / 2);
    for (long i = 0; i < 2 * per * size; i++) y[i] = -7;
    MPI_Alltoall(x, (int) per, vec, y, (int) per, vec, MPI_COMM_WORLD);
    for (int p = 0; p < size; p++) {
        for (long i = 0; i < per; i++) {
            long k = p * per + i;
            if (y[2 * k] != val(c0 + 2, p, rank * per + i) || y[2 * k + 1] != -7) {
                FAILF("strided alltoall per %ld: from %d [%ld] = %d", per, p, i, y[2 * k]);
                p = size;
                break;
            }
        }
    }
    MPI_Type_free(&vec);
    MPI_Type_free(&one);
    free(x);
    free(y);
    free(packed);
}

/* ---- broadcasts from region buffers ---- */

static void region_bcast(long iters)
{
    const long sizes[] = {65536, 1 << 19, 1 << 20};
    MPI_Info info;
    unsigned char *buf;
    MPI_Info_create(&info);
    MPI_Info_set(info, "mpool_hints", "ivm");
    if (MPI_SUCCESS != MPI_Alloc_mem(1 << 20, info, &buf)) {
        FAILF("MPI_Alloc_mem with mpool_hints=ivm failed");
        MPI_Info_free(&info);
        return;
    }
    MPI_Info_free(&info);
    for (long c = 0; c < iters; c++) {
        const int root = (int) (c % size);
        const long n = sizes[c % 3];
        for (long i = 0; i < n; i++) buf[i] = rank == root ? (unsigned char) val(c, root, i) : 0;
        MPI_Bcast(buf, (int) n, MPI_BYTE, root, MPI_COMM_WORLD);
        /* the root may change its buffer at once: the readers are done */
        if (rank == root) memset(buf, 0xee, (size_t) n);
        for (long i = 0; rank != root && i < n; i++) {
            if (buf[i] != (unsigned char) val(c, root, i)) {
                FAILF("region bcast %ld root %d bytes %ld: [%ld] = %d", c, root, n, i, buf[i]);
                break;
            }
        }
    }
    MPI_Free_mem(buf);
}

/* Two buffers of @bytes from MPI_Alloc_mem with mpool_hints=ivm (in the
 * region); 0 (counted as a failure) if either allocation fails. */
static int region_pair(size_t bytes, int **s, int **r)
{
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "mpool_hints", "ivm");
    int ok = MPI_SUCCESS == MPI_Alloc_mem((MPI_Aint) bytes, info, s)
             && MPI_SUCCESS == MPI_Alloc_mem((MPI_Aint) bytes, info, r);
    MPI_Info_free(&info);
    if (!ok) {
        FAILF("MPI_Alloc_mem with mpool_hints=ivm failed");
    }
    return ok;
}

/* allgather and alltoall between region buffers (single copy when every
 * rank's send buffer is there), blocks of 32 KiB and 64 KiB */
static void region_exchange(long iters)
{
    const long blocks[] = {8192, 16384};
    int *s, *r;
    if (!region_pair((size_t) size * 16384 * sizeof(int), &s, &r)) {
        return;
    }
    for (long c = 0; c < iters; c++) {
        const long n = blocks[c % 2];
        for (long i = 0; i < n * size; i++) s[i] = val(c, rank, i);
        memset(r, 0xff, (size_t) n * size * sizeof(int));
        if (c % 4 < 2) {
            MPI_Alltoall(s, (int) n, MPI_INT, r, (int) n, MPI_INT, MPI_COMM_WORLD);
        } else {
            MPI_Allgather(s, (int) n, MPI_INT, r, (int) n, MPI_INT, MPI_COMM_WORLD);
        }
        /* the send buffer may change at once: everyone has read it */
        memset(s, 0xee, (size_t) n * size * sizeof(int));
        for (int p = 0; p < size; p++) {
            for (long i = 0; i < n; i++) {
                int want = val(c, p, (c % 4 < 2 ? rank * n : 0) + i);
                if (r[p * n + i] != want) {
                    FAILF("region %s %ld n %ld: from %d [%ld] = %d, expected %d",
                          c % 4 < 2 ? "alltoall" : "allgather", c, n, p, i, r[p * n + i], want);
                    p = size;
                    break;
                }
            }
        }
    }
    MPI_Free_mem(s);
    MPI_Free_mem(r);
}

static unsigned long long single_copies(void);

/* reduce and allreduce between region buffers (single copy when every
 * rank's vector is there): 16K and 24K ints (64 and 96 KiB, below the
 * default hand-over), rotating roots, MPI_IN_PLACE every third call, sum
 * and max; returns this rank's coll_ivm_single_copy_calls during them */
static unsigned long long region_reduce(long iters)
{
    const long counts[] = {16384, 24576};
    unsigned long long before = single_copies();
    int *s, *r;
    if (!region_pair(24576 * sizeof(int), &s, &r)) {
        return 0;
    }
    for (long c = 0; c < iters; c++) {
        const long n = counts[c % 2];
        const int root = (int) (c % size), all = c % 4 >= 2, inplace = c % 3 == 0;
        const MPI_Op op = c % 5 == 0 ? MPI_MAX : MPI_SUM;
        for (long i = 0; i < n; i++) s[i] = val(c, rank, i) % 1000;
        int *res = inplace && (all || rank == root) ? s : r;
        const void *sb = inplace && (all || rank == root) ? MPI_IN_PLACE : s;
        if (all) {
            MPI_Allreduce(sb, res, (int) n, MPI_INT, op, MPI_COMM_WORLD);
        } else {
            MPI_Reduce(sb, res, (int) n, MPI_INT, op, root, MPI_COMM_WORLD);
        }
        for (long i = 0; (all || rank == root) && i < n; i++) {
            int want = val(c, 0, i) % 1000;
            for (int p = 1; p < size; p++) {
                int x = val(c, p, i) % 1000;
                want = MPI_MAX == op ? (x > want ? x : want) : want + x;
            }
            if (res[i] != want) {
                FAILF("region %s %ld n %ld root %d%s: [%ld] = %d, expected %d",
                      all ? "allreduce" : "reduce", c, n, root, inplace ? " in place" : "", i,
                      res[i], want);
                break;
            }
        }
    }
    MPI_Free_mem(s);
    MPI_Free_mem(r);
    return single_copies() - before;
}

/* ---- coll/ivm's counters ---- */

static const char *ops[] = {"bcast",     "reduce",   "allreduce",
                            "allgather", "alltoall", "reduce_scatter_block"};
#define NOPS (sizeof(ops) / sizeof(ops[0]))
static const char *kinds[] = {"calls", "fallbacks", "handovers"};
static MPI_T_pvar_session ses;
static MPI_T_pvar_handle h[NOPS][3];
static int have[NOPS][3];
static MPI_T_pvar_handle h_single; /* coll_ivm_single_copy_calls */
static int have_single;

static void pvars_open(void)
{
    int provided, idx, count;
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
    MPI_T_pvar_session_create(&ses);
    for (size_t o = 0; o < NOPS; o++) {
        for (int k = 0; k < 3; k++) {
            char name[80];
            snprintf(name, sizeof(name), "coll_ivm_%s_%s", ops[o], kinds[k]);
            have[o][k] =
                MPI_SUCCESS == MPI_T_pvar_get_index(name, MPI_T_PVAR_CLASS_COUNTER, &idx)
                && MPI_SUCCESS == MPI_T_pvar_handle_alloc(ses, idx, NULL, &h[o][k], &count);
        }
    }
    have_single =
        MPI_SUCCESS
            == MPI_T_pvar_get_index("coll_ivm_single_copy_calls", MPI_T_PVAR_CLASS_COUNTER, &idx)
        && MPI_SUCCESS == MPI_T_pvar_handle_alloc(ses, idx, NULL, &h_single, &count);
}

static unsigned long long pvar(size_t o, int k)
{
    unsigned long long v = 0;
    if (have[o][k]) MPI_T_pvar_read(ses, h[o][k], &v);
    return v;
}

static unsigned long long single_copies(void)
{
    unsigned long long v = 0;
    if (have_single) MPI_T_pvar_read(ses, h_single, &v);
    return v;
}

static void check_pvars(const char *expect, const char *handover)
{
    char line[512];
    int off = snprintf(line, sizeof(line), "PVARS");
    for (size_t o = 0; o < NOPS; o++) {
        off += snprintf(line + off, sizeof(line) - off, " %s=%llu/%llu/%llu", ops[o], pvar(o, 0),
                        pvar(o, 1), pvar(o, 2));
    }
    if (0 == rank) printf("%s\n", line);
    for (size_t o = 0; o < NOPS; o++) {
        int core = !strcmp(ops[o], "bcast") || !strcmp(ops[o], "allreduce")
                   || !strcmp(ops[o], "allgather") || !strcmp(ops[o], "alltoall");
        /* a collective handed over by size (coll_ivm_<op>_handover) was
         * still decided by coll/ivm */
        if (!strcmp(expect, "ivm") && core && 0 == pvar(o, 0) && 0 == pvar(o, 2)) {
            FAILF("coll/ivm ran no %s (its counter coll_ivm_%s_calls is 0)", ops[o], ops[o]);
        }
        if (!strcmp(expect, "none") && 0 != pvar(o, 0)) {
            FAILF("coll/ivm ran %llu %s calls, expected none", pvar(o, 0), ops[o]);
        }
        if (NULL != handover && !strcmp(handover, ops[o]) && 0 == pvar(o, 2)) {
            FAILF("no %s call was handed over (coll_ivm_%s_handovers is 0)", ops[o], ops[o]);
        }
    }
}

int main(int argc, char **argv)
{
    long iters = 600, large = 4 << 20;
    const char *expect = "any", *handover = NULL;
    int single = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    pvars_open();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--iters")) iters = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--large")) large = atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--expect")) expect = argv[i + 1];
        else if (!strcmp(argv[i], "--expect-handover")) handover = argv[i + 1];
    }
    for (int i = 1; i < argc; i++) single |= !strcmp(argv[i], "--expect-single-copy");
    /* a handle counts from its allocation (in pvars_open) */
    unsigned long long single0 = single_copies();
    b2b_rotating(iters);
    burst(1000);
    mixed(iters / 2 > 12 ? iters / 2 : 12);
    strided(large / (long) sizeof(int));
    region_bcast(iters / 20 > 6 ? iters / 20 : 6);
    region_exchange(iters / 20 > 8 ? iters / 20 : 8);
    unsigned long long red = region_reduce(iters / 20 > 12 ? iters / 20 : 12), reds = 0;
    check_pvars(expect, handover);
    unsigned long long mine = single_copies() - single0, total = 0;
    MPI_Allreduce(&mine, &total, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(&red, &reds, 1, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (0 == rank) printf("SINGLE_COPY_BCASTS %llu\nSINGLE_COPY_REDUCES %llu\n", total, reds);
    if (single && 0 == total) {
        FAILF("no call took the single-copy path (coll_ivm_single_copy_calls is 0)");
    }
    if (single && 0 == reds) {
        FAILF("no reduce or allreduce on region buffers took the single-copy path");
    }

    long all = 0;
    MPI_Allreduce(&errors, &all, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    for (size_t o = 0; o < NOPS; o++) {
        for (int k = 0; k < 3; k++) {
            if (have[o][k]) MPI_T_pvar_handle_free(ses, &h[o][k]);
        }
    }
    if (have_single) MPI_T_pvar_handle_free(ses, &h_single);
    MPI_T_pvar_session_free(&ses);
    MPI_T_finalize();
    if (0 == rank) {
        if (0 == all) {
            printf("coll_pattern: PASS (%d ranks, %ld iterations, %ld-byte strided)\n", size, iters,
                   large);
        } else {
            printf("coll_pattern: FAIL (%ld errors)\n", all);
        }
    }
    MPI_Finalize();
    return 0 == all ? 0 : 1;
}
