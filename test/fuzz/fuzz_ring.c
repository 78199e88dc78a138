/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "ring": receive rings and fast boxes (common_ivm_ring.h,
 * common_ivm_ring.c) whose headers and cells a peer writes.
 *
 * A ring or fast box is laid out in a job partition exactly as
 * ivm_ring_create / ivm_fbox_create lay it out; then the fuzzer drives a
 * sequence of operations of the producer (push / reserve+commit, which
 * read the consumer's head), the consumer (pop / peek+consume, which read
 * the producers' cells and headers), raw overwrites of any byte of the
 * object or the partition, and re-attaches.  Every byte of the region
 * outside the job partition is poisoned (ASan), so neither side may step
 * out of the partition whatever the shared bytes say.  As long as nothing
 * was overwritten behind the protocol's back, the consumer must receive
 * exactly what the producer sent, in order (a model queue checks it), and
 * a fast-box message must never read as corrupt.
 *
 * Input:
 *   u8 mode       bit 0: fast box (else ring); bits 1-3: partition size
 *   u8 geometry   ring: log2 capacity (0..10); fast box: log2 size - 8 (0..7)
 *   u16 place     object offset in the partition, in cache lines
 *   u8 flags      F_* below
 *   [u32 raw capacity/size if F_RAW_GEOM] [u64 raw head if F_RAW_HEAD]
 *   [u8 misalignment if F_MISALIGN]
 *   operations... (see ring_op / fbox_op) */

#include "fuzz_common.h"

#include "common_ivm_ring.h"

enum {
    F_MISALIGN = 0x01, /* object not on a cache line */
    F_BAD_MAGIC = 0x02,
    F_RAW_GEOM = 0x04, /* capacity / size field from the input */
    F_RAW_HEAD = 0x08, /* shared head from the input */
    F_TIGHT = 0x10     /* partition ends right behind the object */
};

#define REG_SIZE (2u * 1024u * 1024u)
#define MAX_OPS 512
#define MODEL_MAX 4096

static uint8_t *base;
static ivm_region_t region;
/* objects are built here, then copied into place */
static _Alignas(64) uint8_t scratch[sizeof(struct ivm_ring) + (1u << 10) * 16 + (1u << 15)];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    base = fz_region_anon(&region, REG_SIZE, "fuzz-ring");
    return 0;
}

/* the model: what the producer got accepted, in order */
static struct {
    uint64_t v[MODEL_MAX];
    uint32_t len[MODEL_MAX];
    uint8_t tag[MODEL_MAX];
    uint32_t head, tail;
} q;

static void q_reset(void)
{
    q.head = q.tail = 0;
}

static bool q_full(void)
{
    return q.tail - q.head >= MODEL_MAX;
}

/* Overwrite bytes of [lo, hi) at an input-chosen place. */
static void patch(fz_t *f, uint64_t lo, uint64_t hi)
{
    uint64_t at = lo + fz_u16(f) % (hi - lo);
    size_t len = (size_t) (fz_u8(f) % 16) + 1;
    if (len > hi - at) {
        len = hi - at;
    }
    fz_bytes(f, base + at, len);
}

/* A ring under test: both ends, where it lies, and whether the model may
 * still judge it. */
typedef struct {
    ivm_ring_handle_t cons, prod;
    uint64_t lo, hi, off, bytes;
    bool clean; /* nothing written behind the protocol's back */
} ring_run_t;

/* Lays the ring out as ivm_ring_create does, where it fits, with the
 * input's raw capacity and head; returns whether it is clean. */
static bool ring_build(fz_t *f, uint64_t hi, uint64_t off, uint32_t cap, uint8_t flags)
{
    uint64_t bytes = sizeof(struct ivm_ring) + (uint64_t) cap * sizeof(struct ivm_ring_cell);
    uint32_t raw_cap = (flags & F_RAW_GEOM) ? fz_u32(f) : cap;
    uint64_t raw_head = (flags & F_RAW_HEAD) ? fz_u64(f) : 0;
    bool clean = !(flags & (F_BAD_MAGIC | F_RAW_GEOM | F_RAW_HEAD));

    if (off + bytes > hi) {
        return false;
    }
    /* built aligned, then copied: the offset may be misaligned */
    struct ivm_ring *ring = (struct ivm_ring *) scratch;
    memset(ring, 0, sizeof(*ring));
    ring->magic = (flags & F_BAD_MAGIC) ? IVM_RING_MAGIC ^ 1 : IVM_RING_MAGIC;
    ring->capacity = raw_cap;
    ring->owner_slot = 3;
    atomic_store(&ring->head, raw_head);
    for (uint32_t i = 0; i < cap; i++) {
        atomic_store(&ring->cells[i].seq, i);
        atomic_store(&ring->cells[i].value, 0);
    }
    memcpy(base + off, scratch, bytes);
    return clean;
}

