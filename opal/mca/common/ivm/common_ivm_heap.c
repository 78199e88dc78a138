/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The job heap: the allocator of a job partition, shared by every process
 * of the job in every VM (layout in common_ivm_layout.h).
 *
 * Small blocks (64 B .. 32 KiB, power-of-two classes) are the fast path: a
 * lock-free stack per class, O(1) push and pop with a 32-bit ABA tag in the
 * head word.  A class stack is refilled with one slab (one chunk) at a time.
 * Larger blocks are runs of chunks found first-fit in a bitmap under the
 * partition lock; freeing clears their bits, so free space coalesces and
 * fragmentation stays bounded.  Slabs are not returned to the bitmap: small
 * memory is bounded by the peak small usage.
 *
 * Everything read from the partition (header, bitmap, chunk info, stack
 * links) is validated; a corrupted heap yields IVM_ERR_CORRUPT. */

#include <stdio.h>
#include <string.h>

#include "common_ivm_core.h"

#define STACK_RETRIES (1u << 20) /* a peer flipping a head forever cannot hang us */

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

static uint32_t part_crc(const struct ivm_part_header *h)
{
    return ivm_crc32c(0, h, offsetof(struct ivm_part_header, crc));
}

/* Geometry of a partition of @size bytes; false if it cannot hold one data
 * chunk. */
static bool part_layout(uint64_t size, struct ivm_part_header *g)
{
    memset(g, 0, sizeof(*g));
    uint64_t max_chunks = size / IVM_CHUNK_SIZE;
    g->bitmap_off = sizeof(struct ivm_part_header);
    g->info_off = align_up(g->bitmap_off + align_up(max_chunks, 64) / 8, 8);
    g->data_off = align_up(g->info_off + max_chunks * sizeof(uint32_t), IVM_CHUNK_SIZE);
    if (size < g->data_off + IVM_CHUNK_SIZE) {
        return false;
    }
    g->magic = IVM_PART_MAGIC;
    g->version = IVM_FORMAT_VERSION;
    g->part_size = size;
    g->nchunks = (uint32_t) ((size - g->data_off) / IVM_CHUNK_SIZE);
    return true;
}

uint64_t ivm_heap_min_partition(void)
{
    struct ivm_part_header g;
    uint64_t size = IVM_CHUNK_SIZE;
    while (!part_layout(size, &g)) {
        size += IVM_CHUNK_SIZE;
    }
    return size;
}

int ivm_heap_init(ivm_region_t *r, uint64_t part_off, uint64_t part_size)
{
    struct ivm_part_header g;
    uint8_t *base = ivm_ptr(r, part_off, part_size);
    if (NULL == base || !part_layout(part_size, &g)) {
        return ivm_error(r, IVM_ERR_INVALID, "partition %llu+%llu cannot hold a heap",
                         (unsigned long long) part_off, (unsigned long long) part_size);
    }
    memset(base, 0, g.data_off);
    g.crc = part_crc(&g);
    memcpy(base, &g, offsetof(struct ivm_part_header, lock));
    return IVM_OK;
}

int ivm_heap_open(ivm_heap_t *h, ivm_region_t *r, uint64_t part_off, uint64_t part_size,
                  unsigned lock_timeout_ms)
{
    struct ivm_part_header copy, expect;
    uint8_t *base = ivm_ptr(r, part_off, part_size);

    memset(h, 0, sizeof(*h));
    if (NULL == base || !part_layout(part_size, &expect)) {
        return ivm_error(r, IVM_ERR_INVALID, "bad partition %llu+%llu",
                         (unsigned long long) part_off, (unsigned long long) part_size);
    }
    memcpy(&copy, base, offsetof(struct ivm_part_header, lock));
    expect.crc = part_crc(&expect);
    /* only the geometry this code would compute is acceptable */
    if (0 != memcmp(&copy, &expect, offsetof(struct ivm_part_header, pad0))) {
        return ivm_error(r, IVM_ERR_CORRUPT,
                         "%s: heap header of the partition at %llu is "
                         "corrupted",
                         r->map.spec, (unsigned long long) part_off);
    }
    h->r = r;
    h->hdr = (struct ivm_part_header *) base;
    h->part_off = part_off;
    h->nchunks = expect.nchunks;
    h->bitmap = (_Atomic uint64_t *) (base + expect.bitmap_off);
    h->info = (_Atomic uint32_t *) (base + expect.info_off);
    h->data_off = part_off + expect.data_off;
    h->lock_timeout_ms = lock_timeout_ms;
    return IVM_OK;
}

