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

/**
 * @file
 *
 * osc/ivm's part of the region format (included by common_ivm_layout.h,
 * covered by IVM_FORMAT_VERSION): the shared area of one MPI window whose
 * ranks all share the region, the only definition of bytes osc/ivm places
 * in the ivm region, and the arithmetic every rank uses on it.
 *
 * Rank 0 of the window allocates the area from the job heap when the
 * window is created and initialises it before its offset reaches the
 * other ranks over MPI (never through the region).  Every rank computes
 * the geometry itself from values all ranks agreed on over MPI (the
 * number of ranks and every rank's segment size), so nothing read from
 * the area is ever used as a size, index or offset.  The shared words
 * are lock words and monotonic counters that are compared, and the
 * attach count, which is range-checked.  The header's magic and rank
 * count are checked by every rank when it attaches.
 *
 *   0             struct osc_ivm_win_hdr
 *   64            struct osc_ivm_fence (the fence barrier's counter)
 *   state_off     nranks x struct osc_ivm_rank_state (one line each)
 *   post_off      nranks x nranks _Atomic uint32_t post counters,
 *                 padded to a line: post[origin * nranks + target]
 *   seg_off       the window's memory for MPI_Win_allocate and
 *                 MPI_Win_allocate_shared (none for MPI_Win_create,
 *                 whose memory the ranks allocated themselves in the
 *                 region): rank i's segment follows rank i-1's
 *   size          end
 *
 * Lock word of a target (passive target).  Bits 0-31 count shared
 * holders (and shared attempts in flight), bits 32-62 hold 1 + the
 * window rank of an exclusive holder, 0 when none.  A shared locker adds
 * 1 and keeps it if no exclusive holder was there, else takes it back and
 * waits; an exclusive locker swaps 0 for its own value.  Releasing an
 * exclusive lock clears only bits 32-62 (fetch_and), so that shared
 * attempts in flight are not lost.
 *
 * Accumulate lock of a target: 0 free, else 1 + the holder's window
 * rank.  It serialises the accumulates whose element type the CPU cannot
 * update atomically (larger than 8 bytes or not naturally aligned);
 * everything else is updated element by element with CPU atomics.
 *
 * Fence: every rank adds 1 to the counter at each fence; fence number k
 * (counted from 1 by each rank) is complete when the counter reaches
 * k * nranks.  The counter never goes back, so no reset is needed.
 *
 * Post/start/complete/wait: a target adds 1 to post[origin][target] for
 * each origin of its post group; an origin's start waits, per target,
 * for that counter to exceed the number of posts it has consumed.  The
 * origins' complete adds 1 to the target's complete counter; the
 * target's wait waits for it to reach the number of completes it
 * expects (its post groups' sizes, summed).  An origin only completes
 * towards a target that posted to it, so completes cannot run ahead.
 */

#ifndef COMMON_IVM_LAYOUT_OSC_H
#define COMMON_IVM_LAYOUT_OSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OSC_IVM_AREA_MAGIC 0x4e49575643534f49ULL /* "IOSCVWIN" */
#define OSC_IVM_MAX_RANKS 4096u
#define OSC_IVM_SEG_ALIGN 64u
#define OSC_IVM_PAGE 4096u

#define OSC_IVM_LOCK_SHARED_MASK 0xffffffffULL
#define OSC_IVM_LOCK_EXCL_SHIFT 32
#define OSC_IVM_LOCK_EXCL_MASK 0x7fffffff00000000ULL

/** Area header.  W: rank 0 at creation (before the offset is handed
 * out), then every rank once, with an atomic decrement of attached when
 * it frees the window.  R: every rank (magic and nranks checked at
 * attach). */
struct osc_ivm_win_hdr {
    uint64_t magic;           /* W: rank 0; checked at attach */
    uint32_t nranks;          /* W: rank 0; checked at attach */
    uint32_t flavor;          /* W: rank 0; diagnostic */
    uint64_t size;            /* W: rank 0; diagnostic (bytes of the area) */
    _Atomic int64_t attached; /* ranks not yet gone; the one taking it to 0 frees the area */
    uint8_t pad[32];
};