/* The producer pushes: while clean, refused exactly when the ring is
 * full. */
static void ring_produce(fz_t *f, ring_run_t *x)
{
    uint64_t v = fz_u64(f) & ~(uint64_t) 1;
    int rc = ivm_ring_push(&x->prod, v);
    if (x->clean) {
        bool full = q.tail - q.head >= x->cons.mask + 1;
        FZ_CHECK((IVM_OK == rc) == !full, "push returned %d with %u of %llu cells used", rc,
                 q.tail - q.head, (unsigned long long) x->cons.mask + 1);
    }
    if (IVM_OK == rc && !q_full()) {
        q.v[q.tail++ % MODEL_MAX] = v;
    }
}

/* The consumer pops: while clean, exactly what was pushed, in order. */
static void ring_consume(fz_t *f, ring_run_t *x)
{
    uint64_t v;
    unsigned k = fz_u8(f);
    for (unsigned i = 0; i < k && ivm_ring_pop(&x->cons, &v); i++) {
        if (x->clean) {
            FZ_CHECK(q.head != q.tail, "popped %llu from an empty ring", (unsigned long long) v);
            FZ_CHECK(q.v[q.head % MODEL_MAX] == v, "popped %llu, pushed %llu",
                     (unsigned long long) v, (unsigned long long) q.v[q.head % MODEL_MAX]);
            q.head++;
        }
    }
    if (x->clean) {
        FZ_CHECK(ivm_ring_empty(&x->cons) == (q.head == q.tail), "empty() disagrees");
    }
}

/* One operation on the ring; false: a re-attach refused it (done). */
static bool ring_op(fz_t *f, ring_run_t *x)
{
    switch (fz_u8(f) % 6) {
    case 0: ring_produce(f, x); break;
    case 1: ring_consume(f, x); break;
    case 2: /* a peer writes into the ring */
        patch(f, x->off, x->off + x->bytes < x->hi ? x->off + x->bytes : x->hi);
        x->clean = false;
        break;
    case 3: /* the consumer starts over (reads the shared head) */
        return IVM_OK == ivm_ring_attach(&region, x->off, x->lo, x->hi, &x->cons);
    case 4: /* a producer of another process attaches */
        return IVM_OK == ivm_ring_attach(&region, x->off, x->lo, x->hi, &x->prod);
    default: /* anywhere in the partition */
        patch(f, x->lo, x->hi);
        x->clean = false;
        break;
    }
    return true;
}

/* A ring laid out at off, attached by both ends, then the input's operations. */
static void run_ring(fz_t *f, uint64_t lo, uint64_t hi, uint64_t off, uint32_t cap, uint8_t flags)
{
    ring_run_t x = {.lo = lo, .hi = hi, .off = off};
    x.bytes = sizeof(struct ivm_ring) + (uint64_t) cap * sizeof(struct ivm_ring_cell);
    x.clean = ring_build(f, hi, off, cap, flags);

    if (IVM_OK != ivm_ring_attach(&region, off, lo, hi, &x.cons)) {
        return;
    }
    FZ_CHECK(ivm_ring_attach(&region, off, lo, hi, &x.prod) == IVM_OK, "second attach differs");
    /* what attach accepted lies in the partition */
    FZ_CHECK(off >= lo && off + sizeof(struct ivm_ring) + (x.cons.mask + 1) * 16 <= hi,
             "ring at %llu, %llu cells, outside [%llu, %llu)", (unsigned long long) off,
             (unsigned long long) x.cons.mask + 1, (unsigned long long) lo,
             (unsigned long long) hi);
    if (x.cons.mask + 1 != cap) {
        x.clean = false;
    }
    q_reset();

    for (int n = 0; n < MAX_OPS && fz_left(f) > 0; n++) {
        if (!ring_op(f, &x)) {
            return;
        }
    }
}

