/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_p2p: point-to-point correctness of an MPI transport, meant for
 * btl/ivm between emulated VMs (test/integration/btl_p2p.sh).
 *
 * Phases (all by default; every byte of every message is verified):
 *   sizes      contiguous messages from 0 B to --max-size (odd sizes around
 *              every protocol limit) to every other rank
 *   datatypes  vector, indexed and struct-with-gaps datatypes, received as
 *              the same type and as a differently laid out type; gaps in
 *              the receive buffer must stay untouched
 *   anysrc     MPI_ANY_SOURCE / MPI_ANY_TAG receives at a root; source,
 *              tag, count and per-source order are checked
 *   order      many messages of mixed sizes on one pair and one tag, some
 *              receives pre-posted and some late (unexpected messages)
 *   flood      every rank sends --flood messages to rank 0, which starts
 *              receiving late (full rings, queued sends)
 *   nonblock   all-to-all Isend/Irecv completed by Waitall and Testany
 *   persistent Send_init/Recv_init/Ssend_init with Startall, many rounds
 *   ssend      Issend must not complete before the receive is posted;
 *              Ssend data
 *   probe      Probe, Iprobe, Mprobe/Mrecv, Improbe/Imrecv
 *   allocmem   MPI_Alloc_mem(info mpool_hints=ivm) buffers, contiguous
 *              large messages (ivm->ivm, ivm->heap, heap->ivm)
 *
 * btl/ivm's MPI_T counters are read around every phase.  Checks:
 *   - with ranks in more than one VM, every rank sent messages through ivm;
 *   - "sizes": the bytes this rank pushed through ivm (fast boxes + rings)
 *     are at least the payload bytes it sent to ranks in other VMs (heap
 *     buffers never take the single-copy path);
 *   - "allocmem": for ivm->ivm transfers between VMs, single-copy
 *     operations happened on the receiver (ob1 RGET: the receiver gets from
 *     the sender's registered buffer).  The mixed cases (ivm->heap,
 *     heap->ivm) are only verified for data: ob1 4.1 falls back to copy
 *     in/out for them, because it insists on registering the local buffer
 *     of a get/put too, which btl/ivm refuses for memory outside the region
 *     (their single-copy counts are reported).  --sc-check off disables
 *     the single-copy check.
 *
 * Output: per-phase lines, per-rank counters, then exactly one summary line
 *   "ivm_p2p: PASS ..." or "ivm_p2p: FAIL ...".  Exit 0 on PASS, else 1.
 *
 * Usage: ivm_p2p [--max-size BYTES] [--flood N] [--phases a,b,...]
 *                [--big-shifts K] [--sc-check on|off] [--no-ivm-check]
 */
#include <mpi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ivm_pvar.h"

#define MIB (1024UL * 1024UL)

static ivm_place_t P;
static int rank, nprocs;
static long errors;       /* this rank, this phase */
static const char *phase; /* current phase name */

static size_t max_size = 64 * MIB;
static int flood_n = 3000;
static int big_shifts = 1;
static int sc_check = 1;
static int ivm_check = 1;

/* ---------------------------------------------------------------- helpers */

static void err(const char *fmt, ...)
{
    va_list ap;
    errors++;
    if (errors > 12) {
        return; /* counted, not printed */
    }
    fprintf(stderr, "ERROR rank %d (%s) phase %s: ", rank, P.host, phase);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (NULL == p) {
        fprintf(stderr, "rank %d: out of memory (%zu bytes)\n", rank, n);
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    return p;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* a seed unique to one message */
static uint64_t seed_of(int ph, int src, int dst, uint64_t seq, size_t len)
{
    return mix64(mix64(mix64(((uint64_t) ph << 32) ^ (uint64_t) src) ^ ((uint64_t) dst << 20) ^ seq)
                 ^ (uint64_t) len);
}

/* pattern byte i of @seed, produced 8 at a time */
static void fill(void *buf, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w = mix64(seed + i);
        memcpy(p + i, &w, 8);
    }
    if (i < len) {
        uint64_t w = mix64(seed + i);
        memcpy(p + i, &w, len - i);
    }
}

/* Number of bytes of @buf that differ from the pattern; the first one is
 * described in the error message. */
static size_t verify(const void *buf, size_t len, uint64_t seed, const char *what)
{
    const uint8_t *p = buf;
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t w = mix64(seed + i);
        size_t n = len - i < 8 ? len - i : 8;
        if (0 != memcmp(p + i, &w, n)) {
            for (size_t k = 0; k < n; k++) {
                if (p[i + k] != ((const uint8_t *) &w)[k]) {
                    if (0 == bad++) {
                        first = i + k;
                    }
                }
            }
        }
    }
    if (bad) {
        uint64_t w = mix64(seed + (first & ~(size_t) 7));
        err("%s: %zu of %zu bytes wrong, first at offset %zu (got 0x%02x, expected 0x%02x)", what,
            bad, len, first, p[first], ((const uint8_t *) &w)[first & 7]);
    }
    return bad;
}

static double now(void)
{
    return MPI_Wtime();
}

