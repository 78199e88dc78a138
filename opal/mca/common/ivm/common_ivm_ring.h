/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * Receive rings and fast boxes: the two queues of the transport, as inline
 * functions because they sit on the latency path.  Layout in
 * common_ivm_layout.h.
 *
 * Receive ring: bounded, many producers, one consumer.  A producer claims
 * a position with a CAS on the tail only when the cell there is free, so a
 * full ring is reported (IVM_ERR_NO_SPACE) instead of waited on: a sender
 * blocked on a full ring while its own ring fills would deadlock two
 * processes.
 *
 * Fast box: one sender, one receiver, a byte ring of variable-size
 * messages, each announced by a header word the receiver polls.  Message
 * boundaries move from lap to lap, so the word where the next header will
 * go may hold stale payload of an earlier lap; the sender therefore zeroes
 * that word *before* it publishes the current header (release), and keeps
 * one guard word free for it.  The receiver thus only ever sees zero or a
 * header the sender published at its read position.
 *
 * Handles hold validated local copies of the geometry; nothing read from
 * the shared header after attach is used to compute an address.
 */

#ifndef COMMON_IVM_RING_H
#define COMMON_IVM_RING_H

#include <string.h>

#include "common_ivm_core.h"

typedef struct ivm_ring_handle {
    struct ivm_ring *ring;
    uint64_t mask;
    uint64_t head; /* consumer only */
} ivm_ring_handle_t;

typedef struct ivm_fbox_tx {
    struct ivm_fbox *fb;
    uint64_t size;
    uint64_t tail;       /* bytes written */
    uint64_t head_cache; /* last head read from the receiver */
    uint16_t seq;
} ivm_fbox_tx_t;

typedef struct ivm_fbox_rx {
    struct ivm_fbox *fb;
    uint64_t size;
    uint64_t head;      /* bytes consumed */
    uint64_t published; /* head last made visible to the sender */
    uint16_t seq;
} ivm_fbox_rx_t;

/* creation and validated attach (common_ivm_ring.c) */
int ivm_ring_create(ivm_heap_t *h, uint32_t capacity, uint32_t owner_slot, uint64_t *off);
int ivm_ring_attach(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi,
                    ivm_ring_handle_t *out);
int ivm_fbox_create(ivm_heap_t *h, uint32_t size, uint32_t sender_slot, uint64_t *off);
int ivm_fbox_attach_tx(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi, ivm_fbox_tx_t *out);
int ivm_fbox_attach_rx(ivm_region_t *r, uint64_t off, uint64_t lo, uint64_t hi, ivm_fbox_rx_t *out);

/** Publish @value; IVM_ERR_NO_SPACE when the ring is full. */
static inline int ivm_ring_push(ivm_ring_handle_t *h, uint64_t value)
{
    struct ivm_ring *ring = h->ring;
    uint64_t pos = atomic_load_explicit(&ring->tail, memory_order_relaxed);
    /* bounded: a peer that keeps moving the tail cannot trap us */
    for (int tries = 0; tries < 1024; tries++) {
        struct ivm_ring_cell *cell = &ring->cells[pos & h->mask];
        uint64_t seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
        int64_t diff = (int64_t) (seq - pos);
        if (0 == diff) {
            if (atomic_compare_exchange_weak_explicit(&ring->tail, &pos, pos + 1,
                                                      memory_order_relaxed, memory_order_relaxed)) {
                atomic_store_explicit(&cell->value, value, memory_order_relaxed);
                /* release pairs with the consumer's acquire of seq: the
                 * value and the message it names are visible first */
                atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
                return IVM_OK;
            }
        } else if (diff < 0) {
            return IVM_ERR_NO_SPACE;
        } else {
            pos = atomic_load_explicit(&ring->tail, memory_order_relaxed);
        }
    }
    return IVM_ERR_NO_SPACE;
}

/** Take the next value if one is published. */
static inline bool ivm_ring_pop(ivm_ring_handle_t *h, uint64_t *value)
{
    struct ivm_ring_cell *cell = &h->ring->cells[h->head & h->mask];
    if (atomic_load_explicit(&cell->seq, memory_order_acquire) != h->head + 1) {
        return false;
    }
    *value = atomic_load_explicit(&cell->value, memory_order_relaxed);
    /* release: we are done with the cell before a producer reuses it */
    atomic_store_explicit(&cell->seq, h->head + h->mask + 1, memory_order_release);
    h->head++;
    atomic_store_explicit(&h->ring->head, h->head, memory_order_relaxed);
    return true;
}

static inline bool ivm_ring_empty(const ivm_ring_handle_t *h)
{
    return atomic_load_explicit(&h->ring->cells[h->head & h->mask].seq, memory_order_relaxed)
           != h->head + 1;
}