static void fill(uint8_t *p, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        p[i] = (uint8_t) (seed * 131u + i * 7u);
    }
}

static bool filled(const uint8_t *p, uint32_t len, uint32_t seed)
{
    for (uint32_t i = 0; i < len; i++) {
        if (p[i] != (uint8_t) (seed * 131u + i * 7u)) {
            return false;
        }
    }
    return true;
}

/* A fast box under test: both ends, where it lies, the next message's
 * fill pattern, and whether the model may still judge it. */
typedef struct {
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    uint64_t lo, hi, off, bytes;
    const uint8_t *data; /* the box's data area, as first attached */
    uint32_t seed;
    bool clean; /* nothing written behind the protocol's back */
} fbox_run_t;

/* Lays the box out as ivm_fbox_create does, where it fits, with the
 * input's raw size and head; returns whether it is clean. */
static bool fbox_build(fz_t *f, uint64_t hi, uint64_t off, uint32_t size, uint8_t flags)
{
    uint64_t bytes = sizeof(struct ivm_fbox) + size;
    uint32_t raw_size = (flags & F_RAW_GEOM) ? fz_u32(f) : size;
    uint64_t raw_head = (flags & F_RAW_HEAD) ? fz_u64(f) : 0;
    bool clean = !(flags & (F_BAD_MAGIC | F_RAW_GEOM | F_RAW_HEAD));

    if (off + bytes > hi) {
        return false;
    }
    struct ivm_fbox *fb = (struct ivm_fbox *) scratch;
    memset(fb, 0, bytes);
    fb->magic = (flags & F_BAD_MAGIC) ? IVM_FBOX_MAGIC ^ 1 : IVM_FBOX_MAGIC;
    fb->size = raw_size;
    fb->sender_slot = 1;
    atomic_store(&fb->head, raw_head);
    memcpy(base + off, scratch, bytes);
    return clean;
}

/* The sender sends one message: reserve must stay inside the box. */
static void fbox_send(fz_t *f, fbox_run_t *x)
{
    uint32_t len = fz_u16(f) % (uint32_t) (x->tx.size / 2);
    uint8_t tag = fz_u8(f), fl = fz_u8(f) & IVM_FBOX_F_REF;
    uint8_t *p = ivm_fbox_reserve(&x->tx, len);
    if (NULL == p) {
        return;
    }
    FZ_CHECK(p >= x->tx.fb->data + sizeof(uint64_t) && p + len <= x->tx.fb->data + x->tx.size,
             "reserve gave %ld+%u outside a %llu-byte box", (long) (p - x->tx.fb->data), len,
             (unsigned long long) x->tx.size);
    fill(p, len, x->seed);
    ivm_fbox_commit(&x->tx, len, tag, fl);
    if (!q_full()) {
        q.v[q.tail % MODEL_MAX] = x->seed;
        q.len[q.tail % MODEL_MAX] = len;
        q.tag[q.tail++ % MODEL_MAX] = tag;
    }
    x->seed++;
}

/* The receiver takes one message; false: none (or corrupt) to take.
 * Peek must stay inside the box; while clean, the message is the next one
 * sent, never corrupt. */
static bool fbox_receive_one(fbox_run_t *x)
{
    uint64_t hdr;
    const void *payload;
    int rc = ivm_fbox_peek(&x->rx, &hdr, &payload);
    if (IVM_ERR_CORRUPT == rc) {
        FZ_CHECK(!x->clean, "a correct sender's message reads as corrupt");
        return false;
    }
    if (1 != rc) {
        return false;
    }
    uint32_t len = IVM_FBOX_HDR_LEN(hdr);
    const uint8_t *p = payload, *data = x->data;
    FZ_CHECK(p >= data + sizeof(uint64_t) && p <= data + x->rx.size
                 && len <= (uint64_t) (data + x->rx.size - p),
             "peek gave %ld+%u outside a %llu-byte box", (long) (p - data), len,
             (unsigned long long) x->rx.size);
    (void) fz_touch(p, len);
    if (x->clean) {
        FZ_CHECK(q.head != q.tail, "a message nobody sent");
        uint32_t k2 = q.head++ % MODEL_MAX;
        FZ_CHECK(q.len[k2] == len && q.tag[k2] == IVM_FBOX_HDR_TAG(hdr)
                     && filled(p, len, (uint32_t) q.v[k2]),
                 "message %u: got %u bytes tag %u, sent %u bytes tag %u", k2, len,
                 IVM_FBOX_HDR_TAG(hdr), q.len[k2], q.tag[k2]);
    }
    ivm_fbox_consume(&x->rx, hdr);
    return true;
}