static uint32_t class_of(uint64_t size)
{
    uint32_t c = 0;
    while (((uint64_t) 1 << (IVM_HEAP_MIN_CLASS_SHIFT + c)) < size) {
        c++;
    }
    return c;
}

static uint64_t class_size(uint32_t c)
{
    return (uint64_t) 1 << (IVM_HEAP_MIN_CLASS_SHIFT + c);
}

static uint64_t chunk_off(const ivm_heap_t *h, uint32_t chunk)
{
    return h->data_off + (uint64_t) chunk * IVM_CHUNK_SIZE;
}

/* Validated: is @off a block of class @c inside a slab of that class? */
static bool is_small_block(const ivm_heap_t *h, uint64_t off, uint32_t c)
{
    if (off < h->data_off || off >= chunk_off(h, h->nchunks)) {
        return false;
    }
    uint32_t chunk = (uint32_t) ((off - h->data_off) / IVM_CHUNK_SIZE);
    /* acquire: pairs with take_chunks' release store of a run's head info,
     * so a slab seen here was carved (refill's links written) before */
    uint32_t info = atomic_load_explicit(&h->info[chunk], memory_order_acquire);
    return (IVM_CHUNK_SLAB << IVM_CHUNK_TAG_SHIFT | c) == info
           && 0 == (off - chunk_off(h, chunk)) % class_size(c);
}

/* Stack entries are indexes of 64-byte units from the data start, plus one
 * (zero is the empty stack). */
static uint32_t to_index(const ivm_heap_t *h, uint64_t off)
{
    return (uint32_t) ((off - h->data_off) >> IVM_HEAP_MIN_CLASS_SHIFT) + 1;
}

static uint64_t from_index(const ivm_heap_t *h, uint32_t idx)
{
    return h->data_off + ((uint64_t) (idx - 1) << IVM_HEAP_MIN_CLASS_SHIFT);
}

static _Atomic uint64_t *link_of(const ivm_heap_t *h, uint64_t off)
{
    return (_Atomic uint64_t *) (h->r->map.base + off);
}

/* Push the chain first..last (already linked through their first words). */
static void stack_push(ivm_heap_t *h, uint32_t c, uint64_t first, uint64_t last)
{
    _Atomic uint64_t *head = &h->hdr->class_head[c];
    /* relaxed: only a guess of the head; the CAS below checks it */
    uint64_t old = atomic_load_explicit(head, memory_order_relaxed);
    for (unsigned it = 0; it < STACK_RETRIES; it++) {
        /* relaxed: published by the release CAS that follows */
        atomic_store_explicit(link_of(h, last), old & 0xffffffffu, memory_order_relaxed);
        uint64_t next = ((old >> 32) + 1) << 32 | to_index(h, first);
        /* release: the links and the blocks' contents before the head */
        if (atomic_compare_exchange_weak_explicit(head, &old, next, memory_order_release,
                                                  memory_order_relaxed)) {
            return;
        }
    }
}

