/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 *
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ivm_osc: osc/ivm (MPI one-sided communication in the ivm region) across
 * emulated VMs (test/integration/osc_ivm.sh).  Cases, named on the command
 * line (default: allocate create shared decline):
 *
 *   allocate   MPI_Win_allocate window, then the operation suite below
 *   create     MPI_Win_create on MPI_Alloc_mem(mpool_hints=ivm) memory, suite
 *   shared     MPI_Win_allocate_shared over all ranks: the suite, then every
 *              rank writes into every peer's segment through
 *              MPI_Win_shared_query pointers and reads what peers wrote
 *              (MPI_Win_sync + MPI_Barrier), contiguity of the default
 *              layout, alloc_shared_noncontig
 *   decline    MPI_Win_create on malloc'd memory and MPI_Win_create_dynamic
 *              are left to the other components (and the first still works)
 *   toobig     a 32 MiB MPI_Win_allocate does not fit the job's partition:
 *              osc/ivm declines it (its show_help names the parameter to
 *              grow; the script checks) and the window still works
 *   dead-lock  the last rank holds an exclusive lock and stops (SIGSTOP);
 *   dead-fence the last rank stops before a fence: the others' MPI_Win_lock
 *              / MPI_Win_fence must fail (MPI_ERRORS_RETURN) within the
 *              lease; rank 0 prints "DEAD,<case>,<error|ok>,<seconds>"
 *
 * The suite (every rank against every rank, results checked): put/get under
 * fence with contiguous and vector datatypes; accumulate SUM/MAX/BXOR and
 * MAXLOC on MPI_DOUBLE_INT (locked path) under fence; post/start/complete/
 * wait around a ring; concurrent fetch_and_op (every fetched value unique),
 * compare_and_swap increments and exclusive-lock read-modify-write from all
 * ranks on one counter; Rput/Rget/Raccumulate/Rget_accumulate with flush;
 * MPI_WIN_MODEL == MPI_WIN_UNIFIED.  osc/ivm's MPI_T counters must show that
 * it created the window and carried every kind of operation.
 *
 * Prints "ivm_osc: PASS ..." or "ivm_osc: FAIL ..." (rank 0); exit 0 / 1.
 */
#include <mpi.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


static int me, np, failures;

static void err(const char *fmt, ...)
{
    va_list ap;
    char buf[512];
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    printf("ERROR rank %d: %s\n", me, buf);
    fflush(stdout);
    failures++;
}

#define CHECK(cond, ...)      \
    do {                      \
        if (!(cond)) {        \
            err(__VA_ARGS__); \
        }                     \
    } while (0)

#define MPI_OK(call)                           \
    do {                                       \
        int rc_ = (call);                      \
        if (MPI_SUCCESS != rc_) {              \
            err("%s failed (%d)", #call, rc_); \
        }                                      \
    } while (0)

/* ---- osc/ivm's MPI_T counters ---- */

enum { PV_PUT, PV_GET, PV_ACC, PV_GACC, PV_FOP, PV_CAS, PV_WIN, PV_DECL, PV_N };
static const char *const pv_names[PV_N] = {
    "osc_ivm_put_operations",
    "osc_ivm_get_operations",
    "osc_ivm_accumulate_operations",
    "osc_ivm_get_accumulate_operations",
    "osc_ivm_fetch_and_op_operations",
    "osc_ivm_compare_and_swap_operations",
    "osc_ivm_windows",
    "osc_ivm_windows_declined",
};
typedef struct {
    unsigned long long v[PV_N];
} pv_t;
static MPI_T_pvar_session pv_session;
static MPI_T_pvar_handle pv_handle[PV_N];

static int pv_init(void)
{
    int provided, idx, n;
    if (MPI_SUCCESS != MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)
        || MPI_SUCCESS != MPI_T_pvar_session_create(&pv_session)) {
        return -1;
    }
    for (int i = 0; i < PV_N; i++) {
        if (MPI_SUCCESS != MPI_T_pvar_get_index(pv_names[i], MPI_T_PVAR_CLASS_COUNTER, &idx)
            || MPI_SUCCESS != MPI_T_pvar_handle_alloc(pv_session, idx, NULL, &pv_handle[i], &n)) {
            printf("ivm_osc: no MPI_T counter %s\n", pv_names[i]);
            return -1;
        }
    }
    return 0;
}

static void pv_read(pv_t *p)
{
    for (int i = 0; i < PV_N; i++) {
        MPI_T_pvar_read(pv_session, pv_handle[i], &p->v[i]);
    }
}

