/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_btl_rdma: btl/ivm's single-copy put, get and atomic operations,
 * called directly through the BTL interface between ranks in different
 * VMs (test/integration/btl_rma.sh).
 *
 * osc/rdma uses these functions for MPI RMA over btl/ivm (ivm_rma and the
 * MPICH suite test that path); this program tests each operation on its
 * own, at the BTL interface.  It finds, for every peer, the ivm module
 * and endpoint in ob1's BML (like ivm_pairs), registers an
 * MPI_Alloc_mem(mpool_hints=ivm) buffer with btl_register_mem, exchanges
 * the registration handles, and then, to every peer ivm reaches:
 *   put      1, 7, 4097 and 65539 bytes from the heap into the peer's
 *            buffer (a slot per origin); the owner verifies every byte
 *   get      the same sizes from the peer's own pattern; verified
 *   fadd64   fetch-and-add 1 on a 64-bit counter of every rank, FADD_K
 *            times from every rank: fetched values per target must be
 *            exactly 0..N-1 and the counter N
 *   fadd32   the same with MCA_BTL_ATOMIC_FLAG_32BIT on a 32-bit counter;
 *            the 32-bit word next to it must stay untouched
 *   aop      non-fetching ADD, AND, OR, XOR, MIN, MAX (signed), LAND, LOR,
 *            LXOR on words of every rank; final values checked
 *   swap     fetching SWAP: every value seen exactly once (a chain)
 *   cswap    compare-and-swap increment loops, 64 and 32 bit; and a failing
 *            compare must leave the word alone and return its value
 * and checks that btl_ivm_single_copy_operations and
 * btl_ivm_atomic_operations moved on every rank with a peer in another VM.
 * With --heap the target buffers are ordinary process memory, registered
 * with MCA_BTL_REG_FLAG_ACCESS_ANY (which includes REMOTE_ATOMIC): btl/ivm
 * then emulates the operations with request messages that the owner
 * executes (since 391cdc7); the same tests apply, and the counter check
 * asks for ivm messages instead of single copies.  Every put also checks
 * that its local (source) buffer is unchanged.
 *
 * Output: "ivm_btl_rdma: PASS ..." or "ivm_btl_rdma: FAIL ...".
 */
#include "ompi_config.h"

#include <mpi.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ompi/mca/pml/base/base.h"
#include "opal/runtime/opal_progress.h"

#include "ivm_bml.h"
#include "ivm_pvar.h"

#define FADD_K 200
#define CAS_K 30
#define MAXP 64
#define SLOT (128 * 1024) /* put slot per origin */

/* the registered buffer: atomics area, own pattern, put slots */
#define A_FADD64 0 /* uint64 */
#define A_FADD32 8 /* uint32, guard uint32 at 12 */
#define A_ADD 16
#define A_AND 24
#define A_OR 32
#define A_XOR 40
#define A_MIN 48
#define A_MAX 56
#define A_LAND 64
#define A_LOR 72
#define A_LXOR 80
#define A_SWAP 88
#define A_CAS64 96
#define A_CAS32 104 /* uint32, guard at 108 */
#define A_CASF 112  /* failing compare */
#define A_END 4096
#define PAT_OFF A_END            /* SLOT bytes of the owner's pattern */
#define PUT_OFF (PAT_OFF + SLOT) /* SLOT bytes per origin */

static ivm_place_t P;
static int rank, nprocs;
static int heap_mode; /* --heap: the target buffers are ordinary process memory */
static long errors;
static const char *test = "";

