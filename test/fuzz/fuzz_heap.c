/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "heap": the job heap (common_ivm_heap.c), shared by every
 * process of a job in every VM: partition header, chunk bitmap, chunk info
 * words, the per-class free-list heads and the links inside free blocks
 * are all writable by peers.
 *
 * A partition is formatted with ivm_heap_init and opened; then the input
 * drives allocations, frees, reopens and raw overwrites of the header,
 * bitmap, info words, list heads and any other byte of the partition
 * (optionally re-signing the header's CRC so the fuzzer gets behind it).
 * Everything outside the partition is poisoned (ASan).  Checked promises:
 *  - every block handed out lies in the data area, is aligned as asked,
 *    and fits; whatever the partition says;
 *  - while nothing was overwritten and only blocks we hold are freed: no
 *    two live blocks overlap, every free of a live block succeeds, and the
 *    header's bytes_in_use is the sum of the live blocks' sizes.
 *
 * Input: u8 partition chunks (2..47), u8 partition place, then operations
 * (see heap_op). */

#include "fuzz_common.h"

#define REG_SIZE (4u * 1024u * 1024u)
#define MAX_LIVE 512
#define MAX_OPS 1024

static uint8_t *base;
static ivm_region_t region;

static struct {
    uint64_t off, size;
} live[MAX_LIVE];
static unsigned nlive;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    base = fz_region_anon(&region, REG_SIZE, "fuzz-heap");
    return 0;
}

/* What the allocator hands out for @size/@align (its class or chunk
 * rounding), for the model. */
static uint64_t rounded(uint64_t size, uint64_t align)
{
    uint64_t need = size > align ? size : align;
    if (0 == need) {
        need = 1;
    }
    uint64_t c = 64;
    while (c < need) {
        c <<= 1;
    }
    if (c <= 32768) {
        return c;
    }
    return (need + IVM_CHUNK_SIZE - 1) / IVM_CHUNK_SIZE * IVM_CHUNK_SIZE;
}

static void resign(uint64_t part_off)
{
    struct ivm_part_header *h = (struct ivm_part_header *) (base + part_off);
    h->crc = ivm_crc32c(0, h, offsetof(struct ivm_part_header, crc));
}

/* One input's partition and heap, and whether the model may still judge
 * it. */
typedef struct {
    ivm_heap_t h;
    uint64_t part_off, part_size, part_end, data_off, meta;
    bool clean; /* nothing overwritten, only blocks we hold freed */
} heap_run_t;

/* Allocation: the block must lie in the data area, aligned, and (while
 * clean) overlap no live block; small sizes are the common case. */
static void op_alloc(fz_t *f, heap_run_t *x, bool small)
{
    uint64_t sz = small ? fz_u16(f) % 4096 : fz_u32(f) % (4 * IVM_CHUNK_SIZE);
    uint8_t a = fz_u8(f);
    uint64_t align = (a & 0x80) ? 0 : (uint64_t) 1 << (a % 14);
    uint64_t off;
    int rc = ivm_heap_alloc(&x->h, sz, align, &off);
    if (IVM_OK != rc) {
        return;
    }
    uint64_t rs = rounded(sz, align);
    FZ_CHECK(off >= x->data_off && off < x->part_end && rs <= x->part_end - off,
             "block %llu+%llu outside the data area [%llu, %llu)", (unsigned long long) off,
             (unsigned long long) rs, (unsigned long long) x->data_off,
             (unsigned long long) x->part_end);
    FZ_CHECK(0 == align || 0 == off % align, "block %llu not aligned to %llu",
             (unsigned long long) off, (unsigned long long) align);
    if (x->clean) {
        for (unsigned i = 0; i < nlive; i++) {
            FZ_CHECK(off + rs <= live[i].off || live[i].off + live[i].size <= off,
                     "block %llu+%llu overlaps live block %llu+%llu", (unsigned long long) off,
                     (unsigned long long) rs, (unsigned long long) live[i].off,
                     (unsigned long long) live[i].size);
        }
    }
    /* the owner writes its block (a peer may read it, nothing else) */
    memset(base + off, 0x5c, rs < 4096 ? rs : 4096);
    if (nlive < MAX_LIVE) {
        live[nlive].off = off;
        live[nlive++].size = rs;
    } else {
        x->clean = false; /* lost track */
    }
}