static void spin_progress(double seconds)
{
    /* keep MPI progressing (Iprobe) while waiting, like a busy application */
    double end = now() + seconds;
    int flag;
    while (now() < end) {
        MPI_Iprobe(MPI_ANY_SOURCE, 32000, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    }
}

static int count_of(MPI_Status *st, MPI_Datatype t)
{
    int c;
    MPI_Get_count(st, t, &c);
    return c;
}

/* ------------------------------------------------------------ sizes phase */

/* payload bytes this rank sent to other VMs in the sizes phase */
static unsigned long long sizes_cross_bytes;

static const size_t size_list[] = {
    0,    1,     7,     8,     63,    64,    65,     1000,    2033,        2034,         2035,
    2047, 2048,  2049,  4081,  4082,  4083,  4095,   4096,    4097,        8191,         8192,
    8193, 16384, 32767, 32768, 32769, 65537, 262147, MIB + 3, 4 * MIB - 1, 16 * MIB + 5, 64 * MIB,
};

static void phase_sizes(void)
{
    size_t top = 0;
    for (size_t i = 0; i < sizeof(size_list) / sizeof(size_list[0]); i++) {
        if (size_list[i] <= max_size && size_list[i] > top) {
            top = size_list[i];
        }
    }
    char *sbuf = xmalloc(top + 64), *rbuf = xmalloc(top + 64);
    for (int k = 1; k < nprocs; k++) {
        int to = (rank + k) % nprocs, from = (rank - k + nprocs) % nprocs;
        for (size_t i = 0; i < sizeof(size_list) / sizeof(size_list[0]); i++) {
            size_t len = size_list[i];
            MPI_Request rq[2];
            MPI_Status st[2];
            char what[96];
            if (len > max_size || (len > MIB && k > big_shifts)) {
                continue;
            }
            fill(sbuf, len, seed_of(1, rank, to, i, len));
            memset(rbuf, 0xA5, len + 64);
            MPI_Irecv(rbuf, (int) len, MPI_BYTE, from, (int) i, MPI_COMM_WORLD, &rq[0]);
            MPI_Isend(sbuf, (int) len, MPI_BYTE, to, (int) i, MPI_COMM_WORLD, &rq[1]);
            MPI_Waitall(2, rq, st);
            if (count_of(&st[0], MPI_BYTE) != (int) len) {
                err("%zu B from %d: count %d", len, from, count_of(&st[0], MPI_BYTE));
            }
            snprintf(what, sizeof(what), "%zu B from rank %d", len, from);
            verify(rbuf, len, seed_of(1, from, rank, i, len), what);
            for (size_t g = 0; g < 64; g++) {
                if ((uint8_t) rbuf[len + g] != 0xA5) {
                    err("%zu B from %d: byte %zu past the end was overwritten", len, from, len + g);
                    break;
                }
            }
            if (ivm_cross(&P, rank, to)) {
                sizes_cross_bytes += len;
            }
        }
    }
    free(sbuf);
    free(rbuf);
}

/* -------------------------------------------------------- datatypes phase */

struct rec {
    char c; /* 7 bytes of padding follow */
    double d;
    short s[3]; /* 2 bytes of padding follow */
    int i;
    char tail; /* 3 bytes of padding follow */
};

static MPI_Datatype t_rec, t_rec_packed;

static void make_types(void)
{
    int bl[5] = {1, 1, 3, 1, 1};
    MPI_Aint d[5] = {offsetof(struct rec, c), offsetof(struct rec, d), offsetof(struct rec, s),
                     offsetof(struct rec, i), offsetof(struct rec, tail)};
    MPI_Datatype ty[5] = {MPI_CHAR, MPI_DOUBLE, MPI_SHORT, MPI_INT, MPI_CHAR};
    MPI_Datatype tmp;
    MPI_Type_create_struct(5, bl, d, ty, &tmp);
    MPI_Type_create_resized(tmp, 0, sizeof(struct rec), &t_rec);
    MPI_Type_free(&tmp);
    MPI_Type_commit(&t_rec);
    /* same signature, no gaps: 1 + 8 + 6 + 4 + 1 = 20 bytes */
    MPI_Aint dp[5] = {0, 1, 9, 15, 19};
    MPI_Type_create_struct(5, bl, dp, ty, &tmp);
    MPI_Type_create_resized(tmp, 0, 20, &t_rec_packed);
    MPI_Type_free(&tmp);
    MPI_Type_commit(&t_rec_packed);
}

/* The receive buffer the receiver expects: the sender's buffer (rebuilt
 * from its seed) packed with the send type, unpacked over a 0xA5-filled
 * buffer with the receive type.  Gaps of the receive type stay 0xA5. */
static void expected_recv(void *exp, size_t rext, MPI_Datatype rtype, int rcount,
                          MPI_Datatype stype, int scount, size_t sext, uint64_t seed)
{
    int psize, pos = 0;
    void *sb = xmalloc(sext);
    fill(sb, sext, seed);
    MPI_Pack_size(scount, stype, MPI_COMM_SELF, &psize);
    void *packed = xmalloc((size_t) psize);
    MPI_Pack(sb, scount, stype, packed, psize, &pos, MPI_COMM_SELF);
    memset(exp, 0xA5, rext);
    int upos = 0;
    MPI_Unpack(packed, pos, &upos, exp, rcount, rtype, MPI_COMM_SELF);
    free(packed);
    free(sb);
}

/* bytes a buffer of @count elements of @t spans from its address (the
 * types here have lb >= 0 and true lb >= 0) */
static size_t extent_of(MPI_Datatype t, int count)
{
    MPI_Aint lb, ext, tlb, text;
    MPI_Type_get_extent(t, &lb, &ext);
    MPI_Type_get_true_extent(t, &tlb, &text);
    size_t a = (size_t) ext * (size_t) count, b = 0;
    if (count > 0) {
        b = (size_t) ext * (size_t) (count - 1) + (size_t) tlb + (size_t) text;
    }
    return a > b ? a : b;
}

/* one typed transfer to the right neighbour, from the left */
static void typed_xfer(const char *name, int tag, MPI_Datatype stype, int scount,
                       MPI_Datatype rtype, int rcount)
{
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    size_t sext = extent_of(stype, scount), rext = extent_of(rtype, rcount);
    char *sb = xmalloc(sext), *rb = xmalloc(rext), *exp = xmalloc(rext);
    MPI_Request rq[2];
    MPI_Status st[2];
    int tsize;

    fill(sb, sext, seed_of(2, rank, to, (uint64_t) tag, sext));
    memset(rb, 0xA5, rext);
    MPI_Irecv(rb, rcount, rtype, from, tag, MPI_COMM_WORLD, &rq[0]);
    MPI_Isend(sb, scount, stype, to, tag, MPI_COMM_WORLD, &rq[1]);
    MPI_Waitall(2, rq, st);
    MPI_Type_size(rtype, &tsize);
    if (count_of(&st[0], rtype) != rcount) {
        err("%s: received count %d, expected %d", name, count_of(&st[0], rtype), rcount);
    }
    expected_recv(exp, rext, rtype, rcount, stype, scount, sext,
                  seed_of(2, from, rank, (uint64_t) tag, sext));
    if (0 != memcmp(rb, exp, rext)) {
        size_t bad = 0, first = 0;
        for (size_t i = 0; i < rext; i++) {
            if (rb[i] != exp[i] && 0 == bad++) {
                first = i;
            }
        }
        err("%s (%d x %d data bytes from %d): %zu of %zu buffer bytes wrong, first at %zu "
            "(got 0x%02x, expected 0x%02x%s)",
            name, rcount, tsize, from, bad, rext, first, (uint8_t) rb[first], (uint8_t) exp[first],
            (uint8_t) exp[first] == 0xA5 ? ", a gap" : "");
    }
    free(sb);
    free(rb);
    free(exp);
}

static void phase_datatypes(void)
{
    static const int vec_n[] = {10, 3000, 200000};
    static const int idx_n[] = {3, 1500, 60000};
    static const int rec_n[] = {3, 2000, 100000};
    int tag = 100;
    make_types();
    for (int s = 0; s < 3; s++) {
        MPI_Datatype vec, vcontig;
        char name[64];
        /* vector: n blocks of 3 doubles, stride 5 */
        MPI_Type_vector(vec_n[s], 3, 5, MPI_DOUBLE, &vec);
        MPI_Type_commit(&vec);
        snprintf(name, sizeof(name), "vector(%d,3,5)->same", vec_n[s]);
        typed_xfer(name, tag++, vec, 1, vec, 1);
        snprintf(name, sizeof(name), "vector(%d,3,5)->contiguous", vec_n[s]);
        typed_xfer(name, tag++, vec, 1, MPI_DOUBLE, 3 * vec_n[s]);
        /* contiguous -> vector: scatter on the receive side */
        MPI_Type_contiguous(3 * vec_n[s], MPI_DOUBLE, &vcontig);
        MPI_Type_commit(&vcontig);
        snprintf(name, sizeof(name), "contiguous->vector(%d,3,5)", vec_n[s]);
        typed_xfer(name, tag++, vcontig, 1, vec, 1);
        MPI_Type_free(&vcontig);
        MPI_Type_free(&vec);

        /* indexed: blocks {1,3,2,7} ints at {0,2,9,20}, extent 32 ints */
        int bl[4] = {1, 3, 2, 7}, dp[4] = {0, 2, 9, 20};
        MPI_Datatype idx0, idx, ivec;
        MPI_Type_indexed(4, bl, dp, MPI_INT, &idx0);
        MPI_Type_create_resized(idx0, 0, 32 * sizeof(int), &idx);
        MPI_Type_commit(&idx);
        MPI_Type_free(&idx0);
        snprintf(name, sizeof(name), "indexed x%d->same", idx_n[s]);
        typed_xfer(name, tag++, idx, idx_n[s], idx, idx_n[s]);
        /* received as a vector of 13-int blocks with stride 17 */
        MPI_Type_vector(idx_n[s], 13, 17, MPI_INT, &ivec);
        MPI_Type_commit(&ivec);
        snprintf(name, sizeof(name), "indexed x%d->vector(13,17)", idx_n[s]);
        typed_xfer(name, tag++, idx, idx_n[s], ivec, 1);
        MPI_Type_free(&ivec);
        MPI_Type_free(&idx);

        /* struct with gaps */
        snprintf(name, sizeof(name), "struct x%d->same", rec_n[s]);
        typed_xfer(name, tag++, t_rec, rec_n[s], t_rec, rec_n[s]);
        snprintf(name, sizeof(name), "struct x%d->packed struct", rec_n[s]);
        typed_xfer(name, tag++, t_rec, rec_n[s], t_rec_packed, rec_n[s]);
        snprintf(name, sizeof(name), "packed struct x%d->struct", rec_n[s]);
        typed_xfer(name, tag++, t_rec_packed, rec_n[s], t_rec, rec_n[s]);
    }
    /* contiguous in memory but not at the buffer address: one block at
     * +24 bytes, and 16-byte elements whose data starts 8 bytes in (the
     * data of consecutive elements touches); small ones go through the
     * fast box, which copies contiguous data straight from the buffer */
    static const int off_n[] = {5, 200, 400, 100000};
    for (int s = 0; s < 4; s++) {
        MPI_Datatype hix, elem0, elem;
        char name[64];
        int one = off_n[s], four = 4;
        MPI_Aint d24 = 24, d8 = 8;
        MPI_Type_create_hindexed(1, &one, &d24, MPI_DOUBLE, &hix);
        MPI_Type_commit(&hix);
        snprintf(name, sizeof(name), "hindexed(%d doubles at +24)->same", off_n[s]);
        typed_xfer(name, tag++, hix, 1, hix, 1);
        snprintf(name, sizeof(name), "hindexed(%d doubles at +24)->contiguous", off_n[s]);
        typed_xfer(name, tag++, hix, 1, MPI_DOUBLE, off_n[s]);
        MPI_Type_free(&hix);
        MPI_Type_create_hindexed(1, &four, &d8, MPI_INT, &elem0);
        MPI_Type_create_resized(elem0, 0, 16, &elem);
        MPI_Type_free(&elem0);
        MPI_Type_commit(&elem);
        snprintf(name, sizeof(name), "%d x (4 ints at +8, extent 16)->same", off_n[s] / 4 + 1);
        typed_xfer(name, tag++, elem, off_n[s] / 4 + 1, elem, off_n[s] / 4 + 1);
        MPI_Type_free(&elem);
    }
    MPI_Type_free(&t_rec);
    MPI_Type_free(&t_rec_packed);
}

/* ----------------------------------------------------------- anysrc phase */

static const size_t any_sizes[] = {0, 1, 17, 500, 2000, 4097, 9000, 33000, 70000};
#define ANY_NSIZES (sizeof(any_sizes) / sizeof(any_sizes[0]))
#define ANY_MAXSZ 70000

static size_t any_size(int src, int seq)
{
    return any_sizes[(size_t) (seq + src) % ANY_NSIZES];
}

static int any_tag(int src, int seq)
{
    return 1 + (seq * 7 + src) % 50;
}

static void phase_anysrc_root(int root, int m)
{
    if (rank != root) {
        char **bufs = xmalloc((size_t) m * sizeof(char *));
        MPI_Request *rq = xmalloc((size_t) m * sizeof(MPI_Request));
        for (int j = 0; j < m; j++) {
            size_t len = any_size(rank, j);
            bufs[j] = xmalloc(len);
            fill(bufs[j], len, seed_of(3, rank, root, (uint64_t) j, len));
            MPI_Isend(bufs[j], (int) len, MPI_BYTE, root, any_tag(rank, j), MPI_COMM_WORLD, &rq[j]);
        }
        MPI_Waitall(m, rq, MPI_STATUSES_IGNORE);
        for (int j = 0; j < m; j++) {
            free(bufs[j]);
        }
        free(bufs);
        free(rq);
        return;
    }
    int *next = calloc((size_t) nprocs, sizeof(int));
    char *rb = xmalloc(ANY_MAXSZ);
    long total = (long) (nprocs - 1) * m;
    for (long k = 0; k < total; k++) {
        MPI_Status st;
        char what[96];
        MPI_Recv(rb, ANY_MAXSZ, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        int s = st.MPI_SOURCE;
        if (s < 0 || s >= nprocs || s == root) {
            err("status.MPI_SOURCE %d is impossible", s);
            continue;
        }
        int j = next[s]++;
        if (j >= m) {
            err("more than %d messages from %d", m, s);
            continue;
        }
        if (st.MPI_TAG != any_tag(s, j)) {
            err("message %d from %d: tag %d, expected %d (out of order?)", j, s, st.MPI_TAG,
                any_tag(s, j));
        }
        size_t len = any_size(s, j);
        if (count_of(&st, MPI_BYTE) != (int) len) {
            err("message %d from %d: %d bytes, expected %zu (out of order?)", j, s,
                count_of(&st, MPI_BYTE), len);
            continue;
        }
        snprintf(what, sizeof(what), "ANY_SOURCE message %d from %d (%zu B)", j, s, len);
        verify(rb, len, seed_of(3, s, root, (uint64_t) j, len), what);
    }
    for (int s = 0; s < nprocs; s++) {
        if (s != root && next[s] != m) {
            err("%d messages from %d, expected %d", next[s], s, m);
        }
    }
    free(next);
    free(rb);
}

static void phase_anysrc(void)
{
    int m = nprocs > 4 ? 60 : 150;
    phase_anysrc_root(0, m);
    MPI_Barrier(MPI_COMM_WORLD);
    phase_anysrc_root(nprocs - 1, m);
}

/* ------------------------------------------------------------ order phase */

static const size_t ord_sizes[] = {0, 8, 100, 1000, 4000, 4200, 12000, 33000, 100000, 3, 2047};
#define ORD_NSIZES (sizeof(ord_sizes) / sizeof(ord_sizes[0]))
#define ORD_WIN 64

static void phase_order(void)
{
    int n = nprocs > 4 ? 500 : 1200;
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    char *sb[ORD_WIN], *rb[ORD_WIN];
    MPI_Request srq[ORD_WIN], rrq[ORD_WIN];
    MPI_Status st[ORD_WIN];
    for (int w = 0; w < ORD_WIN; w++) {
        sb[w] = xmalloc(100000);
        rb[w] = xmalloc(100000);
    }
    /* both directions at once, in batches; odd receive batches are posted
     * late so those messages arrive unexpected */
    for (int base = 0, batch = 0; base < n; base += ORD_WIN, batch++) {
        int cnt = n - base < ORD_WIN ? n - base : ORD_WIN;
        if (batch % 2 == 0) {
            for (int w = 0; w < cnt; w++) {
                MPI_Irecv(rb[w], 100000, MPI_BYTE, from, 9, MPI_COMM_WORLD, &rrq[w]);
            }
        }
        for (int w = 0; w < cnt; w++) {
            int j = base + w;
            size_t len = ord_sizes[(size_t) j % ORD_NSIZES];
            fill(sb[w], len, seed_of(4, rank, to, (uint64_t) j, len));
            MPI_Isend(sb[w], (int) len, MPI_BYTE, to, 9, MPI_COMM_WORLD, &srq[w]);
        }
        if (batch % 2 == 1) {
            spin_progress(0.002);
            for (int w = 0; w < cnt; w++) {
                MPI_Irecv(rb[w], 100000, MPI_BYTE, from, 9, MPI_COMM_WORLD, &rrq[w]);
            }
        }
        MPI_Waitall(cnt, rrq, st);
        for (int w = 0; w < cnt; w++) {
            int j = base + w;
            size_t len = ord_sizes[(size_t) j % ORD_NSIZES];
            char what[96];
            if (count_of(&st[w], MPI_BYTE) != (int) len) {
                err("message %d from %d: %d bytes, expected %zu (out of order)", j, from,
                    count_of(&st[w], MPI_BYTE), len);
                continue;
            }
            snprintf(what, sizeof(what), "ordered message %d from %d (%zu B)", j, from, len);
            verify(rb[w], len, seed_of(4, from, rank, (uint64_t) j, len), what);
        }
        MPI_Waitall(cnt, srq, MPI_STATUSES_IGNORE);
    }
    for (int w = 0; w < ORD_WIN; w++) {
        free(sb[w]);
        free(rb[w]);
    }
}

/* ------------------------------------------------------------ flood phase */

static size_t flood_size(int j)
{
    return 0 == j % 97 ? 20000 : (size_t) (j % 65);
}

static void phase_flood(void)
{
    int root = 0;
    if (rank != root) {
        char *b = xmalloc(20000);
        for (int j = 0; j < flood_n; j++) {
            size_t len = flood_size(j);
            fill(b, len, seed_of(5, rank, root, (uint64_t) j, len));
            MPI_Send(b, (int) len, MPI_BYTE, root, 3 + (j & 1), MPI_COMM_WORLD);
        }
        free(b);
        return;
    }
    /* let the senders run ahead: rings and fast boxes fill up */
    usleep(200000);
    int *next = calloc((size_t) nprocs, sizeof(int));
    char *rb = xmalloc(20000);
    long total = (long) (nprocs - 1) * flood_n;
    for (long k = 0; k < total; k++) {
        MPI_Status st;
        MPI_Recv(rb, 20000, MPI_BYTE, MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
        int s = st.MPI_SOURCE;
        if (s <= 0 || s >= nprocs) {
            err("status.MPI_SOURCE %d is impossible", s);
            continue;
        }
        int j = next[s]++;
        size_t len = flood_size(j);
        if (st.MPI_TAG != 3 + (j & 1) || count_of(&st, MPI_BYTE) != (int) len) {
            err("flood message %d from %d: tag %d size %d, expected tag %d size %zu "
                "(out of order?)",
                j, s, st.MPI_TAG, count_of(&st, MPI_BYTE), 3 + (j & 1), len);
            continue;
        }
        if (len > 0) {
            char what[64];
            snprintf(what, sizeof(what), "flood message %d from %d", j, s);
            verify(rb, len, seed_of(5, s, root, (uint64_t) j, len), what);
        }
    }
    for (int s = 1; s < nprocs; s++) {
        if (next[s] != flood_n) {
            err("%d flood messages from %d, expected %d", next[s], s, flood_n);
        }
    }
    free(next);
    free(rb);
}

/* --------------------------------------------------------- nonblock phase */

static const size_t nb_sizes[] = {1, 5000, 70001};
#define NB_N 3

static void nonblock_round(int round)
{
    int n = nprocs;
    MPI_Request *rq = xmalloc(sizeof(MPI_Request) * (size_t) (2 * n * NB_N));
    char **rb = xmalloc(sizeof(char *) * (size_t) (n * NB_N));
    char **sb = xmalloc(sizeof(char *) * (size_t) (n * NB_N));
    int nr = 0;
    for (int p = 0; p < n; p++) {
        for (int m = 0; m < NB_N; m++) {
            int i = p * NB_N + m;
            rb[i] = sb[i] = NULL;
            if (p == rank) {
                rq[2 * i] = rq[2 * i + 1] = MPI_REQUEST_NULL;
                continue;
            }
            rb[i] = xmalloc(nb_sizes[m]);
            MPI_Irecv(rb[i], (int) nb_sizes[m], MPI_BYTE, p, 20 + m, MPI_COMM_WORLD, &rq[2 * i]);
            nr++;
        }
    }
    for (int p = 0; p < n; p++) {
        for (int m = 0; m < NB_N; m++) {
            int i = p * NB_N + m;
            if (p == rank) {
                continue;
            }
            sb[i] = xmalloc(nb_sizes[m]);
            fill(sb[i], nb_sizes[m], seed_of(6, rank, p, (uint64_t) (round * 10 + m), nb_sizes[m]));
            MPI_Isend(sb[i], (int) nb_sizes[m], MPI_BYTE, p, 20 + m, MPI_COMM_WORLD,
                      &rq[2 * i + 1]);
        }
    }
    if (0 == round) {
        MPI_Waitall(2 * n * NB_N, rq, MPI_STATUSES_IGNORE);
    } else {
        /* Testany until everything is done */
        int done = 0, total = 2 * nr;
        while (done < total) {
            int idx, flag;
            MPI_Testany(2 * n * NB_N, rq, &idx, &flag, MPI_STATUS_IGNORE);
            if (flag && idx != MPI_UNDEFINED) {
                done++;
            }
        }
    }
    for (int p = 0; p < n; p++) {
        for (int m = 0; m < NB_N; m++) {
            int i = p * NB_N + m;
            if (p == rank) {
                continue;
            }
            char what[64];
            snprintf(what, sizeof(what), "round %d message %d from %d", round, m, p);
            verify(rb[i], nb_sizes[m],
                   seed_of(6, p, rank, (uint64_t) (round * 10 + m), nb_sizes[m]), what);
            free(rb[i]);
            free(sb[i]);
        }
    }
    free(rq);
    free(rb);
    free(sb);
}

static void phase_nonblock(void)
{
    nonblock_round(0);
    nonblock_round(1);
}

/* ------------------------------------------------------- persistent phase */

static void phase_persistent(void)
{
    static const size_t len[3] = {64, 200003, 3000};
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    char *sb[3], *rb[3];
    MPI_Request rq[6];
    for (int m = 0; m < 3; m++) {
        sb[m] = xmalloc(len[m]);
        rb[m] = xmalloc(len[m]);
        MPI_Recv_init(rb[m], (int) len[m], MPI_BYTE, from, 40 + m, MPI_COMM_WORLD, &rq[m]);
    }
    MPI_Send_init(sb[0], (int) len[0], MPI_BYTE, to, 40, MPI_COMM_WORLD, &rq[3]);
    MPI_Send_init(sb[1], (int) len[1], MPI_BYTE, to, 41, MPI_COMM_WORLD, &rq[4]);
    MPI_Ssend_init(sb[2], (int) len[2], MPI_BYTE, to, 42, MPI_COMM_WORLD, &rq[5]);
    for (int it = 0; it < 40; it++) {
        for (int m = 0; m < 3; m++) {
            fill(sb[m], len[m], seed_of(7, rank, to, (uint64_t) (it * 3 + m), len[m]));
            memset(rb[m], 0, len[m]);
        }
        if (it % 2) {
            MPI_Startall(6, rq);
        } else {
            for (int k = 5; k >= 0; k--) {
                MPI_Start(&rq[k]);
            }
        }
        MPI_Waitall(6, rq, MPI_STATUSES_IGNORE);
        for (int m = 0; m < 3; m++) {
            char what[64];
            snprintf(what, sizeof(what), "iteration %d request %d from %d", it, m, from);
            verify(rb[m], len[m], seed_of(7, from, rank, (uint64_t) (it * 3 + m), len[m]), what);
        }
    }
    for (int k = 0; k < 6; k++) {
        MPI_Request_free(&rq[k]);
    }
    for (int m = 0; m < 3; m++) {
        free(sb[m]);
        free(rb[m]);
    }
}

/* ------------------------------------------------------------ ssend phase */

static void phase_ssend(void)
{
    static const size_t len[2] = {16, 100001};
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    for (int m = 0; m < 2; m++) {
        char *sb = xmalloc(len[m]), *rb = xmalloc(len[m]);
        MPI_Request rq;
        int flag = 0, go = 1;
        char what[64];
        fill(sb, len[m], seed_of(8, rank, to, (uint64_t) m, len[m]));
        MPI_Issend(sb, (int) len[m], MPI_BYTE, to, 50, MPI_COMM_WORLD, &rq);
        /* the receiver posts its receive only after our "go": until then
         * the synchronous send must not complete */
        double end = now() + 0.05;
        while (now() < end && !flag) {
            MPI_Test(&rq, &flag, MPI_STATUS_IGNORE);
        }
        if (flag) {
            err("Issend of %zu B to %d completed before the receive was posted", len[m], to);
        }
        MPI_Send(&go, 1, MPI_INT, to, 51, MPI_COMM_WORLD);
        MPI_Recv(&go, 1, MPI_INT, from, 51, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Recv(rb, (int) len[m], MPI_BYTE, from, 50, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        if (!flag) {
            MPI_Wait(&rq, MPI_STATUS_IGNORE);
        }
        snprintf(what, sizeof(what), "Issend %zu B from %d", len[m], from);
        verify(rb, len[m], seed_of(8, from, rank, (uint64_t) m, len[m]), what);

        /* blocking Ssend around the ring, receives pre-posted */
        MPI_Request rr;
        fill(sb, len[m], seed_of(8, rank, to, (uint64_t) m + 10, len[m]));
        MPI_Irecv(rb, (int) len[m], MPI_BYTE, from, 52, MPI_COMM_WORLD, &rr);
        MPI_Ssend(sb, (int) len[m], MPI_BYTE, to, 52, MPI_COMM_WORLD);
        MPI_Wait(&rr, MPI_STATUS_IGNORE);
        snprintf(what, sizeof(what), "Ssend %zu B from %d", len[m], from);
        verify(rb, len[m], seed_of(8, from, rank, (uint64_t) m + 10, len[m]), what);
        free(sb);
        free(rb);
    }
}

/* ------------------------------------------------------------ probe phase */

static void phase_probe(void)
{
    static const size_t len[4] = {0, 300, 9000, 120000};
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    char *sb[4];
    MPI_Request srq[4];
    for (int m = 0; m < 4; m++) {
        sb[m] = xmalloc(len[m]);
        fill(sb[m], len[m], seed_of(9, rank, to, (uint64_t) m, len[m]));
        MPI_Isend(sb[m], (int) len[m], MPI_BYTE, to, 60 + m, MPI_COMM_WORLD, &srq[m]);
    }
    for (int m = 0; m < 4; m++) {
        MPI_Status st;
        MPI_Message msg;
        MPI_Request rr;
        int flag = 0, c;
        char *rb;
        char what[64];
        switch (m) {
        case 0: /* blocking probe, wildcards: the first message from the left */
            MPI_Probe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &st);
            /* with several senders any of them may come first: only the
             * left neighbour sends to us in this phase */
            break;
        case 1:
            while (!flag) {
                MPI_Iprobe(from, 61, MPI_COMM_WORLD, &flag, &st);
            }
            break;
        case 2: MPI_Mprobe(from, MPI_ANY_TAG, MPI_COMM_WORLD, &msg, &st); break;
        case 3:
            while (!flag) {
                MPI_Improbe(MPI_ANY_SOURCE, 63, MPI_COMM_WORLD, &flag, &msg, &st);
            }
            break;
        }
        c = count_of(&st, MPI_BYTE);
        if (st.MPI_SOURCE != from || st.MPI_TAG != 60 + m || c != (int) len[m]) {
            err("probe %d: source %d tag %d count %d, expected %d %d %zu", m, st.MPI_SOURCE,
                st.MPI_TAG, c, from, 60 + m, len[m]);
            if (m >= 2) {
                /* the message is matched: receive it anyway */
                rb = xmalloc(len[m] > (size_t) c ? len[m] : (size_t) c);
                MPI_Mrecv(rb, c, MPI_BYTE, &msg, MPI_STATUS_IGNORE);
                free(rb);
            }
            continue;
        }
        rb = xmalloc((size_t) c);
        if (m < 2) {
            MPI_Recv(rb, c, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, &st);
        } else if (2 == m) {
            MPI_Mrecv(rb, c, MPI_BYTE, &msg, &st);
        } else {
            MPI_Imrecv(rb, c, MPI_BYTE, &msg, &rr);
            MPI_Wait(&rr, &st);
        }
        snprintf(what, sizeof(what), "probed message %d from %d", m, from);
        verify(rb, len[m], seed_of(9, from, rank, (uint64_t) m, len[m]), what);
        free(rb);
    }
    MPI_Waitall(4, srq, MPI_STATUSES_IGNORE);
    MPI_Barrier(MPI_COMM_WORLD);
    /* nothing else was sent: probes must find nothing */
    int flag = 1;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        err("Iprobe found a message after all were received");
    }
    MPI_Message msg;
    MPI_Improbe(MPI_ANY_SOURCE, 60, MPI_COMM_WORLD, &flag, &msg, MPI_STATUS_IGNORE);
    if (flag) {
        err("Improbe found a message after all were received");
    }
    for (int m = 0; m < 4; m++) {
        free(sb[m]);
    }
}

/* --------------------------------------------------------- allocmem phase */

enum { AM_IVM_IVM, AM_IVM_HEAP, AM_HEAP_IVM, AM_CASES };
static const char *am_name[AM_CASES] = {"ivm->ivm", "ivm->heap", "heap->ivm"};
static unsigned long long am_sc[AM_CASES]; /* single-copy ops during the case */
static int am_expect[AM_CASES];            /* this rank should see single copies */
static int am_alloc_ok = 1;

#define AM_NSIZES 4
static const size_t am_sizes[AM_NSIZES] = {40000, MIB + 3, 8 * MIB + 1, 64 * MIB};

/* The bytes around a receive of @len at @roff in @r (top + 64 bytes) are
 * still 0xA5 */
static void am_check_guards(int c, const char *r, size_t roff, size_t len)
{
    for (size_t g = 0; g < roff; g++) {
        if ((uint8_t) r[g] != 0xA5) {
            err("%s %zu B: byte %zu before the receive buffer was overwritten", am_name[c], len, g);
            break;
        }
    }
    for (size_t g = roff + len; g < roff + len + 32; g++) {
        if ((uint8_t) r[g] != 0xA5) {
            err("%s %zu B: byte %zu after the receive buffer was overwritten", am_name[c], len,
                g - roff);
            break;
        }
    }
}

/* Size @i of case @c: from @s to the right neighbour, into @r from the left */
static void am_transfer(int c, size_t i, char *s, char *r, size_t top)
{
    int to = (rank + 1) % nprocs, from = (rank - 1 + nprocs) % nprocs;
    size_t len = am_sizes[i];
    /* odd offsets inside the buffers: unaligned starts */
    size_t soff = i % 2 ? 3 : 0, roff = i % 2 ? 0 : 5;
    MPI_Request rq[2];
    MPI_Status st[2];
    char what[96];
    fill(s + soff, len, seed_of(10, rank, to, (uint64_t) (c * 8 + i), len));
    memset(r, 0xA5, top + 64);
    MPI_Irecv(r + roff, (int) len, MPI_BYTE, from, 70 + c, MPI_COMM_WORLD, &rq[0]);
    MPI_Isend(s + soff, (int) len, MPI_BYTE, to, 70 + c, MPI_COMM_WORLD, &rq[1]);
    MPI_Waitall(2, rq, st);
    if (count_of(&st[0], MPI_BYTE) != (int) len) {
        err("%s %zu B from %d: count %d", am_name[c], len, from, count_of(&st[0], MPI_BYTE));
    }
    snprintf(what, sizeof(what), "%s %zu B from %d", am_name[c], len, from);
    verify(r + roff, len, seed_of(10, from, rank, (uint64_t) (c * 8 + i), len), what);
    am_check_guards(c, r, roff, len);
}

/* Two MPI_Alloc_mem(mpool_hints=ivm) buffers of @bytes; false on every
 * rank (and both freed) if any rank could not have them */
static bool am_alloc(size_t bytes, void **ivm_s, void **ivm_r)
{
    MPI_Info info;
    MPI_Info_create(&info);
    MPI_Info_set(info, "mpool_hints", "ivm");
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    int rc1 = MPI_Alloc_mem((MPI_Aint) bytes, info, ivm_s);
    int rc2 = MPI_Alloc_mem((MPI_Aint) bytes, info, ivm_r);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_ARE_FATAL);
    MPI_Info_free(&info);
    if (MPI_SUCCESS != rc1 || MPI_SUCCESS != rc2 || NULL == *ivm_s || NULL == *ivm_r) {
        err("MPI_Alloc_mem(%zu, mpool_hints=ivm) failed (%d, %d)", bytes, rc1, rc2);
        am_alloc_ok = 0;
    }
    int all_ok;
    MPI_Allreduce(&am_alloc_ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        am_alloc_ok = 0;
        if (MPI_SUCCESS == rc1) MPI_Free_mem(*ivm_s);
        if (MPI_SUCCESS == rc2) MPI_Free_mem(*ivm_r);
        return false;
    }
    return true;
}

static void phase_allocmem(void)
{
    size_t top = 0;
    for (size_t i = 0; i < AM_NSIZES; i++) {
        if (am_sizes[i] <= max_size && am_sizes[i] > top) {
            top = am_sizes[i];
        }
    }
    int from = (rank - 1 + nprocs) % nprocs;
    void *ivm_s = NULL, *ivm_r = NULL;
    if (!am_alloc(top + 64, &ivm_s, &ivm_r)) {
        return;
    }
    char *heap_s = xmalloc(top + 64), *heap_r = xmalloc(top + 64);
    for (int c = 0; c < AM_CASES; c++) {
        char *s = (AM_HEAP_IVM == c) ? heap_s : ivm_s;
        char *r = (AM_IVM_HEAP == c) ? heap_r : ivm_r;
        ivm_pv_t a, b;
        /* Who performs the single copy.  ob1 (4.1) uses RGET only when the
         * send buffer is registered (in the region) and the receiver can
         * register its own buffer too (it does not honour the BTL's local
         * registration threshold); the receiver then gets.  With one side on
         * the heap, ob1 falls back to copy in/out through the rings. */
        am_expect[c] = (AM_IVM_IVM == c) ? ivm_cross(&P, rank, from) : 0;
        MPI_Barrier(MPI_COMM_WORLD);
        ivm_pvar_read(&a);
        for (size_t i = 0; i < AM_NSIZES; i++) {
            if (am_sizes[i] <= max_size) {
                am_transfer(c, i, s, r, top);
            }
        }
        ivm_pvar_read(&b);
        am_sc[c] = b.v[IVM_PV_SC_OPS] - a.v[IVM_PV_SC_OPS];
    }
    free(heap_s);
    free(heap_r);
    MPI_Free_mem(ivm_s);
    MPI_Free_mem(ivm_r);
}

/* ------------------------------------------------------------------ main */

typedef struct {
    const char *name;
    void (*fn)(void);
} phase_t;

static const phase_t phases[] = {
    {"sizes", phase_sizes},           {"datatypes", phase_datatypes}, {"anysrc", phase_anysrc},
    {"order", phase_order},           {"flood", phase_flood},         {"nonblock", phase_nonblock},
    {"persistent", phase_persistent}, {"ssend", phase_ssend},         {"probe", phase_probe},
    {"allocmem", phase_allocmem},
};
#define NPHASES ((int) (sizeof(phases) / sizeof(phases[0])))

static int wanted(const char *list, const char *name)
{
    if (NULL == list) {
        return 1;
    }
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t) (e - p) : strlen(p);
        if (l == n && 0 == strncmp(p, name, n)) {
            return 1;
        }
        p += l + (e ? 1 : 0);
    }
    return 0;
}