static void err(const char *fmt, ...)
{
    va_list ap;
    if (++errors > 12) {
        return;
    }
    fprintf(stderr, "ERROR rank %d (%s) test %s: ", rank, P.host, test);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static uint8_t pat(int owner, int tag, size_t i)
{
    uint64_t x = ((uint64_t) owner << 40) ^ ((uint64_t) tag << 32) ^ i;
    x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9ULL;
    return (uint8_t) (x >> 32);
}

/* per peer: the ivm module and endpoint, the peer's handle and base */
typedef struct {
    mca_btl_base_module_t *btl;
    struct mca_btl_base_endpoint_t *ep;
    mca_btl_base_registration_handle_t *handle;
    uint64_t base;
} peer_t;

static peer_t peers[MAXP];
static volatile int pending;

static void done_cb(struct mca_btl_base_module_t *module, struct mca_btl_base_endpoint_t *ep,
                    void *local, struct mca_btl_base_registration_handle_t *lh, void *ctx,
                    void *cbdata, int status)
{
    (void) module;
    (void) ep;
    (void) local;
    (void) lh;
    (void) cbdata;
    if (OPAL_SUCCESS != status) {
        err("completion status %d (context %p)", status, ctx);
    }
    pending--;
}

static void wait_all(void)
{
    while (pending > 0) {
        opal_progress();
    }
}

/* the ivm module and endpoint ob1's BML holds for world rank @peer */
static int find_ivm(int peer, peer_t *out)
{
    return ivm_bml_find(peer, &out->btl, &out->ep);
}

/* retry while the BTL is out of resources */
#define ISSUE(call)                                          \
    do {                                                     \
        int rc_;                                             \
        pending++;                                           \
        while (OPAL_ERR_OUT_OF_RESOURCE == (rc_ = (call))) { \
            opal_progress();                                 \
        }                                                    \
        if (OPAL_SUCCESS != rc_) {                           \
            pending--;                                       \
            err("%s returned %d", #call, rc_);               \
        }                                                    \
    } while (0)

static int reachable(int p)
{
    return p != rank && NULL != peers[p].btl;
}

/* ---- the target buffer, its registration, and who reaches whom ---- */

static const size_t sizes[] = {1, 7, 4097, 65539};
static uint8_t *buf; /* our target buffer (len bytes), registered as h */
static size_t len;
static mca_btl_base_module_t *btl; /* our ivm module (the same for every peer) */
static mca_btl_base_registration_handle_t *h;
static size_t hsize;      /* bytes of a registration handle */
static int *who;          /* who[p]: rank p reaches us through ivm (works on our buffer) */
static uint8_t *local;    /* get destination */
static uint64_t *fetched; /* fetch-and-add results, FADD_K per target */
static ivm_pv_t c0;       /* counters before the first case */

static struct {
    uint64_t base;
    uint8_t handle[256];
} mine, *all;

/* --heap, or an unknown argument (abort) */
static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (0 == strcmp(argv[i], "--heap")) {
            heap_mode = 1;
        } else {
            fprintf(stderr, "ivm_btl_rdma: unknown argument %s\n", argv[i]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
}

/* 2..MAXP ranks, pml ob1, btl/ivm's MPI_T variables; false (and the FAIL
 * line) otherwise */
static bool prerequisites(void)
{
    if (nprocs < 2 || nprocs > MAXP) {
        if (0 == rank) printf("ivm_btl_rdma: FAIL needs 2..%d ranks\n", MAXP);
        return false;
    }
    int pv = ivm_pvar_init(), pv_all;
    MPI_Allreduce(&pv, &pv_all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (0 != pv_all
        || 0 != strcmp(mca_pml_base_selected_component.pmlm_version.mca_component_name, "ob1")) {
        if (0 == rank) printf("ivm_btl_rdma: FAIL needs pml ob1 and btl/ivm\n");
        return false;
    }
    return true;
}

/* peers[]: the ivm module and endpoint for every rank ob1 reaches through
 * ivm; btl: the first of them */
static void find_peers(void)
{
    int cross_missing = 0;
    for (int p = 0; p < nprocs; p++) {
        memset(&peers[p], 0, sizeof(peers[p]));
        if (p != rank && find_ivm(p, &peers[p]) < 0 && ivm_cross(&P, rank, p)) {
            cross_missing++;
        }
    }
    if (cross_missing) {
        err("%d ranks in other VMs have no ivm module among their RDMA BTLs", cross_missing);
    }
    for (int p = 0; p < nprocs && NULL == btl; p++) {
        btl = peers[p].btl;
    }
}

/* The target buffer: MPI_Alloc_mem(mpool_hints=ivm), or heap with --heap */
static void alloc_target(void)
{
    MPI_Info info;
    len = PUT_OFF + (size_t) nprocs * SLOT;
    if (heap_mode) {
        void *m = NULL;
        if (0 != posix_memalign(&m, 4096, len)) {
            err("out of memory");
        }
        buf = m;
    } else {
        MPI_Info_create(&info);
        MPI_Info_set(info, "mpool_hints", "ivm");
        if (MPI_SUCCESS != MPI_Alloc_mem((MPI_Aint) len, info, &buf)) {
            err("MPI_Alloc_mem(%zu, mpool_hints=ivm) failed", len);
        }
        MPI_Info_free(&info);
    }
}

/* Initial contents: zero, our pattern, and the atomics' starting values */
static void fill_target(void)
{
    memset(buf, 0, len);
    for (size_t i = 0; i < SLOT; i++) {
        buf[PAT_OFF + i] = pat(rank, 1, i);
    }
    uint64_t *w = (uint64_t *) buf;
    w[A_AND / 8] = ~0ULL;
    w[A_MIN / 8] = (uint64_t) INT64_MAX;
    w[A_MAX / 8] = (uint64_t) INT64_MIN;
    w[A_LAND / 8] = 1;
    ((uint32_t *) buf)[A_FADD32 / 4 + 1] = 0xdeadbeef;
    ((uint32_t *) buf)[A_CAS32 / 4 + 1] = 0xfeedface;
    w[A_CASF / 8] = 777;
}

/* Register the target buffer (h, published in mine); report whether other
 * heap memory is accepted too */
static void register_target(void)
{
    h = btl->btl_register_mem(btl, MCA_BTL_ENDPOINT_ANY, buf, len, MCA_BTL_REG_FLAG_ACCESS_ANY);
    if (NULL == h && heap_mode) {
        err("btl_register_mem refused heap memory for remote access (flags ACCESS_ANY): "
            "this btl/ivm has no emulated RMA");
    } else if (NULL == h) {
        err("btl_register_mem refused MPI_Alloc_mem(mpool_hints=ivm) memory (a job "
            "partition too small for %zu bytes per rank makes MPI_Alloc_mem fall back to "
            "the heap silently)",
            len);
    } else {
        memcpy(mine.handle, h, hsize);
        mine.base = (uint64_t) (uintptr_t) buf;
    }
    /* heap memory: btl/ivm is expected to refuse it (reported only) */
    void *heap = malloc(4096);
    mca_btl_base_registration_handle_t *hheap =
        btl->btl_register_mem(btl, MCA_BTL_ENDPOINT_ANY, heap, 4096, MCA_BTL_REG_FLAG_ACCESS_ANY);
    if (0 == rank) {
        printf("btl_register_mem(ACCESS_ANY): %s memory %s, other heap memory %s\n",
               heap_mode ? "target (heap)" : "MPI_Alloc_mem(ivm)",
               NULL != h ? "accepted" : "REFUSED", NULL != hheap ? "accepted" : "refused");
    }
    if (NULL != hheap) {
        btl->btl_deregister_mem(btl, hheap);
    }
    free(heap);
}

/* Every rank's handle and base to every rank; false (and the FAIL line)
 * when any rank failed so far */
static bool exchange_handles(void)
{
    MPI_Allgather(&mine, sizeof(mine), MPI_BYTE, all, sizeof(mine), MPI_BYTE, MPI_COMM_WORLD);
    long e0;
    MPI_Allreduce(&errors, &e0, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (e0) {
        if (0 == rank) printf("ivm_btl_rdma: FAIL setup (%ld errors)\n", e0);
        return false;
    }
    for (int p = 0; p < nprocs; p++) {
        if (reachable(p)) {
            peers[p].handle = malloc(hsize);
            memcpy(peers[p].handle, all[p].handle, hsize);
            peers[p].base = all[p].base;
        }
    }
    return true;
}

/* Registration and handle exchange; false when the cases cannot run */
static bool setup(void)
{
    test = "register";
    find_peers();
    alloc_target();
    size_t hmax;
    hsize = NULL != btl ? btl->btl_registration_handle_size : 0;
    MPI_Allreduce(&hsize, &hmax, 1, MPI_UNSIGNED_LONG, MPI_MAX, MPI_COMM_WORLD);
    all = calloc((size_t) nprocs, sizeof(mine));
    memset(&mine, 0, sizeof(mine));
    if (hmax > sizeof(mine.handle)) {
        err("registration handle of %zu bytes", hmax);
        hmax = 0;
    }
    if (NULL != btl && NULL != buf) {
        fill_target();
        register_target();
    }
    return exchange_handles();
}

/* Print who ivm reaches, learn who reaches us, read the counters */
static void prepare_cases(void)
{
    if (0 == rank) {
        printf("ivm_btl_rdma: %d ranks in %d VMs; ivm reaches:", nprocs, P.nvms);
        for (int p = 1; p < nprocs; p++) {
            printf(" %d%s", p, reachable(p) ? "" : "(no)");
        }
        printf("\n");
        fflush(stdout);
    }
    who = calloc(MAXP, sizeof(int));
    int *mine_r = malloc(sizeof(int) * (size_t) nprocs);
    for (int p = 0; p < nprocs; p++) {
        mine_r[p] = reachable(p);
    }
    MPI_Alltoall(mine_r, 1, MPI_INT, who, 1, MPI_INT, MPI_COMM_WORLD);
    free(mine_r);
    MPI_Barrier(MPI_COMM_WORLD);
    ivm_pvar_read(&c0);
    local = malloc(SLOT);
    fetched = malloc(sizeof(uint64_t) * (size_t) nprocs * FADD_K);
}

/* ---- put ---- */

/* the four sizes into our slot of @p's buffer; the sources stay unchanged */
static void put_to(int p)
{
    size_t at = 0;
    for (size_t s = 0; s < 4; s++) {
        uint8_t *src = malloc(sizes[s]);
        for (size_t i = 0; i < sizes[s]; i++) {
            src[i] = pat(rank, 100 + p, at + i);
        }
        ISSUE(peers[p].btl->btl_put(
            peers[p].btl, peers[p].ep, src, peers[p].base + PUT_OFF + (uint64_t) rank * SLOT + at,
            NULL, peers[p].handle, sizes[s], 0, MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
        wait_all();
        /* a put only reads its local buffer */
        for (size_t i = 0; i < sizes[s]; i++) {
            if (src[i] != pat(rank, 100 + p, at + i)) {
                err("put of %zu bytes to rank %d changed its local (source) buffer at byte "
                    "%zu: 0x%02x, was 0x%02x",
                    sizes[s], p, i, src[i], pat(rank, 100 + p, at + i));
                break;
            }
        }
        free(src);
        at += sizes[s];
    }
}

/* what rank @p put into its slot of our buffer, and nothing past it */
static void check_put_from(int p)
{
    size_t n = 0;
    for (size_t s = 0; s < 4; s++) {
        n += sizes[s];
    }
    const uint8_t *slot = buf + PUT_OFF + (size_t) p * SLOT;
    for (size_t i = 0; i < n; i++) {
        if (slot[i] != pat(p, 100 + rank, i)) {
            err("byte %zu put by rank %d is wrong", i, p);
            break;
        }
    }
    if (slot[n] != 0) {
        err("rank %d's put wrote past its end", p);
    }
}

static void t_put(void)
{
    for (int p = 0; p < nprocs; p++) {
        if (reachable(p)) {
            put_to(p);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    for (int p = 0; p < nprocs; p++) {
        if (who[p]) {
            check_put_from(p);
        }
    }
}

/* ---- get ---- */

static void t_get(void)
{
    for (int p = 0; p < nprocs; p++) {
        if (!reachable(p)) {
            continue;
        }
        for (size_t s = 0; s < 4; s++) {
            size_t off = s * 13; /* different alignments */
            memset(local, 0, sizes[s] + 1);
            ISSUE(peers[p].btl->btl_get(peers[p].btl, peers[p].ep, local,
                                        peers[p].base + PAT_OFF + off, NULL, peers[p].handle,
                                        sizes[s], 0, MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
            wait_all();
            for (size_t i = 0; i < sizes[s]; i++) {
                if (local[i] != pat(p, 1, off + i)) {
                    err("get of %zu bytes from rank %d: byte %zu wrong", sizes[s], p, i);
                    break;
                }
            }
            if (local[sizes[s]] != 0) {
                err("get of %zu bytes from rank %d wrote past its end", sizes[s], p);
            }
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* ---- fetch-and-add, 64 and 32 bit ---- */

/* FADD_K fetch-and-adds of 1 on every reachable rank's counter; the
 * fetched values go to fetched[] */
static void fadd_issue(int bits)
{
    int flags = 32 == bits ? MCA_BTL_ATOMIC_FLAG_32BIT : 0;
    uint64_t off = 32 == bits ? A_FADD32 : A_FADD64;
    for (int k = 0; k < FADD_K; k++) {
        for (int j = 0; j < nprocs; j++) {
            int p = (rank + j) % nprocs;
            uint64_t res = 0;
            if (!reachable(p)) {
                continue;
            }
            ISSUE(peers[p].btl->btl_atomic_fop(peers[p].btl, peers[p].ep, &res, peers[p].base + off,
                                               NULL, peers[p].handle, MCA_BTL_ATOMIC_ADD, 1, flags,
                                               MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
            wait_all();
            fetched[(size_t) p * FADD_K + k] = 32 == bits ? (uint32_t) res : res;
            if (32 == bits && (res >> 32) != 0) {
                err("32-bit fetch wrote the upper half of the result");
            }
        }
    }
}

/* The values fetched from our counter (@got, FADD_K per origin) are
 * 0..n-1, each once; returns n */
static long fadd_check_fetched(const uint64_t *got)
{
    long n = 0;
    for (int p = 0; p < nprocs; p++) {
        n += who[p] ? FADD_K : 0;
    }
    char *seen = calloc((size_t) n + 1, 1);
    for (int p = 0; p < nprocs; p++) {
        for (int k = 0; who[p] && k < FADD_K; k++) {
            uint64_t v = got[(size_t) p * FADD_K + k];
            if (v >= (uint64_t) n || seen[v]) {
                err("rank %d fetched %llu from my counter: %s", p, (unsigned long long) v,
                    v >= (uint64_t) n ? "out of range" : "seen twice");
                break;
            }
            seen[v] = 1;
        }
    }
    free(seen);
    return n;
}

static void fadd(int bits)
{
    fadd_issue(bits);
    /* every target checks the values fetched from it */
    uint64_t *got = malloc(sizeof(uint64_t) * (size_t) nprocs * FADD_K);
    for (int t = 0; t < nprocs; t++) {
        MPI_Gather(&fetched[(size_t) t * FADD_K], FADD_K, MPI_UINT64_T, got, FADD_K, MPI_UINT64_T,
                   t, MPI_COMM_WORLD);
    }
    long n = fadd_check_fetched(got);
    MPI_Barrier(MPI_COMM_WORLD);
    if (64 == bits && ((uint64_t *) buf)[A_FADD64 / 8] != (uint64_t) n) {
        err("64-bit counter %llu, expected %ld", (unsigned long long) ((uint64_t *) buf)[0], n);
    }
    if (32 == bits) {
        uint32_t *u = (uint32_t *) buf;
        if (u[A_FADD32 / 4] != (uint32_t) n || u[A_FADD32 / 4 + 1] != 0xdeadbeef) {
            err("32-bit counter %u (expected %ld), neighbour 0x%x (expected 0xdeadbeef)",
                u[A_FADD32 / 4], n, u[A_FADD32 / 4 + 1]);
        }
    }
    free(got);
}

static void t_fadd64(void)
{
    fadd(64);
}

static void t_fadd32(void)
{
    fadd(32);
}

/* ---- non-fetching operations ---- */

static const struct {
    int off;
    mca_btl_base_atomic_op_t op;
} aops[] = {
    {A_ADD, MCA_BTL_ATOMIC_ADD},   {A_AND, MCA_BTL_ATOMIC_AND}, {A_OR, MCA_BTL_ATOMIC_OR},
    {A_XOR, MCA_BTL_ATOMIC_XOR},   {A_MIN, MCA_BTL_ATOMIC_MIN}, {A_MAX, MCA_BTL_ATOMIC_MAX},
    {A_LAND, MCA_BTL_ATOMIC_LAND}, {A_LOR, MCA_BTL_ATOMIC_LOR}, {A_LXOR, MCA_BTL_ATOMIC_LXOR}};

/* what rank @r applies with @op */
static uint64_t aop_operand(mca_btl_base_atomic_op_t op, int r)
{
    switch (op) {
    case MCA_BTL_ATOMIC_ADD: return (uint64_t) r + 1000;
    case MCA_BTL_ATOMIC_AND: return ~(1ULL << r);
    case MCA_BTL_ATOMIC_OR: return 1ULL << (r + 8);
    case MCA_BTL_ATOMIC_XOR: return 0x9e3779b97f4a7c15ULL * (uint64_t) (r + 1);
    case MCA_BTL_ATOMIC_MIN: return (uint64_t) (int64_t) (-100 - r);
    case MCA_BTL_ATOMIC_MAX: return (uint64_t) (int64_t) (-100 - r);
    case MCA_BTL_ATOMIC_LAND: return 5; /* true stays true */
    case MCA_BTL_ATOMIC_LOR: return 0 == r ? 7 : 0;
    default: return 3; /* LXOR: toggles */
    }
}

/* our words after every rank that reaches us applied its operands */
static void aop_check(void)
{
    uint64_t *w = (uint64_t *) buf, add = 0, and_ = ~0ULL, or_ = 0, xor_ = 0, lor = 0, lxor = 0;
    int64_t mn = INT64_MAX, mx = INT64_MIN;
    int cnt = 0;
    for (int p = 0; p < nprocs; p++) {
        if (!who[p]) {
            continue;
        }
        cnt++;
        add += (uint64_t) p + 1000;
        and_ &= ~(1ULL << p);
        or_ |= 1ULL << (p + 8);
        xor_ ^= 0x9e3779b97f4a7c15ULL * (uint64_t) (p + 1);
        mn = mn < -100 - p ? mn : -100 - p;
        mx = mx > -100 - p ? mx : -100 - p;
        lor = lor || (0 == p);
        lxor = lxor != 1; /* every LXOR with a true operand toggles */
    }
    if (0 == cnt) {
        return;
    }
    if (w[A_ADD / 8] != add || w[A_AND / 8] != and_ || w[A_OR / 8] != or_ || w[A_XOR / 8] != xor_) {
        err("ADD/AND/OR/XOR: %llx %llx %llx %llx, expected %llx %llx %llx %llx",
            (unsigned long long) w[A_ADD / 8], (unsigned long long) w[A_AND / 8],
            (unsigned long long) w[A_OR / 8], (unsigned long long) w[A_XOR / 8],
            (unsigned long long) add, (unsigned long long) and_, (unsigned long long) or_,
            (unsigned long long) xor_);
    }
    if ((int64_t) w[A_MIN / 8] != mn || (int64_t) w[A_MAX / 8] != mx) {
        err("MIN/MAX (signed): %lld %lld, expected %lld %lld", (long long) w[A_MIN / 8],
            (long long) w[A_MAX / 8], (long long) mn, (long long) mx);
    }
    if (w[A_LAND / 8] != 1 || w[A_LOR / 8] != lor || w[A_LXOR / 8] != lxor) {
        err("LAND/LOR/LXOR: %llu %llu %llu, expected 1 %llu %llu",
            (unsigned long long) w[A_LAND / 8], (unsigned long long) w[A_LOR / 8],
            (unsigned long long) w[A_LXOR / 8], (unsigned long long) lor,
            (unsigned long long) lxor);
    }
}

static void t_aop(void)
{
    for (int p = 0; p < nprocs; p++) {
        if (!reachable(p)) {
            continue;
        }
        for (size_t o = 0; o < sizeof(aops) / sizeof(aops[0]); o++) {
            ISSUE(peers[p].btl->btl_atomic_op(
                peers[p].btl, peers[p].ep, peers[p].base + (uint64_t) aops[o].off, peers[p].handle,
                aops[o].op, aop_operand(aops[o].op, rank), 0, MCA_BTL_NO_ORDER, done_cb, NULL,
                NULL));
            wait_all();
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    aop_check();
}

/* ---- swap: a chain, every value seen exactly once ---- */

/* The previous values fetched from our word (@got, 20 per origin) and its
 * final value: {prev values} + {final} == {0} + {all swapped-in} */
static void swap_check(const uint64_t *got, uint64_t final)
{
    long nvals = 0, zero = 0, bad = 0;
    for (int p = 0; p < nprocs; p++) {
        for (int k = 0; who[p] && k < 20; k++) {
            uint64_t v = got[(size_t) p * 20 + k];
            nvals++;
            if (0 == v) {
                zero++;
                continue;
            }
            int o = (int) (v >> 20) - 1, kk = (int) (v & 0xfffff);
            if (o < 0 || o >= nprocs || !who[o] || kk >= 20 || v == final) {
                bad++;
            }
        }
    }
    if (nvals > 0 && (1 != zero || bad)) {
        err("fetching SWAP returned the initial value %ld times (expected once) and %ld "
            "impossible values",
            zero, bad);
    }
}

/* every origin swaps its own tag (rank+1)<<20 | k into the word and gets
 * the previous one; over all origins the previous values are 0 (the
 * initial) plus every value swapped in but the last */
static void t_swap(void)
{
    uint64_t *prev = malloc(sizeof(uint64_t) * (size_t) nprocs * 20);
    for (int k = 0; k < 20; k++) {
        for (int p = 0; p < nprocs; p++) {
            uint64_t res = 0;
            prev[(size_t) p * 20 + k] = UINT64_MAX;
            if (!reachable(p)) {
                continue;
            }
            ISSUE(peers[p].btl->btl_atomic_fop(
                peers[p].btl, peers[p].ep, &res, peers[p].base + A_SWAP, NULL, peers[p].handle,
                MCA_BTL_ATOMIC_SWAP, ((uint64_t) rank + 1) << 20 | (uint64_t) k, 0,
                MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
            wait_all();
            prev[(size_t) p * 20 + k] = res;
        }
    }
    uint64_t *got = malloc(sizeof(uint64_t) * (size_t) nprocs * 20);
    for (int t = 0; t < nprocs; t++) {
        MPI_Gather(&prev[(size_t) t * 20], 20, MPI_UINT64_T, got, 20, MPI_UINT64_T, t,
                   MPI_COMM_WORLD);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    swap_check(got, ((uint64_t *) buf)[A_SWAP / 8]);
    free(prev);
    free(got);
}

/* ---- compare-and-swap ---- */

/* one increment of @p's counter at @off by a compare-and-swap loop */
static void cswap_increment(int p, uint64_t off, int flags)
{
    uint64_t cur = 0, res;
    for (int tries = 0;; tries++) {
        res = 0;
        ISSUE(peers[p].btl->btl_atomic_cswap(peers[p].btl, peers[p].ep, &res, peers[p].base + off,
                                             NULL, peers[p].handle, cur, cur + 1, flags,
                                             MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
        wait_all();
        if (res == cur || tries > 100000) {
            break;
        }
        cur = res;
    }
    if (res != cur) {
        err("compare-and-swap on rank %d never succeeded", p);
    }
}

static void cswap_counter(int bits)
{
    int flags = 32 == bits ? MCA_BTL_ATOMIC_FLAG_32BIT : 0;
    uint64_t off = 32 == bits ? A_CAS32 : A_CAS64;
    for (int k = 0; k < CAS_K; k++) {
        for (int j = 0; j < nprocs; j++) {
            int p = (rank + j) % nprocs;
            if (reachable(p)) {
                cswap_increment(p, off, flags);
            }
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    long n = 0;
    for (int p = 0; p < nprocs; p++) {
        n += who[p] ? CAS_K : 0;
    }
    if (64 == bits && ((uint64_t *) buf)[A_CAS64 / 8] != (uint64_t) n) {
        err("64-bit CAS counter %llu, expected %ld",
            (unsigned long long) ((uint64_t *) buf)[A_CAS64 / 8], n);
    }
    if (32 == bits) {
        uint32_t *u = (uint32_t *) buf;
        if (u[A_CAS32 / 4] != (uint32_t) n || u[A_CAS32 / 4 + 1] != 0xfeedface) {
            err("32-bit CAS counter %u (expected %ld), neighbour 0x%x (expected 0xfeedface)",
                u[A_CAS32 / 4], n, u[A_CAS32 / 4 + 1]);
        }
    }
}

/* a failing compare: the word holds 777 */
static void cswap_failing(void)
{
    for (int p = 0; p < nprocs; p++) {
        uint64_t res = 0;
        if (!reachable(p)) {
            continue;
        }
        ISSUE(peers[p].btl->btl_atomic_cswap(peers[p].btl, peers[p].ep, &res,
                                             peers[p].base + A_CASF, NULL, peers[p].handle, 778, 1,
                                             0, MCA_BTL_NO_ORDER, done_cb, NULL, NULL));
        wait_all();
        if (777 != res) {
            err("failing compare-and-swap on rank %d returned %llu, expected 777", p,
                (unsigned long long) res);
        }
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (((uint64_t *) buf)[A_CASF / 8] != 777) {
        err("a failing compare-and-swap changed the word to %llu",
            (unsigned long long) ((uint64_t *) buf)[A_CASF / 8]);
    }
}

static void t_cswap(void)
{
    cswap_counter(64);
    cswap_counter(32);
    cswap_failing();
}

/* ---- counters ---- */

/* rank 0 prints what every rank's counters say it did */
static void print_counters(const ivm_pv_t *d)
{
    unsigned long long *allc = 0 == rank ? malloc(sizeof(d->v) * (size_t) nprocs) : NULL;
    MPI_Gather(d->v, IVM_PV_COUNT, MPI_UNSIGNED_LONG_LONG, allc, IVM_PV_COUNT,
               MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (0 == rank) {
        printf("ivm counters (what each rank did):\n");
        for (int r = 0; r < nprocs; r++) {
            ivm_pv_t x;
            char line[256];
            memcpy(x.v, allc + (size_t) r * IVM_PV_COUNT, sizeof(x.v));
            ivm_pv_format(&x, line, sizeof(line));
            printf("  rank %d vm#%d: %s\n", r, P.vm[r], line);
        }
        free(allc);
    }
}

static void t_counters(void)
{
    ivm_pv_t c1;
    ivm_pvar_read(&c1);
    ivm_pv_t d = ivm_pv_diff(&c1, &c0);
    int has_cross = 0;
    for (int p = 0; p < nprocs; p++) {
        has_cross |= reachable(p) && ivm_cross(&P, rank, p);
    }
    if (has_cross && !heap_mode && (0 == d.v[IVM_PV_SC_OPS] || 0 == d.v[IVM_PV_ATOMIC_OPS])) {
        err("single-copy operations %llu, atomic operations %llu: expected both > 0",
            d.v[IVM_PV_SC_OPS], d.v[IVM_PV_ATOMIC_OPS]);
    }
    /* on heap memory every operation is a request message through ivm */
    if (has_cross && heap_mode && 0 == ivm_pv_sends(&d)) {
        err("operations on heap memory of other VMs sent no messages through ivm");
    }
    if (has_cross && heap_mode && ivm_pv_have[IVM_PV_EMU_OPS] && 0 == d.v[IVM_PV_EMU_OPS]) {
        err("operations on heap memory of other VMs, but btl_ivm_emulated_operations did not "
            "move");
    }
    print_counters(&d);
}

/* ---- driver ---- */

static const struct {
    const char *name;
    void (*run)(void);
} cases[] = {
    {"put", t_put}, {"get", t_get},   {"fadd64", t_fadd64}, {"fadd32", t_fadd32},
    {"aop", t_aop}, {"swap", t_swap}, {"cswap", t_cswap},   {"counters", t_counters},
};

/* Every case in order on every rank; rank 0 prints each one's result.
 * @failed collects the names of failed cases (for the FAIL line). */
static void run_cases(char *failed, size_t size)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        long before = errors, mine_e, sum;
        test = cases[i].name;
        cases[i].run();
        mine_e = errors - before;
        MPI_Allreduce(&mine_e, &sum, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
        if (0 == rank) {
            if (sum) {
                printf("case %s: FAIL (%ld errors)\n", cases[i].name, sum);
                snprintf(failed + strlen(failed), size - strlen(failed), "%s%s",
                         failed[0] ? "," : " failed=", cases[i].name);
            } else {
                printf("case %s: ok\n", cases[i].name);
            }
            fflush(stdout);
        }
    }
}

static void cleanup(void)
{
    if (NULL != h) {
        btl->btl_deregister_mem(btl, h);
    }
    for (int p = 0; p < nprocs; p++) {
        free(peers[p].handle);
    }
    free(local);
    free(fetched);
    free(who);
    free(all);
    if (heap_mode) {
        free(buf);
    } else {
        MPI_Free_mem(buf);
    }
    ivm_pvar_fini();
}

/* Usage: ivm_btl_rdma [--heap] */
int main(int argc, char **argv)
{
    long total_errors = 0;
    char failed[256] = "";

    MPI_Init(&argc, &argv);
    parse_args(argc, argv);
    ivm_place_init(&P);
    rank = P.rank;
    nprocs = P.size;
    if (!prerequisites() || !setup()) {
        MPI_Finalize();
        return 1;
    }
    prepare_cases();
    run_cases(failed, sizeof(failed));

    MPI_Allreduce(&errors, &total_errors, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    if (0 == rank) {
        if (total_errors) {
            printf("ivm_btl_rdma: FAIL np=%d vms=%d%s errors=%ld%s\n", nprocs, P.nvms,
                   heap_mode ? " heap" : "", total_errors, failed);
        } else {
            printf("ivm_btl_rdma: PASS np=%d vms=%d%s\n", nprocs, P.nvms,
                   heap_mode ? " heap (emulated RMA)" : "");
        }
        fflush(stdout);
    }
    cleanup();
    MPI_Finalize();
    return total_errors ? 1 : 0;
}