/* Every rank ran every kind of operation through osc/ivm, on windows it
 * created (the suite does each kind against every rank). */
static void pv_expect_traffic(const char *what, const pv_t *a, const pv_t *b)
{
    for (int i = PV_PUT; i <= PV_WIN; i++) {
        CHECK(b->v[i] > a->v[i], "%s: %s did not grow (%llu): osc/ivm did not carry it", what,
              pv_names[i], b->v[i]);
    }
    if (0 == me) {
        printf("pvars %s (rank 0): put %llu get %llu acc %llu get_acc %llu fop %llu cas %llu "
               "windows %llu\n",
               what, b->v[PV_PUT] - a->v[PV_PUT], b->v[PV_GET] - a->v[PV_GET],
               b->v[PV_ACC] - a->v[PV_ACC], b->v[PV_GACC] - a->v[PV_GACC],
               b->v[PV_FOP] - a->v[PV_FOP], b->v[PV_CAS] - a->v[PV_CAS],
               b->v[PV_WIN] - a->v[PV_WIN]);
    }
}

/* The failed checks of all ranks so far (every rank gets the same count). */
static int report(const char *what)
{
    int all = failures;
    MPI_Allreduce(MPI_IN_PLACE, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (0 == me) {
        printf("case %s: %s\n", what, 0 == all ? "ok" : "FAILED");
        fflush(stdout);
    }
    return all;
}

/* ---- the window layout used by the suite (int64 elements, disp_unit 8) ---- */

#define N_PUT 256 /* put area: rank r's block at r * BLK */
#define BLK 8
#define O_VEC (N_PUT)      /* 64 elements: vector datatype target */
#define O_ACC (O_VEC + 64) /* 4 int64: SUM, MAX, BXOR, (pad) */
#define O_LOC (O_ACC + 4)  /* MPI_DOUBLE_INT, 2 int64 wide */
#define O_CNT (O_LOC + 2)  /* 3 counters: fop, cas, exclusive lock */
#define O_RING (O_CNT + 4) /* PSCW: the left neighbour's value */
#define O_REQ (O_RING + 1) /* request-based ops: 1 slot per origin */
#define WIN_ELEMS (O_REQ + 64 + 8)
#define ITERS 200

static void suite_fence(MPI_Win w, int64_t *base)
{
    int64_t mine[BLK], got[BLK];
    MPI_Datatype vec;

    for (int k = 0; k < BLK; k++) {
        mine[k] = 1000 * me + k;
    }
    MPI_Type_vector(BLK, 1, 2, MPI_INT64_T, &vec); /* every other element */
    MPI_Type_commit(&vec);
    MPI_OK(MPI_Win_fence(0, w));
    for (int t = 0; t < np; t++) {
        MPI_OK(MPI_Put(mine, BLK, MPI_INT64_T, t, me * BLK, BLK, MPI_INT64_T, w));
        int64_t one = me + 1, mx = me, x = 1LL << (me % 63);
        MPI_OK(MPI_Accumulate(&one, 1, MPI_INT64_T, t, O_ACC, 1, MPI_INT64_T, MPI_SUM, w));
        MPI_OK(MPI_Accumulate(&mx, 1, MPI_INT64_T, t, O_ACC + 1, 1, MPI_INT64_T, MPI_MAX, w));
        MPI_OK(MPI_Accumulate(&x, 1, MPI_INT64_T, t, O_ACC + 2, 1, MPI_INT64_T, MPI_BXOR, w));
        struct {
            double v;
            int i;
        } loc = {(double) me, me};
        MPI_OK(MPI_Accumulate(&loc, 1, MPI_DOUBLE_INT, t, O_LOC, 1, MPI_DOUBLE_INT, MPI_MAXLOC, w));
    }
    if (0 == me % 2) { /* strided target, written by the even ranks in turn */
        for (int t = 0; t < np; t++) {
            MPI_OK(MPI_Put(mine, BLK, MPI_INT64_T, t, O_VEC + (me / 2 % 4) * 16, 1, vec, w));
        }
    }
    MPI_OK(MPI_Win_fence(0, w));
    int64_t sum = (int64_t) np * (np + 1) / 2, bx = 0;
    for (int r = 0; r < np; r++) {
        bx ^= 1LL << (r % 63);
        for (int k = 0; k < BLK; k++) {
            CHECK(base[r * BLK + k] == 1000 * r + k, "put from %d: [%d] = %lld", r, k,
                  (long long) base[r * BLK + k]);
        }
    }
    CHECK(base[O_ACC] == sum, "accumulate SUM = %lld, expected %lld", (long long) base[O_ACC],
          (long long) sum);
    CHECK(base[O_ACC + 1] == np - 1, "accumulate MAX = %lld", (long long) base[O_ACC + 1]);
    CHECK(base[O_ACC + 2] == bx, "accumulate BXOR = %llx", (long long) base[O_ACC + 2]);
    struct {
        double v;
        int i;
    } *loc = (void *) &base[O_LOC];
    CHECK(loc->v == np - 1 && loc->i == np - 1, "MAXLOC = (%g, %d)", loc->v, loc->i);
    /* get back a peer's block with the vector datatype on the origin side */
    int t = (me + 1) % np;
    int64_t strided[2 * BLK];
    memset(strided, 0, sizeof(strided));
    MPI_OK(MPI_Get(strided, 1, vec, t, t * BLK, BLK, MPI_INT64_T, w));
    MPI_OK(MPI_Get(got, BLK, MPI_INT64_T, t, me * BLK, BLK, MPI_INT64_T, w));
    MPI_OK(MPI_Win_fence(0, w));
    for (int k = 0; k < BLK; k++) {
        CHECK(strided[2 * k] == 1000 * t + k && 0 == strided[2 * k + 1],
              "strided get from %d: [%d] = %lld", t, k, (long long) strided[2 * k]);
        CHECK(got[k] == mine[k], "get of my block at %d: [%d] = %lld", t, k, (long long) got[k]);
    }
    if (np > 1) { /* the vector target: 8 values with gaps */
        int64_t v0 = base[O_VEC], v1 = base[O_VEC + 1];
        CHECK(v0 % 1000 == 0 && v1 == 0 && base[O_VEC + 2] == v0 + 1, "vector put: %lld %lld %lld",
              (long long) v0, (long long) v1, (long long) base[O_VEC + 2]);
    }
    MPI_Type_free(&vec);
}

static void suite_pscw(MPI_Win w, int64_t *base)
{
    MPI_Group world, left, right;
    int l = (me + np - 1) % np, r = (me + 1) % np;
    int64_t v = 7000 + me;

    MPI_Comm_group(MPI_COMM_WORLD, &world);
    MPI_Group_incl(world, 1, &l, &left);
    MPI_Group_incl(world, 1, &r, &right);
    for (int round = 0; round < 3; round++) {
        MPI_OK(MPI_Win_post(left, 0, w));
        MPI_OK(MPI_Win_start(right, 0, w));
        v += 100;
        MPI_OK(MPI_Put(&v, 1, MPI_INT64_T, r, O_RING, 1, MPI_INT64_T, w));
        MPI_OK(MPI_Win_complete(w));
        MPI_OK(MPI_Win_wait(w));
        CHECK(base[O_RING] == 7000 + l + 100 * (round + 1), "PSCW round %d: got %lld", round,
              (long long) base[O_RING]);
    }
    MPI_Group_free(&left);
    MPI_Group_free(&right);
    MPI_Group_free(&world);
}

/* All ranks hammer the counters of every target at once. */
static void suite_concurrent(MPI_Win w, int64_t *base)
{
    int64_t one = 1, *seen = malloc(sizeof(int64_t) * ITERS * np);
    int64_t *all = malloc(sizeof(int64_t) * ITERS * np);

    MPI_Barrier(MPI_COMM_WORLD);
    for (int tt = 0; tt < np; tt++) { /* all ranks on the same target at once */
        MPI_OK(MPI_Win_lock_all(0, w));
        for (int i = 0; i < ITERS; i++) {
            MPI_OK(MPI_Fetch_and_op(&one, &seen[i], MPI_INT64_T, tt, O_CNT, MPI_SUM, w));
            MPI_OK(MPI_Win_flush(tt, w));
            int64_t cur = 0, old;
            do { /* increment by compare-and-swap */
                int64_t next = cur + 1;
                MPI_OK(MPI_Compare_and_swap(&next, &cur, &old, MPI_INT64_T, tt, O_CNT + 1, w));
                MPI_OK(MPI_Win_flush(tt, w));
                if (old == cur) {
                    break;
                }
                cur = old;
            } while (1);
        }
        MPI_OK(MPI_Win_unlock_all(w));
        for (int i = 0; i < ITERS; i++) { /* non-atomic RMW under an exclusive lock */
            int64_t v;
            MPI_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, tt, 0, w));
            MPI_OK(MPI_Get(&v, 1, MPI_INT64_T, tt, O_CNT + 2, 1, MPI_INT64_T, w));
            MPI_OK(MPI_Win_flush(tt, w));
            v++;
            MPI_OK(MPI_Put(&v, 1, MPI_INT64_T, tt, O_CNT + 2, 1, MPI_INT64_T, w));
            MPI_OK(MPI_Win_unlock(tt, w));
        }
        /* the fetched values of one target, from all ranks: 0..np*ITERS-1 once each */
        MPI_Allgather(seen, ITERS, MPI_INT64_T, all, ITERS, MPI_INT64_T, MPI_COMM_WORLD);
        if (0 == me) {
            char *hit = calloc(ITERS * np, 1);
            for (int i = 0; i < ITERS * np; i++) {
                if (all[i] < 0 || all[i] >= ITERS * np || hit[all[i]]++) {
                    err("fetch_and_op on %d returned %lld twice or out of range", tt,
                        (long long) all[i]);
                    break;
                }
            }
            free(hit);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_OK(MPI_Win_lock(MPI_LOCK_SHARED, me, 0, w));
    for (int k = 0; k < 3; k++) {
        CHECK(base[O_CNT + k] == (int64_t) ITERS * np, "counter %d = %lld, expected %lld", k,
              (long long) base[O_CNT + k], (long long) ITERS * np);
    }
    MPI_OK(MPI_Win_unlock(me, w));
    free(seen);
    free(all);
}

static void suite_requests(MPI_Win w, int64_t *base)
{
    MPI_Request rq[4];
    int64_t v = 500 + me, back = -1, add = 2, res = -1;
    int t = (me + 1) % np;

    MPI_OK(MPI_Win_lock_all(0, w));
    MPI_OK(MPI_Rput(&v, 1, MPI_INT64_T, t, O_REQ + me, 1, MPI_INT64_T, w, &rq[0]));
    MPI_Waitall(1, rq, MPI_STATUSES_IGNORE);
    MPI_OK(MPI_Win_flush(t, w));
    MPI_OK(MPI_Rget(&back, 1, MPI_INT64_T, t, O_REQ + me, 1, MPI_INT64_T, w, &rq[1]));
    MPI_OK(
        MPI_Raccumulate(&add, 1, MPI_INT64_T, t, O_REQ + me, 1, MPI_INT64_T, MPI_SUM, w, &rq[2]));
    MPI_Waitall(2, rq + 1, MPI_STATUSES_IGNORE);
    MPI_OK(MPI_Rget_accumulate(&add, 1, MPI_INT64_T, &res, 1, MPI_INT64_T, t, O_REQ + me, 1,
                               MPI_INT64_T, MPI_NO_OP, w, &rq[3]));
    MPI_Wait(&rq[3], MPI_STATUS_IGNORE);
    MPI_OK(MPI_Win_unlock_all(w));
    CHECK(back == v && res == v + 2, "request ops: got %lld and %lld, expected %lld and %lld",
          (long long) back, (long long) res, (long long) v, (long long) v + 2);
    MPI_Barrier(MPI_COMM_WORLD);
    int l = (me + np - 1) % np;
    MPI_OK(MPI_Win_sync(w));
    CHECK(base[O_REQ + l] == 502 + l, "request ops at the target: %lld",
          (long long) base[O_REQ + l]);
}

static void suite(MPI_Win w, int64_t *base)
{
    int *model, flag = 0;
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    MPI_Win_get_attr(w, MPI_WIN_MODEL, &model, &flag);
    CHECK(flag && MPI_WIN_UNIFIED == *model, "MPI_WIN_MODEL is not MPI_WIN_UNIFIED");
    MPI_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, me, 0, w));
    memset(base, 0, WIN_ELEMS * sizeof(int64_t));
    MPI_OK(MPI_Win_unlock(me, w));
    MPI_Barrier(MPI_COMM_WORLD);
    suite_fence(w, base);
    suite_pscw(w, base);
    suite_concurrent(w, base);
    suite_requests(w, base);
}

