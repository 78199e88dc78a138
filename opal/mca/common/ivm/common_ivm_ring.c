/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Creating receive rings and fast boxes in the job heap, and attaching to
 * the ones peers created: their offsets and headers come from other
 * processes and are checked against the job partition before any address
 * is formed. */

#include <stdio.h>

#include "common_ivm_ring.h"

static bool pow2(uint64_t v)
{
    return 0 != v && 0 == (v & (v - 1));
}

/* Is [off, off+len) inside [lo, hi)? (overflow-safe) */
static bool inside(uint64_t off, uint64_t len, uint64_t lo, uint64_t hi)
{
    return off >= lo && off <= hi && len <= hi - off;
}

/* A power of two, and at least 2: with one cell, "published at p" and
 * "free for p + 1" are the same sequence number, so a producer would
 * overwrite a value the consumer has not taken (found by fuzz_ring). */
static bool ring_capacity_ok(uint32_t cap)
{
    return pow2(cap) && cap >= 2 && cap <= (1u << 20);
}

int ivm_ring_create(ivm_heap_t *h, uint32_t capacity, uint32_t owner_slot, uint64_t *off)
{
    if (!ring_capacity_ok(capacity)) {
        return ivm_error(h->r, IVM_ERR_INVALID,
                         "ring capacity %u is not a power of two "
                         "from 2 to 1048576",
                         capacity);
    }
    uint64_t bytes = sizeof(struct ivm_ring) + (uint64_t) capacity * sizeof(struct ivm_ring_cell);
    int rc = ivm_heap_alloc(h, bytes, IVM_CACHELINE, off);
    if (IVM_OK != rc) {
        return rc;
    }
    struct ivm_ring *ring = (struct ivm_ring *) ivm_ptr(h->r, *off, bytes);
    memset(ring, 0, sizeof(*ring));
    ring->magic = IVM_RING_MAGIC;
    ring->capacity = capacity;
    ring->owner_slot = owner_slot;
    for (uint32_t i = 0; i < capacity; i++) {
        atomic_store_explicit(&ring->cells[i].seq, i, memory_order_relaxed);
        atomic_store_explicit(&ring->cells[i].value, 0, memory_order_relaxed);
    }
    atomic_thread_fence(memory_order_release);
    return IVM_OK;
}

int ivm_ring_attach(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi, ivm_ring_handle_t *out)
{
    memset(out, 0, sizeof(*out));
    if (0 != off % IVM_CACHELINE || !inside(off, sizeof(struct ivm_ring), lo, hi)) {
        return ivm_error(r, IVM_ERR_CORRUPT, "receive ring offset %llu is outside the job",
                         (unsigned long long) off);
    }
    struct ivm_ring *ring = (struct ivm_ring *) ivm_ptr(r, off, sizeof(struct ivm_ring));
    uint32_t cap = ring->capacity; /* read once, then only the local copy */
    if (IVM_RING_MAGIC != ring->magic || !ring_capacity_ok(cap)
        || !inside(off, sizeof(struct ivm_ring) + (uint64_t) cap * sizeof(struct ivm_ring_cell), lo,
                   hi)) {
        return ivm_error(r, IVM_ERR_CORRUPT, "receive ring at %llu is corrupted",
                         (unsigned long long) off);
    }
    out->ring = ring;
    out->mask = cap - 1;
    out->head = atomic_load_explicit(&ring->head, memory_order_relaxed);
    return IVM_OK;
}

int ivm_fbox_create(ivm_heap_t *h, uint32_t size, uint32_t sender_slot, uint64_t *off)
{
    if (!pow2(size) || size < 256 || size > (1u << 24)) {
        return ivm_error(h->r, IVM_ERR_INVALID,
                         "fast box size %u is not a power of two "
                         "between 256 and 16 MiB",
                         size);
    }
    int rc = ivm_heap_alloc(h, sizeof(struct ivm_fbox) + size, IVM_CACHELINE, off);
    if (IVM_OK != rc) {
        return rc;
    }
    struct ivm_fbox *fb = (struct ivm_fbox *) ivm_ptr(h->r, *off, sizeof(*fb) + size);
    memset(fb, 0, sizeof(*fb) + size);
    fb->magic = IVM_FBOX_MAGIC;
    fb->size = size;
    fb->sender_slot = sender_slot;
    atomic_thread_fence(memory_order_release);
    return IVM_OK;
}

static int fbox_check(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi,
                      struct ivm_fbox **fbp, uint64_t *size)
{
    if (0 != off % IVM_CACHELINE || !inside(off, sizeof(struct ivm_fbox), lo, hi)) {
        return ivm_error(r, IVM_ERR_CORRUPT, "fast box offset %llu is outside the job",
                         (unsigned long long) off);
    }
    struct ivm_fbox *fb = (struct ivm_fbox *) ivm_ptr(r, off, sizeof(struct ivm_fbox));
    uint32_t sz = fb->size;
    if (IVM_FBOX_MAGIC != fb->magic || !pow2(sz) || sz < 256 || sz > (1u << 24)
        || !inside(off, sizeof(struct ivm_fbox) + (uint64_t) sz, lo, hi)) {
        return ivm_error(r, IVM_ERR_CORRUPT, "fast box at %llu is corrupted",
                         (unsigned long long) off);
    }
    *fbp = fb;
    *size = sz;
    return IVM_OK;
}

int ivm_fbox_attach_tx(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi, ivm_fbox_tx_t *out)
{
    memset(out, 0, sizeof(*out));
    return fbox_check(r, off, lo, hi, &out->fb, &out->size);
}

int ivm_fbox_attach_rx(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi, ivm_fbox_rx_t *out)
{
    memset(out, 0, sizeof(*out));
    return fbox_check(r, off, lo, hi, &out->fb, &out->size);
}