/* ---- fast box ---- */

static inline uint64_t ivm_fbox_span(uint32_t len)
{
    return (sizeof(uint64_t) + len + IVM_FBOX_ALIGN - 1) & ~(uint64_t) (IVM_FBOX_ALIGN - 1);
}

/* Room for @need bytes plus the guard word behind them? */
static inline bool ivm_fbox_room(ivm_fbox_tx_t *tx, uint64_t need)
{
    need += sizeof(uint64_t);
    if (tx->tail + need - tx->head_cache <= tx->size) {
        return true;
    }
    /* acquire pairs with the receiver's release of head: it is done with
     * the bytes we are about to overwrite */
    tx->head_cache = atomic_load_explicit(&tx->fb->head, memory_order_acquire);
    /* a corrupted head can only make us think there is no room */
    return tx->head_cache <= tx->tail && tx->tail + need - tx->head_cache <= tx->size;
}

static inline _Atomic uint64_t *ivm_fbox_word(ivm_fbox_tx_t *tx, uint64_t pos)
{
    return (_Atomic uint64_t *) (tx->fb->data + (pos & (tx->size - 1)));
}

/** Room for a message of @len payload bytes?  Returns where to write the
 * payload, or NULL when the box is full; commit with ivm_fbox_commit(). */
static inline void *ivm_fbox_reserve(ivm_fbox_tx_t *tx, uint32_t len)
{
    uint64_t need = ivm_fbox_span(len), at = tx->tail & (tx->size - 1);
    if (at + need > tx->size) {
        /* does not fit before the end: a wrap marker, then start over; the
         * start must read as "nothing yet" before the marker sends the
         * receiver there */
        uint64_t skip = tx->size - at;
        if (!ivm_fbox_room(tx, skip + need)) {
            return NULL;
        }
        atomic_store_explicit(ivm_fbox_word(tx, 0), 0, memory_order_relaxed);
        atomic_store_explicit(ivm_fbox_word(tx, at),
                              IVM_FBOX_HDR(0, 0, IVM_FBOX_F_VALID | IVM_FBOX_F_WRAP, tx->seq++),
                              memory_order_release);
        tx->tail += skip;
        at = 0;
    } else if (!ivm_fbox_room(tx, need)) {
        return NULL;
    }
    return tx->fb->data + at + sizeof(uint64_t);
}

static inline void ivm_fbox_commit(ivm_fbox_tx_t *tx, uint32_t len, uint8_t tag, uint8_t flags)
{
    uint64_t span = ivm_fbox_span(len);
    /* the next header's place must not show stale payload (see above) */
    atomic_store_explicit(ivm_fbox_word(tx, tx->tail + span), 0, memory_order_relaxed);
    /* release: payload and that zero are visible before the header */
    atomic_store_explicit(ivm_fbox_word(tx, tx->tail),
                          IVM_FBOX_HDR(len, tag, IVM_FBOX_F_VALID | flags, tx->seq++),
                          memory_order_release);
    tx->tail += span;
}

/** Next message: 1 and its header/payload, 0 if none, IVM_ERR_CORRUPT if
 * the header is impossible (the caller reports the sender). */
static inline int ivm_fbox_peek(ivm_fbox_rx_t *rx, uint64_t *hdr, const void **payload)
{
    for (;;) {
        uint64_t at = rx->head & (rx->size - 1);
        _Atomic uint64_t *word = (_Atomic uint64_t *) (rx->fb->data + at);
        uint64_t h = atomic_load_explicit(word, memory_order_acquire);
        if (0 == (IVM_FBOX_HDR_FLAGS(h) & IVM_FBOX_F_VALID) || IVM_FBOX_HDR_SEQ(h) != rx->seq) {
            return 0;
        }
        if (IVM_FBOX_HDR_FLAGS(h) & IVM_FBOX_F_WRAP) {
            rx->head += rx->size - at;
            rx->seq++;
            continue;
        }
        if (IVM_FBOX_HDR_LEN(h) > rx->size - at - sizeof(uint64_t)) {
            return IVM_ERR_CORRUPT;
        }
        *hdr = h;
        *payload = rx->fb->data + at + sizeof(uint64_t);
        return 1;
    }
}

/** Done with the message returned by ivm_fbox_peek(). */
static inline void ivm_fbox_consume(ivm_fbox_rx_t *rx, uint64_t hdr)
{
    rx->head += ivm_fbox_span(IVM_FBOX_HDR_LEN(hdr));
    rx->seq++;
    /* hand space back in quarter-box steps: fewer shared-line writes */
    if (rx->head - rx->published >= rx->size / 4) {
        atomic_store_explicit(&rx->fb->head, rx->head, memory_order_release);
        rx->published = rx->head;
    }
}

#endif /* COMMON_IVM_RING_H */