static int stack_pop(ivm_heap_t *h, uint32_t c, uint64_t *off)
{
    _Atomic uint64_t *head = &h->hdr->class_head[c];
    /* acquire: pairs with stack_push's release CAS, so the top block's
     * link (written before that push) is visible below */
    uint64_t old = atomic_load_explicit(head, memory_order_acquire);
    for (unsigned it = 0; it < STACK_RETRIES; it++) {
        uint32_t idx = (uint32_t) old;
        if (0 == idx) {
            return IVM_ERR_NO_SPACE;
        }
        uint64_t top = from_index(h, idx);
        if (idx > (uint32_t) (((uint64_t) h->nchunks * IVM_CHUNK_SIZE) >> IVM_HEAP_MIN_CLASS_SHIFT)
            || !is_small_block(h, top, c)) {
            return ivm_error(h->r, IVM_ERR_CORRUPT,
                             "%s: free list %u of the job heap is "
                             "corrupted",
                             h->r->map.spec, c);
        }
        /* may read a block another process just popped: the tag makes our
         * CAS fail then, and the value is only used if the CAS succeeds */
        uint32_t next = (uint32_t) atomic_load_explicit(link_of(h, top), memory_order_relaxed);
        if (0 != next && !is_small_block(h, from_index(h, next), c)) {
            /* garbage is benign if the head moved meanwhile (the block was
             * popped and reused); with the head unchanged it is corruption */
            /* acquire: as the first load of the head */
            uint64_t again = atomic_load_explicit(head, memory_order_acquire);
            if (again == old) {
                return ivm_error(h->r, IVM_ERR_CORRUPT,
                                 "%s: free list %u of the job heap "
                                 "is corrupted",
                                 h->r->map.spec, c);
            }
            old = again;
            continue;
        }
        uint64_t want = ((old >> 32) + 1) << 32 | next;
        /* acquire on success: the block's previous owner's writes (its free
         * pushed it with release) happen before our use of it; acquire on
         * failure: the new head is read as by the first load */
        if (atomic_compare_exchange_weak_explicit(head, &old, want, memory_order_acquire,
                                                  memory_order_acquire)) {
            *off = top;
            return IVM_OK;
        }
    }
    return ivm_error(h->r, IVM_ERR_TIMEOUT, "%s: free list %u never settled", h->r->map.spec, c);
}

/* First fit of @n free chunks in the bitmap; caller holds the lock. */
static int find_run(ivm_heap_t *h, uint32_t n, uint32_t *start)
{
    uint32_t run = 0;
    for (uint32_t i = 0; i < h->nchunks; i++) {
        /* relaxed: the bitmap only changes under the heap lock we hold */
        uint64_t word = atomic_load_explicit(&h->bitmap[i / 64], memory_order_relaxed);
        if (0 == (i % 64) && UINT64_MAX == word) {
            run = 0;
            i += 63;
            continue;
        }
        run = (word >> (i % 64) & 1) ? 0 : run + 1;
        if (run == n) {
            *start = i + 1 - n;
            return IVM_OK;
        }
    }
    return IVM_ERR_NO_SPACE;
}

/* Relaxed read-modify-writes: the caller holds the heap lock, whose
 * release publishes them to the next holder. */
static void mark_run(ivm_heap_t *h, uint32_t start, uint32_t n, bool used)
{
    for (uint32_t i = start; i < start + n; i++) {
        uint64_t bit = (uint64_t) 1 << (i % 64);
        if (used) {
            atomic_fetch_or_explicit(&h->bitmap[i / 64], bit, memory_order_relaxed);
        } else {
            atomic_fetch_and_explicit(&h->bitmap[i / 64], ~bit, memory_order_relaxed);
        }
    }
}