/* One operation on the fast box; false: a re-attach refused it (done). */
static bool fbox_op(fz_t *f, fbox_run_t *x)
{
    switch (fz_u8(f) % 6) {
    case 0: fbox_send(f, x); break;
    case 1: { /* receiver */
        unsigned k = fz_u8(f);
        for (unsigned i = 0; i < k; i++) {
            if (!fbox_receive_one(x)) {
                break;
            }
        }
        break;
    }
    case 2: /* a peer writes into the box */
        patch(f, x->off, x->off + x->bytes < x->hi ? x->off + x->bytes : x->hi);
        x->clean = false;
        break;
    case 3: /* the receiver's published head, as the sender reads it */
        atomic_store(&x->tx.fb->head, fz_u64(f));
        x->clean = false;
        break;
    case 4: /* the receiver starts over */
        if (IVM_OK != ivm_fbox_attach_rx(&region, x->off, x->lo, x->hi, &x->rx)) {
            return false;
        }
        x->clean = false;
        break;
    default:
        patch(f, x->lo, x->hi);
        x->clean = false;
        break;
    }
    return true;
}

/* A fast box laid out at off, attached by both ends, then the input's operations. */
static void run_fbox(fz_t *f, uint64_t lo, uint64_t hi, uint64_t off, uint32_t size, uint8_t flags)
{
    fbox_run_t x = {.lo = lo, .hi = hi, .off = off, .seed = 0};
    x.bytes = sizeof(struct ivm_fbox) + size;
    x.clean = fbox_build(f, hi, off, size, flags);

    if (IVM_OK != ivm_fbox_attach_rx(&region, off, lo, hi, &x.rx)) {
        return;
    }
    FZ_CHECK(IVM_OK == ivm_fbox_attach_tx(&region, off, lo, hi, &x.tx), "tx attach differs");
    FZ_CHECK(off >= lo && off + sizeof(struct ivm_fbox) + x.rx.size <= hi,
             "fast box at %llu, %llu bytes, outside [%llu, %llu)", (unsigned long long) off,
             (unsigned long long) x.rx.size, (unsigned long long) lo, (unsigned long long) hi);
    if (x.rx.size != size) {
        x.clean = false;
    }
    x.data = x.rx.fb->data;
    q_reset();

    for (int n = 0; n < MAX_OPS && fz_left(f) > 0; n++) {
        if (!fbox_op(f, &x)) {
            return;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    fz_t f = {d, size};
    const uint8_t mode = fz_u8(&f), geom = fz_u8(&f);
    const uint16_t place = fz_u16(&f);
    const uint8_t flags = fz_u8(&f);
    const uint64_t lo = 4 * IVM_CHUNK_SIZE;
    uint64_t hi = lo + (uint64_t) (1 + ((mode >> 1) & 7)) * IVM_CHUNK_SIZE;
    const bool fbox = mode & 1;
    const uint32_t cap = 1u << (geom % 11);
    const uint32_t fsize = 1u << (8 + geom % 8);
    const uint64_t bytes =
        fbox ? sizeof(struct ivm_fbox) + fsize : sizeof(struct ivm_ring) + (uint64_t) cap * 16;
    uint64_t off = lo + ((uint64_t) place * IVM_CACHELINE) % (hi - lo);
    if (flags & F_MISALIGN) {
        off += 1 + fz_u8(&f) % (IVM_CACHELINE - 1);
    }
    if ((flags & F_TIGHT) && off + bytes > lo && off + bytes < REG_SIZE) {
        hi = off + bytes; /* the object is the last thing in the partition */
    }

    fz_unfence(base, REG_SIZE);
    memset(base + lo, 0xee, hi - lo);
    fz_fence(base, REG_SIZE, lo, hi);
    if (fbox) {
        run_fbox(&f, lo, hi, off, fsize, flags);
    } else {
        run_ring(&f, lo, hi, off, cap, flags);
    }
    return 0;
}
