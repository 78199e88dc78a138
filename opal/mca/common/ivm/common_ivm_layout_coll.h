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
 * coll/ivm's part of the region format (included by common_ivm_layout.h,
 * covered by IVM_FORMAT_VERSION): the shared area of one coll/ivm
 * communicator group, the only definition of bytes coll/ivm places in the
 * ivm region, and the arithmetic every member uses on it.
 *
 * A group is the set of ranks of one communicator that share one region.
 * Its leader (lowest rank) allocates the area from the job heap at the
 * first collective call; the region offset is handed to the other members
 * over MPI (the previous coll component's allreduce), never through the
 * region.  Every member computes the geometry itself from parameters all
 * ranks agreed on (coll_ivm_area_geometry), so nothing read from the area
 * is ever used as a size, index or offset: the only shared values are
 * monotonic tokens that are compared, never used for addressing, and the
 * attach count, which is range-checked.
 *
 *   0             struct coll_ivm_area_hdr
 *   ctl_off       members x struct coll_ivm_ctl (one cache line each)
 *   small_off     members x 2 struct coll_ivm_small (one cache line each)
 *   bcast_off     members x COLL_IVM_BCAST_SLOTS struct coll_ivm_small
 *   data_off      channel 0: members x nbuf x chunk bytes
 *                 channel 1: members x nbuf x chunk bytes
 *   size          end
 *
 * Tokens.  Every member counts the group's collective steps (seq, the same
 * on every member because collectives are called in the same order).  A
 * token names chunk c of step seq: (seq << 32) | c, compared modulo 2^64
 * (coll_ivm_tok_reached), so wrap-around is harmless.  Chunk
 * COLL_IVM_TOK_ALL means "the whole step".
 *
 * Channels.  Member i publishes chunk c of its outgoing stream on channel
 * ch by writing it into its buffer (c mod nbuf) and storing ready[ch] =
 * token (release).  Member j declares done[ch] = token when it will never
 * again read any chunk up to that token from anyone on that channel.  A
 * writer reuses a buffer only when every member's done[ch] has reached the
 * token last written into that buffer.  Every word of a member's control
 * line is written by that member only (single writer, no read-modify-write
 * between members), which is all that processes on different kernels can
 * rely on.
 *
 * Small slots.  Steps where every member waits for every other member
 * (barrier, allreduce of up to COLL_IVM_SMALL_BYTES) use their own step
 * counter and two slots per member, each one cache line holding a token
 * and the payload: a reader takes token and data with one cache miss.
 * Member i writes slot (t mod 2) at small step t.  It cannot overwrite a
 * slot someone still reads: the slot was last written at step t-2, and i
 * finished step t-1 only after every member had published t-1, which each
 * did only after it had read everything of step t-2.  So no done tokens
 * are needed.
 *
 * Bcast ring.  Broadcasts of up to COLL_IVM_SMALL_BYTES count their own
 * steps (b, the same on every member) and go through a ring of
 * COLL_IVM_BCAST_SLOTS slots per member: the root of step b writes its
 * slot (b mod COLL_IVM_BCAST_SLOTS) and returns; the others read it and
 * store bdone = b in their control line (the root too, for its own step).
 * Before writing step b a root needs every other member's bdone to have
 * reached b - COLL_IVM_BCAST_SLOTS (everything that slot held before was
 * read), so a root runs up to that many broadcasts ahead of its slowest
 * reader; it rereads the bdone words only when its last look no longer
 * covers b.  A reader waiting for step b cannot see a later step in the
 * slot: that would need its own bdone to have reached b.
 *
 * Large broadcasts (a chunk or more) start with a ring step whose payload
 * is a struct coll_ivm_bcast_desc: when the root's buffer lies in the
 * job's partition (MPI_Alloc_mem with the ivm hint), the descriptor names
 * its region offset, every other member copies the data straight out of
 * it and only then stores bdone, and the root returns once every bdone
 * has reached the step (one copy instead of two); otherwise it says
 * "stream" and the data follows through channel 0.  Readers check the
 * mode, that the length is theirs and that the range lies in the job's
 * partition before they touch it.
 *
 * Large allgathers and alltoalls (a chunk or more per block) start with a
 * small step whose payloads are struct coll_ivm_direct_desc: when every
 * member's send buffer lies in the job's partition, every member copies
 * what it needs straight out of the others' buffers, then a second small
 * step tells everyone that nobody reads them any more; if any member's
 * buffer is elsewhere, all of them (they read the same descriptors) move
 * the data through channel 0.
 *
 * COLL_IVM_LAYOUT_VERSION changes with every change of this layout or of
 * its protocols; the members of a communicator agree on it at setup (with
 * the parameters), so ranks built from different sources fall back
 * together instead of misreading each other's area.
 */