/* Free of a block we hold: must succeed while clean. */
static void op_free_live(fz_t *f, heap_run_t *x)
{
    if (0 == nlive) {
        return;
    }
    unsigned i = fz_u16(f) % nlive;
    int rc = ivm_heap_free(&x->h, live[i].off);
    FZ_CHECK(!x->clean || IVM_OK == rc, "freeing live block %llu failed: %s",
             (unsigned long long) live[i].off, region.errmsg);
    live[i] = live[--nlive];
}

/* A peer writes into the metadata (header, bitmap, chunk info). */
static void op_write_meta(fz_t *f, heap_run_t *x)
{
    uint64_t at = x->part_off + fz_u16(f) % x->meta;
    size_t len = (size_t) (fz_u8(f) % 16) + 1;
    if (len > x->part_end - at) {
        len = x->part_end - at;
    }
    fz_bytes(f, base + at, len);
    x->clean = false;
}

/* A peer writes a word into the data chunks (free-list links). */
static void op_write_data(fz_t *f, heap_run_t *x)
{
    uint64_t at = x->data_off + (uint64_t) fz_u32(f) % (x->part_end - x->data_off);
    at &= ~(uint64_t) 7;
    uint64_t v = fz_u64(f);
    memcpy(base + at, &v, sizeof(v));
    x->clean = false;
}

/* Reopen, maybe after re-signing the header: the data area must stay
 * where it was.  false: the heap no longer opens (the input is done). */
static bool op_reopen(fz_t *f, heap_run_t *x)
{
    if (fz_u8(f) & 1) {
        resign(x->part_off);
    }
    if (IVM_OK != ivm_heap_open(&x->h, &region, x->part_off, x->part_size, 0)) {
        return false;
    }
    FZ_CHECK(x->h.data_off == x->data_off, "reopen moved the data area");
    return true;
}

/* While clean, bytes_in_use must be the sum of the live blocks' sizes. */
static void check_books(heap_run_t *x)
{
    if (x->clean) {
        uint64_t sum = 0;
        for (unsigned i = 0; i < nlive; i++) {
            sum += live[i].size;
        }
        FZ_CHECK(ivm_heap_in_use(&x->h) == sum, "bytes_in_use %llu, live blocks %llu",
                 (unsigned long long) ivm_heap_in_use(&x->h), (unsigned long long) sum);
    }
}

/* One operation of the input; false: stop (the heap no longer opens). */
static bool heap_op(fz_t *f, heap_run_t *x)
{
    uint8_t op = fz_u8(f);
    switch (op % 9) {
    case 0:
    case 1: op_alloc(f, x, 0 == op % 9); break;
    case 2: op_free_live(f, x); break;
    case 3: /* free whatever offset (a confused caller): must not crash */
        (void) ivm_heap_free(&x->h, x->part_off + fz_u32(f) % (x->part_size + 4096));
        x->clean = false;
        break;
    case 4: op_write_meta(f, x); break;
    case 5: op_write_data(f, x); break;
    case 6: { /* a peer writes into a free-list head */
        struct ivm_part_header *ph = (struct ivm_part_header *) (base + x->part_off);
        atomic_store(&ph->class_head[fz_u8(f) % IVM_HEAP_NCLASS], fz_u64(f));
        x->clean = false;
        break;
    }
    case 7: return op_reopen(f, x);
    default: check_books(x); break;
    }
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    fz_t f = {d, size};
    ivm_region_t *r = &region;
    heap_run_t x = {.clean = true};
    x.part_size = (uint64_t) (2 + fz_u8(&f) % 46) * IVM_CHUNK_SIZE;
    x.part_off = (uint64_t) (1 + fz_u8(&f) % 8) * IVM_CHUNK_SIZE;
    x.part_end = x.part_off + x.part_size;

    fz_unfence(base, REG_SIZE);
    memset(base + x.part_off, 0xdb, x.part_size);
    fz_fence(base, REG_SIZE, x.part_off, x.part_end);
    r->errmsg[0] = '\0';
    r->lease_ms = 0;
    FZ_CHECK(IVM_OK == ivm_heap_init(r, x.part_off, x.part_size), "init: %s", r->errmsg);
    FZ_CHECK(IVM_OK == ivm_heap_open(&x.h, r, x.part_off, x.part_size, 0), "open: %s", r->errmsg);
    x.data_off = x.h.data_off;
    x.meta = x.h.data_off - x.part_off;
    nlive = 0;

    for (int n = 0; n < MAX_OPS && fz_left(&f) > 0; n++) {
        if (!heap_op(&f, &x)) {
            return 0;
        }
    }
    return 0;
}
