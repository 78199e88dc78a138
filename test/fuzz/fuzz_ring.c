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
 *   operations... (see run_ring / run_fbox) */

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

static void run_ring(fz_t *f, uint64_t lo, uint64_t hi, uint64_t off, uint32_t cap, uint8_t flags)
{
    uint64_t bytes = sizeof(struct ivm_ring) + (uint64_t) cap * sizeof(struct ivm_ring_cell);
    uint32_t raw_cap = (flags & F_RAW_GEOM) ? fz_u32(f) : cap;
    uint64_t raw_head = (flags & F_RAW_HEAD) ? fz_u64(f) : 0;
    bool clean = !(flags & (F_BAD_MAGIC | F_RAW_GEOM | F_RAW_HEAD));

    /* as ivm_ring_create lays it out, where it fits */
    if (off + bytes <= hi) {
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
    } else {
        clean = false;
    }

    ivm_ring_handle_t cons, prod;
    int rc = ivm_ring_attach(&region, off, lo, hi, &cons);
    if (IVM_OK != rc) {
        return;
    }
    FZ_CHECK(ivm_ring_attach(&region, off, lo, hi, &prod) == IVM_OK, "second attach differs");
    /* what attach accepted lies in the partition */
    FZ_CHECK(off >= lo && off + sizeof(struct ivm_ring) + (cons.mask + 1) * 16 <= hi,
             "ring at %llu, %llu cells, outside [%llu, %llu)", (unsigned long long) off,
             (unsigned long long) cons.mask + 1, (unsigned long long) lo, (unsigned long long) hi);
    if (cons.mask + 1 != cap) {
        clean = false;
    }
    q_reset();

    for (int n = 0; n < MAX_OPS && fz_left(f) > 0; n++) {
        uint64_t v;
        switch (fz_u8(f) % 6) {
        case 0: { /* producer */
            v = fz_u64(f) & ~(uint64_t) 1;
            rc = ivm_ring_push(&prod, v);
            if (clean) {
                bool full = q.tail - q.head >= cons.mask + 1;
                FZ_CHECK((IVM_OK == rc) == !full, "push returned %d with %u of %llu cells used", rc,
                         q.tail - q.head, (unsigned long long) cons.mask + 1);
            }
            if (IVM_OK == rc && !q_full()) {
                q.v[q.tail++ % MODEL_MAX] = v;
            }
            break;
        }
        case 1: { /* consumer */
            unsigned k = fz_u8(f);
            for (unsigned i = 0; i < k && ivm_ring_pop(&cons, &v); i++) {
                if (clean) {
                    FZ_CHECK(q.head != q.tail, "popped %llu from an empty ring",
                             (unsigned long long) v);
                    FZ_CHECK(q.v[q.head % MODEL_MAX] == v, "popped %llu, pushed %llu",
                             (unsigned long long) v, (unsigned long long) q.v[q.head % MODEL_MAX]);
                    q.head++;
                }
            }
            if (clean) {
                FZ_CHECK(ivm_ring_empty(&cons) == (q.head == q.tail), "empty() disagrees");
            }
            break;
        }
        case 2: /* a peer writes into the ring */
            patch(f, off, off + bytes < hi ? off + bytes : hi);
            clean = false;
            break;
        case 3: /* the consumer starts over (reads the shared head) */
            if (IVM_OK != ivm_ring_attach(&region, off, lo, hi, &cons)) {
                return;
            }
            break;
        case 4: /* a producer of another process attaches */
            if (IVM_OK != ivm_ring_attach(&region, off, lo, hi, &prod)) {
                return;
            }
            break;
        default: /* anywhere in the partition */
            patch(f, lo, hi);
            clean = false;
            break;
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

static void run_fbox(fz_t *f, uint64_t lo, uint64_t hi, uint64_t off, uint32_t size, uint8_t flags)
{
    uint64_t bytes = sizeof(struct ivm_fbox) + size;
    uint32_t raw_size = (flags & F_RAW_GEOM) ? fz_u32(f) : size;
    uint64_t raw_head = (flags & F_RAW_HEAD) ? fz_u64(f) : 0;
    bool clean = !(flags & (F_BAD_MAGIC | F_RAW_GEOM | F_RAW_HEAD));

    if (off + bytes <= hi) {
        struct ivm_fbox *fb = (struct ivm_fbox *) scratch;
        memset(fb, 0, bytes);
        fb->magic = (flags & F_BAD_MAGIC) ? IVM_FBOX_MAGIC ^ 1 : IVM_FBOX_MAGIC;
        fb->size = raw_size;
        fb->sender_slot = 1;
        atomic_store(&fb->head, raw_head);
        memcpy(base + off, scratch, bytes);
    } else {
        clean = false;
    }

    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    if (IVM_OK != ivm_fbox_attach_rx(&region, off, lo, hi, &rx)) {
        return;
    }
    FZ_CHECK(IVM_OK == ivm_fbox_attach_tx(&region, off, lo, hi, &tx), "tx attach differs");
    FZ_CHECK(off >= lo && off + sizeof(struct ivm_fbox) + rx.size <= hi,
             "fast box at %llu, %llu bytes, outside [%llu, %llu)", (unsigned long long) off,
             (unsigned long long) rx.size, (unsigned long long) lo, (unsigned long long) hi);
    if (rx.size != size) {
        clean = false;
    }
    const uint8_t *data = rx.fb->data;
    q_reset();
    uint32_t seed = 0;

    for (int n = 0; n < MAX_OPS && fz_left(f) > 0; n++) {
        switch (fz_u8(f) % 6) {
        case 0: { /* sender: one message */
            uint32_t len = fz_u16(f) % (uint32_t) (tx.size / 2);
            uint8_t tag = fz_u8(f), fl = fz_u8(f) & IVM_FBOX_F_REF;
            uint8_t *p = ivm_fbox_reserve(&tx, len);
            if (NULL == p) {
                break;
            }
            FZ_CHECK(p >= tx.fb->data + sizeof(uint64_t) && p + len <= tx.fb->data + tx.size,
                     "reserve gave %ld+%u outside a %llu-byte box", (long) (p - tx.fb->data), len,
                     (unsigned long long) tx.size);
            fill(p, len, seed);
            ivm_fbox_commit(&tx, len, tag, fl);
            if (!q_full()) {
                q.v[q.tail % MODEL_MAX] = seed;
                q.len[q.tail % MODEL_MAX] = len;
                q.tag[q.tail++ % MODEL_MAX] = tag;
            }
            seed++;
            break;
        }
        case 1: { /* receiver */
            unsigned k = fz_u8(f);
            for (unsigned i = 0; i < k; i++) {
                uint64_t hdr;
                const void *payload;
                int rc = ivm_fbox_peek(&rx, &hdr, &payload);
                if (IVM_ERR_CORRUPT == rc) {
                    FZ_CHECK(!clean, "a correct sender's message reads as corrupt");
                    break;
                }
                if (1 != rc) {
                    break;
                }
                uint32_t len = IVM_FBOX_HDR_LEN(hdr);
                const uint8_t *p = payload;
                FZ_CHECK(p >= data + sizeof(uint64_t) && p <= data + rx.size
                             && len <= (uint64_t) (data + rx.size - p),
                         "peek gave %ld+%u outside a %llu-byte box", (long) (p - data), len,
                         (unsigned long long) rx.size);
                (void) fz_touch(p, len);
                if (clean) {
                    FZ_CHECK(q.head != q.tail, "a message nobody sent");
                    uint32_t k2 = q.head++ % MODEL_MAX;
                    FZ_CHECK(q.len[k2] == len && q.tag[k2] == IVM_FBOX_HDR_TAG(hdr)
                                 && filled(p, len, (uint32_t) q.v[k2]),
                             "message %u: got %u bytes tag %u, sent %u bytes tag %u", k2, len,
                             IVM_FBOX_HDR_TAG(hdr), q.len[k2], q.tag[k2]);
                }
                ivm_fbox_consume(&rx, hdr);
            }
            break;
        }
        case 2: /* a peer writes into the box */
            patch(f, off, off + bytes < hi ? off + bytes : hi);
            clean = false;
            break;
        case 3: /* the receiver's published head, as the sender reads it */
            atomic_store(&tx.fb->head, fz_u64(f));
            clean = false;
            break;
        case 4: /* the receiver starts over */
            if (IVM_OK != ivm_fbox_attach_rx(&region, off, lo, hi, &rx)) {
                return;
            }
            clean = false;
            break;
        default:
            patch(f, lo, hi);
            clean = false;
            break;
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