#ifndef COMMON_IVM_LAYOUT_COLL_H
#define COMMON_IVM_LAYOUT_COLL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLL_IVM_AREA_MAGIC 0x4c4c4f43564d5649ULL /* "IVMVCOLL" (diagnostic only) */
#define COLL_IVM_CHANNELS 2u
#define COLL_IVM_DATA_ALIGN 4096u
#define COLL_IVM_TOK_ALL 0xffffffffu
#define COLL_IVM_MAX_MEMBERS 65536u
#define COLL_IVM_MAX_CHUNKS 0xfffffffeu /* chunk indexes of one step */
#define COLL_IVM_SMALL_SLOTS 2u
#define COLL_IVM_SMALL_BYTES 56u
#define COLL_IVM_BCAST_SLOTS 32u
#define COLL_IVM_LAYOUT_VERSION 2u /* 1: before the bcast ring */

/** Area header.  W: leader at creation (before the offset is handed out),
 * then every member once, with an atomic decrement of attached when it
 * leaves.  R: members. */
struct coll_ivm_area_hdr {
    uint64_t magic;           /* W: leader; never trusted */
    uint32_t members;         /* W: leader; diagnostic (ivmctl-style dumps) */
    uint32_t nbuf;            /* W: leader; diagnostic */
    uint64_t chunk;           /* W: leader; diagnostic */
    _Atomic int64_t attached; /* members not yet gone; the one taking it to 0 frees the area */
    uint8_t pad[32];
};

/** One member's control line.  W: that member only.  R: every member. */
struct coll_ivm_ctl {
    _Atomic uint64_t ready[COLL_IVM_CHANNELS]; /* token of the last chunk published */
    _Atomic uint64_t done[COLL_IVM_CHANNELS];  /* no more reads up to this token */
    _Atomic uint64_t arrive;                   /* barrier fan-in: seq reached by my subtree */
    _Atomic uint64_t release;                  /* barrier fan-out (member 0): seq released */
    _Atomic uint64_t bdone;                    /* bcast ring: last step read (or written) */
    uint64_t pad[1];
};

/** One small slot.  W: its member only.  R: every member. */
struct coll_ivm_small {
    _Atomic uint64_t tok;               /* small step whose payload this holds */
    uint8_t data[COLL_IVM_SMALL_BYTES]; /* payload, valid once tok is seen */
};

_Static_assert(sizeof(struct coll_ivm_area_hdr) == IVM_CACHELINE, "area header is one line");
_Static_assert(sizeof(struct coll_ivm_small) == IVM_CACHELINE, "small slot is one line");
_Static_assert(offsetof(struct coll_ivm_area_hdr, attached) == 24, "attach count offset");
_Static_assert(sizeof(struct coll_ivm_ctl) == IVM_CACHELINE, "control block is one line");
_Static_assert(offsetof(struct coll_ivm_ctl, bdone) == 48, "bcast ring word offset");
_Static_assert(COLL_IVM_BCAST_SLOTS >= 2
                   && (COLL_IVM_BCAST_SLOTS & (COLL_IVM_BCAST_SLOTS - 1)) == 0,
               "bcast ring slots: a power of two, at least two");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic int64_t) == 8,
               "atomics must have plain layout");

/** Payload of the bcast ring step that starts a large broadcast.  W: the
 * root.  R: the other members, once, into private memory, validated. */
#define COLL_IVM_BDESC_STREAM 1u /* the data follows through channel 0 */
#define COLL_IVM_BDESC_REGION 2u /* the data is at off in the region */
struct coll_ivm_bcast_desc {
    uint64_t off;  /* region offset of the root's buffer (REGION) */
    uint64_t len;  /* bytes; must equal the reader's own count */
    uint32_t mode; /* COLL_IVM_BDESC_* */
    uint32_t pad;
};

_Static_assert(sizeof(struct coll_ivm_bcast_desc) == 24
                   && sizeof(struct coll_ivm_bcast_desc) <= COLL_IVM_SMALL_BYTES,
               "a broadcast descriptor fits one ring slot");