static int take_chunks(ivm_heap_t *h, uint32_t n, uint32_t info_head, uint32_t *start)
{
    uint64_t token;
    int rc = ivm_lockword_acquire(h->r, &h->hdr->lock, "job heap lock", h->lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    rc = find_run(h, n, start);
    if (IVM_OK == rc) {
        mark_run(h, *start, n, true);
        for (uint32_t i = *start + 1; i < *start + n; i++) {
            atomic_store_explicit(&h->info[i], IVM_CHUNK_LARGE_TAIL << IVM_CHUNK_TAG_SHIFT,
                                  memory_order_relaxed);
        }
        /* release: the tails' info before the head's, which lock-free
         * readers (is_small_block, ivm_heap_free) acquire */
        atomic_store_explicit(&h->info[*start], info_head, memory_order_release);
    } else {
        ivm_error(h->r, rc, "%s: the job heap has no %u free contiguous chunks of %u bytes",
                  h->r->map.spec, n, IVM_CHUNK_SIZE);
    }
    ivm_lockword_release(&h->hdr->lock, token);
    return rc;
}

/* Carve a fresh slab into blocks of class @c: keep the first, push the
 * rest as one chain. */
static int refill(ivm_heap_t *h, uint32_t c, uint64_t *off)
{
    uint32_t chunk;
    int rc = take_chunks(h, 1, IVM_CHUNK_SLAB << IVM_CHUNK_TAG_SHIFT | c, &chunk);
    if (IVM_OK != rc) {
        return rc;
    }
    uint64_t first = chunk_off(h, chunk), bs = class_size(c);
    uint64_t count = IVM_CHUNK_SIZE / bs;
    for (uint64_t k = 1; k + 1 < count; k++) {
        /* relaxed: the chain is ours until stack_push publishes it */
        atomic_store_explicit(link_of(h, first + k * bs), to_index(h, first + (k + 1) * bs),
                              memory_order_relaxed);
    }
    if (count > 1) {
        stack_push(h, c, first + bs, first + (count - 1) * bs);
    }
    *off = first;
    return IVM_OK;
}

int ivm_heap_alloc(ivm_heap_t *h, uint64_t size, uint64_t align, uint64_t *off)
{
    uint64_t need = size > align ? size : align;
    if (0 == need) {
        need = 1;
    }
    if (align > 4096 || 0 != (align & (align - 1))
        || need > (uint64_t) h->nchunks * IVM_CHUNK_SIZE) {
        return ivm_error(h->r, IVM_ERR_INVALID,
                         "cannot allocate %llu bytes aligned to %llu "
                         "from the job heap",
                         (unsigned long long) size, (unsigned long long) align);
    }
    uint32_t c = class_of(need);
    int rc;
    if (c < IVM_HEAP_NCLASS) {
        rc = stack_pop(h, c, off);
        if (IVM_ERR_NO_SPACE == rc) {
            rc = refill(h, c, off);
        }
        need = class_size(c);
    } else {
        uint32_t n = (uint32_t) ((need + IVM_CHUNK_SIZE - 1) / IVM_CHUNK_SIZE), chunk;
        rc = take_chunks(h, n, IVM_CHUNK_LARGE_HEAD << IVM_CHUNK_TAG_SHIFT | n, &chunk);
        *off = chunk_off(h, chunk);
        need = (uint64_t) n * IVM_CHUNK_SIZE;
    }
    if (IVM_OK == rc) {
        /* relaxed: a statistic (ivmctl), orders nothing */
        atomic_fetch_add_explicit(&h->hdr->bytes_in_use, need, memory_order_relaxed);
    }
    return rc;
}

static int free_large(ivm_heap_t *h, uint32_t chunk, uint32_t n)
{
    uint64_t token;
    int rc = ivm_lockword_acquire(h->r, &h->hdr->lock, "job heap lock", h->lock_timeout_ms, &token);
    if (IVM_OK != rc) {
        return rc;
    }
    for (uint32_t i = chunk; i < chunk + n; i++) {
        /* relaxed: published with the bitmap by the lock's release */
        atomic_store_explicit(&h->info[i], IVM_CHUNK_FREE, memory_order_relaxed);
    }
    mark_run(h, chunk, n, false);
    ivm_lockword_release(&h->hdr->lock, token);
    atomic_fetch_sub_explicit(&h->hdr->bytes_in_use, (uint64_t) n * IVM_CHUNK_SIZE,
                              memory_order_relaxed);
    return IVM_OK;
}

int ivm_heap_free(ivm_heap_t *h, uint64_t off)
{
    if (off < h->data_off || off >= chunk_off(h, h->nchunks)) {
        return ivm_error(h->r, IVM_ERR_INVALID, "offset %llu is not in the job heap",
                         (unsigned long long) off);
    }
    uint32_t chunk = (uint32_t) ((off - h->data_off) / IVM_CHUNK_SIZE);
    /* acquire: pairs with take_chunks' release store of the head info */
    uint32_t info = atomic_load_explicit(&h->info[chunk], memory_order_acquire);
    uint32_t tag = info >> IVM_CHUNK_TAG_SHIFT, low = info & ((1u << IVM_CHUNK_TAG_SHIFT) - 1);
    if (IVM_CHUNK_SLAB == tag && low < IVM_HEAP_NCLASS && is_small_block(h, off, low)) {
        stack_push(h, low, off, off);
        atomic_fetch_sub_explicit(&h->hdr->bytes_in_use, class_size(low), memory_order_relaxed);
        return IVM_OK;
    }
    if (IVM_CHUNK_LARGE_HEAD == tag && off == chunk_off(h, chunk) && low > 0
        && low <= h->nchunks - chunk) {
        return free_large(h, chunk, low);
    }
    return ivm_error(h->r, IVM_ERR_INVALID, "offset %llu is not an allocated block",
                     (unsigned long long) off);
}

uint64_t ivm_heap_in_use(const ivm_heap_t *h)
{
    return atomic_load_explicit(&h->hdr->bytes_in_use, memory_order_relaxed);
}