static void case_allocate(void)
{
    int64_t *base;
    MPI_Win w;
    MPI_OK(MPI_Win_allocate(WIN_ELEMS * 8, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &w));
    suite(w, base);
    MPI_OK(MPI_Win_free(&w));
}

static void case_create(void)
{
    int64_t *base;
    MPI_Info info;
    MPI_Win w;
    MPI_Info_create(&info);
    MPI_Info_set(info, "mpool_hints", "ivm");
    MPI_OK(MPI_Alloc_mem(WIN_ELEMS * 8, info, &base));
    MPI_OK(MPI_Win_create(base, WIN_ELEMS * 8, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    suite(w, base);
    MPI_OK(MPI_Win_free(&w));
    MPI_Free_mem(base);
    MPI_Info_free(&info);
}

/* Writes into the peers' segments through shared_query pointers. */
static void shared_direct(MPI_Win w, int noncontig)
{
    const MPI_Aint seg = 4096 + 64 * me; /* sizes differ between ranks */
    MPI_Aint size;
    int disp;
    char *prev_end = NULL;

    MPI_OK(MPI_Win_lock_all(MPI_MODE_NOCHECK, w));
    for (int r = 0; r < np; r++) {
        int64_t *p;
        MPI_OK(MPI_Win_shared_query(w, r, &size, &disp, &p));
        CHECK(size == 4096 + 64 * r && 8 == disp && NULL != p, "shared_query(%d): size %ld", r,
              (long) size);
        if (!noncontig && NULL != prev_end) {
            CHECK((char *) p == prev_end, "segment %d does not follow segment %d", r, r - 1);
        }
        prev_end = (char *) p + size;
        p[1 + me] = 100 * r + me; /* my slot in rank r's segment */
    }
    MPI_OK(MPI_Win_sync(w));
    MPI_Barrier(MPI_COMM_WORLD);
    MPI_OK(MPI_Win_sync(w));
    int64_t *mine;
    MPI_OK(MPI_Win_shared_query(w, me, &size, &disp, &mine));
    for (int r = 0; r < np; r++) {
        CHECK(mine[1 + r] == 100 * me + r, "rank %d's store into my segment: %lld", r,
              (long long) mine[1 + r]);
    }
    MPI_OK(MPI_Win_unlock_all(w));
    (void) seg;
}

static void case_shared(void)
{
    int64_t *base;
    MPI_Win w;
    MPI_Info info;

    MPI_OK(MPI_Win_allocate_shared(WIN_ELEMS * 8, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &w));
    suite(w, base);
    MPI_OK(MPI_Win_free(&w));
    for (int noncontig = 0; noncontig < 2; noncontig++) {
        MPI_Info_create(&info);
        MPI_Info_set(info, "alloc_shared_noncontig", noncontig ? "true" : "false");
        MPI_OK(MPI_Win_allocate_shared(4096 + 64 * me, 8, info, MPI_COMM_WORLD, &base, &w));
        MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
        shared_direct(w, noncontig);
        MPI_OK(MPI_Win_free(&w));
        MPI_Info_free(&info);
    }
}

static void case_decline(void)
{
    pv_t a, b;
    MPI_Win w;
    int64_t *heap = calloc(64, 8), v = me, got = -1;

    pv_read(&a);
    MPI_OK(MPI_Win_create(heap, 64 * 8, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    MPI_OK(MPI_Win_fence(0, w));
    MPI_OK(MPI_Put(&v, 1, MPI_INT64_T, (me + 1) % np, 0, 1, MPI_INT64_T, w));
    MPI_OK(MPI_Win_fence(0, w));
    MPI_OK(MPI_Get(&got, 1, MPI_INT64_T, (me + 1) % np, 0, 1, MPI_INT64_T, w));
    MPI_OK(MPI_Win_fence(0, w));
    CHECK(heap[0] == (me + np - 1) % np && got == me, "window on heap memory: %lld %lld",
          (long long) heap[0], (long long) got);
    MPI_OK(MPI_Win_free(&w));
    MPI_OK(MPI_Win_create_dynamic(MPI_INFO_NULL, MPI_COMM_WORLD, &w));
    MPI_OK(MPI_Win_free(&w));
    pv_read(&b);
    CHECK(b.v[PV_WIN] == a.v[PV_WIN] && b.v[PV_DECL] == a.v[PV_DECL] + 2,
          "osc/ivm took %llu and declined %llu of the 2 windows it must decline",
          b.v[PV_WIN] - a.v[PV_WIN], b.v[PV_DECL] - a.v[PV_DECL]);
    CHECK(b.v[PV_PUT] == a.v[PV_PUT], "osc/ivm counted puts on a window it declined");
    free(heap);
}

static void case_toobig(void)
{
    pv_t a, b;
    MPI_Win w;
    char *base;
    int64_t v = me, got = -1;
    const MPI_Aint size = 32 << 20;

    pv_read(&a);
    MPI_OK(MPI_Win_allocate(size, 1, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &w));
    MPI_OK(MPI_Win_fence(0, w));
    MPI_OK(MPI_Put(&v, 8, MPI_BYTE, (me + 1) % np, size - 8, 8, MPI_BYTE, w));
    MPI_OK(MPI_Win_fence(0, w));
    memcpy(&got, base + size - 8, 8);
    CHECK(got == (me + np - 1) % np, "put into the declined window: %lld", (long long) got);
    MPI_OK(MPI_Win_free(&w));
    pv_read(&b);
    CHECK(b.v[PV_WIN] == a.v[PV_WIN] && b.v[PV_DECL] == a.v[PV_DECL] + 1,
          "osc/ivm took %llu and declined %llu too big windows", b.v[PV_WIN] - a.v[PV_WIN],
          b.v[PV_DECL] - a.v[PV_DECL]);
}

/* The last rank stops (SIGSTOP: as if its VM were paused) where the others
 * will wait for it.  Does not return: the script kills the stopped rank. */
static void case_dead(const char *how)
{
    int64_t *base;
    MPI_Win w;
    MPI_OK(MPI_Win_allocate(64, 8, MPI_INFO_NULL, MPI_COMM_WORLD, &base, &w));
    MPI_Win_set_errhandler(w, MPI_ERRORS_RETURN);
    const int lock = 0 == strcmp(how, "lock");
    if (np - 1 == me && lock) {
        MPI_OK(MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, w));
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (np - 1 == me) {
        printf("rank %d stops\n", me);
        fflush(stdout);
        raise(SIGSTOP);
        _exit(0);
    }
    double t0 = MPI_Wtime();
    int rc = lock ? MPI_Win_lock(MPI_LOCK_EXCLUSIVE, 0, 0, w) : MPI_Win_fence(0, w);
    printf("DEAD,%s,%s,%.1f,rank %d\n", how, MPI_SUCCESS == rc ? "ok" : "error", MPI_Wtime() - t0,
           me);
    fflush(stdout);
    sleep(1);
    _exit(0);
}

int main(int argc, char **argv)
{
    const char *def[] = {"allocate", "create", "shared", "decline"};
    int ncase = argc > 1 ? argc - 1 : 4;
    const char **cases = argc > 1 ? (const char **) argv + 1 : def;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &me);
    MPI_Comm_size(MPI_COMM_WORLD, &np);
    if (0 != pv_init()) {
        err("osc/ivm's MPI_T counters are missing (is osc/ivm installed?)");
    }
    /* Stop after a failed case on every rank alike (report's count, not the
     * local one): a rank that went on alone would wait forever in the next
     * case's window creation for the ranks that stopped. */
    int stop = 0;
    for (int i = 0; i < ncase && !stop; i++) {
        pv_t before, after;
        pv_read(&before);
        if (0 == strcmp(cases[i], "allocate")) {
            case_allocate();
        } else if (0 == strcmp(cases[i], "create")) {
            case_create();
        } else if (0 == strcmp(cases[i], "shared")) {
            case_shared();
        } else if (0 == strcmp(cases[i], "decline")) {
            case_decline();
        } else if (0 == strcmp(cases[i], "toobig")) {
            case_toobig();
        } else if (0 == strncmp(cases[i], "dead-", 5)) {
            case_dead(cases[i] + 5); /* does not return */
        } else {
            err("unknown case %s", cases[i]);
            continue;
        }
        pv_read(&after);
        if (0 != strcmp(cases[i], "decline") && 0 != strcmp(cases[i], "toobig")) {
            pv_expect_traffic(cases[i], &before, &after);
        }
        stop = 0 != report(cases[i]);
    }
    int all = failures;
    MPI_Allreduce(MPI_IN_PLACE, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (0 == me) {
        if (0 == all) {
            printf("ivm_osc: PASS (%d ranks, cases:", np);
            for (int i = 0; i < ncase; i++) {
                printf(" %s", cases[i]);
            }
            printf(")\n");
        } else {
            printf("ivm_osc: FAIL (%d failed checks, see ERROR lines)\n", all);
        }
    }
    MPI_Finalize();
    return 0 == all ? 0 : 1;
}