/** Small-slot payload that starts a large allgather or alltoall.  W: its
 * member.  R: every member, once, into private memory, validated. */
struct coll_ivm_direct_desc {
    uint64_t off;    /* region offset of the member's send buffer (REGION) */
    uint64_t stride; /* bytes from one destination's block to the next (alltoall) */
    uint64_t span;   /* bytes readable from off */
    uint32_t mode;   /* COLL_IVM_BDESC_* */
    uint32_t pad;
};

_Static_assert(sizeof(struct coll_ivm_direct_desc) == 32
                   && sizeof(struct coll_ivm_direct_desc) <= COLL_IVM_SMALL_BYTES,
               "a direct descriptor fits one small slot");

/** Geometry of an area (process-local, computed identically by every
 * member from agreed parameters). */
struct coll_ivm_geom {
    uint32_t members;
    uint32_t nbuf;
    uint64_t chunk;
    uint64_t ctl_off;
    uint64_t small_off;
    uint64_t bcast_off;
    uint64_t data_off;
    uint64_t member_stride; /* nbuf * chunk */
    uint64_t chan_stride;   /* members * member_stride */
    uint64_t size;
};

/** The one place the area layout is computed.  False when the parameters
 * are out of range or the size would overflow. */
static inline bool coll_ivm_area_geometry(uint32_t members, uint64_t chunk, uint32_t nbuf,
                                          struct coll_ivm_geom *g)
{
    if (members < 2 || members > COLL_IVM_MAX_MEMBERS || nbuf < 1 || nbuf > 64
        || chunk < IVM_CACHELINE || chunk > (1u << 24) || chunk % IVM_CACHELINE) {
        return false;
    }
    g->members = members;
    g->nbuf = nbuf;
    g->chunk = chunk;
    g->ctl_off = sizeof(struct coll_ivm_area_hdr);
    g->small_off = g->ctl_off + (uint64_t) members * sizeof(struct coll_ivm_ctl);
    g->bcast_off =
        g->small_off + (uint64_t) members * COLL_IVM_SMALL_SLOTS * sizeof(struct coll_ivm_small);
    uint64_t small_end =
        g->bcast_off + (uint64_t) members * COLL_IVM_BCAST_SLOTS * sizeof(struct coll_ivm_small);
    g->data_off = (small_end + IVM_CACHELINE - 1) / IVM_CACHELINE * IVM_CACHELINE;
    g->member_stride = (uint64_t) nbuf * chunk;             /* <= 2^30 */
    g->chan_stride = (uint64_t) members * g->member_stride; /* <= 2^46 */
    g->size = g->data_off + COLL_IVM_CHANNELS * g->chan_stride;
    return true;
}

/** Offset in the area of @member's control line (@g from
 * coll_ivm_area_geometry, @member < g->members). */
static inline uint64_t coll_ivm_ctl_off(const struct coll_ivm_geom *g, uint32_t member)
{
    return g->ctl_off + (uint64_t) member * sizeof(struct coll_ivm_ctl);
}

/** Offset in the area of @member's small slot for small step @step: the
 * two slots alternate. */
static inline uint64_t coll_ivm_small_off(const struct coll_ivm_geom *g, uint32_t member,
                                          uint64_t step)
{
    return g->small_off
           + ((uint64_t) member * COLL_IVM_SMALL_SLOTS + step % COLL_IVM_SMALL_SLOTS)
                 * sizeof(struct coll_ivm_small);
}

/** Offset in the area of the buffer that holds chunk @chunk_index of
 * @member's stream on channel @ch (@ch < COLL_IVM_CHANNELS): buffer
 * chunk_index mod nbuf of that member and channel. */
static inline uint64_t coll_ivm_buf_off(const struct coll_ivm_geom *g, uint32_t ch, uint32_t member,
                                        uint64_t chunk_index)
{
    return g->data_off + ch * g->chan_stride + (uint64_t) member * g->member_stride
           + (chunk_index % g->nbuf) * g->chunk;
}

static inline uint64_t coll_ivm_tok(uint64_t seq, uint32_t chunk)
{
    return (seq << 32) | chunk;
}

/** Has token @v reached @t?  Modulo 2^64, so counters may wrap. */
static inline bool coll_ivm_tok_reached(uint64_t v, uint64_t t)
{
    return (int64_t) (v - t) >= 0;
}

#endif /* COMMON_IVM_LAYOUT_COLL_H */