static const char *plist; /* --phases */

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (0 == strcmp(argv[i], "--max-size") && i + 1 < argc) {
            max_size = strtoul(argv[++i], NULL, 0);
        } else if (0 == strcmp(argv[i], "--flood") && i + 1 < argc) {
            flood_n = atoi(argv[++i]);
        } else if (0 == strcmp(argv[i], "--phases") && i + 1 < argc) {
            plist = argv[++i];
        } else if (0 == strcmp(argv[i], "--big-shifts") && i + 1 < argc) {
            big_shifts = atoi(argv[++i]);
        } else if (0 == strcmp(argv[i], "--sc-check") && i + 1 < argc) {
            sc_check = 0 != strcmp(argv[++i], "off");
        } else if (0 == strcmp(argv[i], "--no-ivm-check")) {
            ivm_check = 0;
        } else {
            fprintf(stderr, "ivm_p2p: unknown argument %s\n", argv[i]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
}

/* At least 2 ranks and (unless --no-ivm-check) btl/ivm's MPI_T variables;
 * false (and the FAIL line) otherwise */
static bool prerequisites(void)
{
    if (nprocs < 2) {
        if (0 == rank) printf("ivm_p2p: FAIL needs at least 2 ranks\n");
        return false;
    }
    int pv = ivm_pvar_init();
    int pv_all;
    MPI_Allreduce(&pv, &pv_all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (pv_all != 0 && ivm_check) {
        if (0 == rank) printf("ivm_p2p: FAIL btl/ivm performance variables not available\n");
        return false;
    }
    return true;
}

/* Every wanted phase, in order; rank 0 prints each one's result.  Returns
 * the errors of all ranks; @failed collects the failed phases' names and
 * @sizes_delta gets what the counters did during "sizes". */
static long run_phases(char *failed, size_t size, ivm_pv_t *sizes_delta)
{
    long global_errors = 0;
    ivm_pv_t ph_a, ph_b;
    for (int i = 0; i < NPHASES; i++) {
        long e;
        if (!wanted(plist, phases[i].name)) {
            continue;
        }
        phase = phases[i].name;
        errors = 0;
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        ivm_pvar_read(&ph_a);
        phases[i].fn();
        ivm_pvar_read(&ph_b);
        MPI_Barrier(MPI_COMM_WORLD);
        if (0 == strcmp(phase, "sizes")) {
            *sizes_delta = ivm_pv_diff(&ph_b, &ph_a);
        }
        MPI_Allreduce(&errors, &e, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        global_errors += e;
        if (0 == rank) {
            printf("phase %-10s %s (%.2f s)", phase, e ? "FAILED" : "ok", now() - t0);
            if (e) {
                printf(": %ld errors", e);
                snprintf(failed + strlen(failed), size - strlen(failed), " %s", phase);
            }
            printf("\n");
            fflush(stdout);
        }
    }
    return global_errors;
}

/* The counters say that the traffic to other VMs went through ivm */
static void check_counters(const ivm_pv_t *total, const ivm_pv_t *sizes_delta)
{
    int has_cross = 0;
    for (int r = 0; r < nprocs; r++) {
        has_cross |= ivm_cross(&P, rank, r);
    }
    if (ivm_check && has_cross && 0 == ivm_pv_sends(total)) {
        err("talked to ranks in other VMs but sent nothing through ivm");
    }
    if (ivm_check && wanted(plist, "sizes")) {
        unsigned long long ivm_bytes =
            sizes_delta->v[IVM_PV_FBOX_BYTES] + sizes_delta->v[IVM_PV_QUEUE_BYTES];
        if (ivm_bytes < sizes_cross_bytes) {
            err("sizes: %llu payload bytes sent to other VMs, but only %llu bytes went through "
                "ivm",
                sizes_cross_bytes, ivm_bytes);
        }
    }
    if (ivm_check && sc_check && wanted(plist, "allocmem") && am_alloc_ok) {
        for (int c = 0; c < AM_CASES; c++) {
            if (am_expect[c] && 0 == am_sc[c]) {
                err("allocmem %s: this rank should have done single-copy transfers with a rank "
                    "in another VM, but btl_ivm_single_copy_operations did not move",
                    am_name[c]);
            }
        }
    }
}

#define REPORT_N (IVM_PV_COUNT + 4) /* counters, sizes bytes, allocmem cases */

/* rank 0: one rank's line of the counter report (@v: REPORT_N values) */
static void print_rank_counters(int r, const unsigned long long *v)
{
    ivm_pv_t d;
    char line[256];
    memcpy(d.v, v, sizeof(d.v));
    ivm_pv_format(&d, line, sizeof(line));
    printf("  rank %d vm#%d: %s", r, P.vm[r], line);
    if (wanted(plist, "sizes")) {
        printf(" sizes_cross_payload=%lluB", v[IVM_PV_COUNT]);
    }
    if (wanted(plist, "allocmem")) {
        printf(" allocmem_sc[");
        for (int c = 0; c < AM_CASES; c++) {
            unsigned long long x = v[IVM_PV_COUNT + 1 + c];
            printf("%s%s=%llu%s", c ? " " : "", am_name[c], x / 2, x & 1 ? "*" : "");
        }
        printf("]");
    }
    printf("\n");
}

/* per-rank report, printed by rank 0 */
static void report_counters(const ivm_pv_t *total)
{
    unsigned long long mine[REPORT_N];
    memcpy(mine, total->v, sizeof(total->v));
    mine[IVM_PV_COUNT] = sizes_cross_bytes;
    for (int c = 0; c < AM_CASES; c++) {
        mine[IVM_PV_COUNT + 1 + c] = am_sc[c] * 2 + (unsigned long long) am_expect[c];
    }
    unsigned long long *all = 0 == rank ? xmalloc(sizeof(mine) * (size_t) nprocs) : NULL;
    MPI_Gather(mine, REPORT_N, MPI_UNSIGNED_LONG_LONG, all, REPORT_N, MPI_UNSIGNED_LONG_LONG, 0,
               MPI_COMM_WORLD);
    if (0 != rank) {
        return;
    }
    printf("ivm counters (whole run, what each rank sent):\n");
    for (int r = 0; r < nprocs; r++) {
        print_rank_counters(r, all + (size_t) r * REPORT_N);
    }
    if (wanted(plist, "allocmem")) {
        printf("  (* = rank expected to perform single copies in that case; ivm->heap and\n"
               "   heap->ivm are known to take the copy path with ob1 4.1: it registers the\n"
               "   local buffer of an RDMA transfer too, which btl/ivm refuses off-region)\n");
    }
    free(all);
}

int main(int argc, char **argv)
{
    long global_errors = 0;
    char failed[512] = "";

    MPI_Init(&argc, &argv);
    parse_args(argc, argv);
    ivm_place_init(&P);
    rank = P.rank;
    nprocs = P.size;
    if (!prerequisites()) {
        MPI_Finalize();
        return 1;
    }
    if (0 == rank) {
        printf("ivm_p2p: %d ranks in %d VMs, max size %zu, flood %d\n", nprocs, P.nvms, max_size,
               flood_n);
        for (int r = 0; r < nprocs; r++) {
            printf("  rank %d in vm #%d\n", r, P.vm[r]);
        }
        fflush(stdout);
    }

    ivm_pv_t start, end, sizes_delta;
    memset(&sizes_delta, 0, sizeof(sizes_delta));
    MPI_Barrier(MPI_COMM_WORLD);
    ivm_pvar_read(&start);
    global_errors += run_phases(failed, sizeof(failed), &sizes_delta);
    ivm_pvar_read(&end);
    ivm_pv_t total = ivm_pv_diff(&end, &start);

    /* ---- counter checks ---- */
    phase = "counters";
    errors = 0;
    check_counters(&total, &sizes_delta);
    report_counters(&total);
    long e;
    MPI_Allreduce(&errors, &e, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (e) {
        snprintf(failed + strlen(failed), sizeof(failed) - strlen(failed), " counters");
    }
    global_errors += e;
    if (0 == rank) {
        if (global_errors) {
            printf("ivm_p2p: FAIL np=%d vms=%d errors=%ld in:%s\n", nprocs, P.nvms, global_errors,
                   failed);
        } else {
            printf("ivm_p2p: PASS np=%d vms=%d\n", nprocs, P.nvms);
        }
        fflush(stdout);
    }
    ivm_pvar_fini();
    MPI_Finalize();
    return global_errors ? 1 : 0;
}