/** The fence barrier.  W/R: every rank (fetch_add, loads). */
struct osc_ivm_fence {
    _Atomic uint64_t arrived; /* fences entered, summed over the ranks */
    uint64_t pad[7];
};

/** Synchronisation words of one target rank.  W/R: every rank, with
 * atomics only. */
struct osc_ivm_rank_state {
    _Atomic uint64_t lock;     /* passive-target lock word, see above */
    _Atomic uint64_t acc_lock; /* accumulate lock, see above */
    _Atomic uint64_t complete; /* completes received (PSCW) */
    uint64_t pad[5];
};

_Static_assert(sizeof(struct osc_ivm_win_hdr) == IVM_CACHELINE, "window header is one line");
_Static_assert(offsetof(struct osc_ivm_win_hdr, attached) == 24, "attach count offset");
_Static_assert(sizeof(struct osc_ivm_fence) == IVM_CACHELINE, "fence counter is one line");
_Static_assert(sizeof(struct osc_ivm_rank_state) == IVM_CACHELINE, "rank state is one line");
_Static_assert(sizeof(_Atomic uint32_t) == 4 && sizeof(_Atomic uint64_t) == 8
                   && sizeof(_Atomic int64_t) == 8,
               "atomics must have plain layout");

/** Geometry of a window's area (process-local, computed identically by
 * every rank from agreed values). */
struct osc_ivm_geom {
    uint32_t nranks;
    uint64_t state_off;
    uint64_t post_off;
    uint64_t seg_off; /* first segment (aligned to a page) */
    uint64_t seg_len; /* bytes of all segments, padding included */
    uint64_t size;    /* whole area */
};

static inline uint64_t osc_ivm_round_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) / a * a;
}

/** Where rank @rank's segment starts, relative to seg_off, given every
 * rank's size.  @pack: segments follow each other without padding (the
 * contiguous layout of MPI_Win_allocate_shared); otherwise each starts
 * on @align.  Computed in O(rank); callers cache the results. */
static inline uint64_t osc_ivm_seg_start(const uint64_t *sizes, uint32_t rank, bool pack,
                                         uint64_t align)
{
    uint64_t at = 0;
    for (uint32_t i = 0; i < rank; i++) {
        at += pack ? sizes[i] : osc_ivm_round_up(sizes[i], align);
    }
    return at;
}

/** The one place the area layout is computed.  False when the values
 * are out of range or the size would overflow. */
static inline bool osc_ivm_area_geometry(uint32_t nranks, const uint64_t *sizes, bool pack,
                                         uint64_t align, struct osc_ivm_geom *g)
{
    const uint64_t limit = (uint64_t) 1 << 48; /* far beyond any region */
    uint64_t segs = 0;

    if (nranks < 1 || nranks > OSC_IVM_MAX_RANKS || align < OSC_IVM_SEG_ALIGN || align > (1u << 21)
        || 0 != (align & (align - 1))) {
        return false;
    }
    for (uint32_t i = 0; i < nranks; i++) {
        if (sizes[i] > limit) {
            return false;
        }
        segs += pack ? sizes[i] : osc_ivm_round_up(sizes[i], align);
        if (segs > limit) {
            return false;
        }
    }
    g->nranks = nranks;
    g->state_off = sizeof(struct osc_ivm_win_hdr) + sizeof(struct osc_ivm_fence);
    g->post_off = g->state_off + (uint64_t) nranks * sizeof(struct osc_ivm_rank_state);
    g->seg_off = osc_ivm_round_up(g->post_off + (uint64_t) nranks * nranks * 4u, OSC_IVM_PAGE);
    g->seg_len = osc_ivm_round_up(segs, IVM_CACHELINE);
    g->size = g->seg_off + g->seg_len;
    return true;
}

#endif /* COMMON_IVM_LAYOUT_OSC_H */
