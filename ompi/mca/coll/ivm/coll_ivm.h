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
 * coll/ivm: MPI collectives that run in an ivm region (a QEMU ivshmem
 * device) for ranks that share it, whichever virtual machines they are in.
 *
 * Structure
 *  - coll_ivm_component.c  parameters, MPI_T counters, device attachment
 *  - coll_ivm_module.c     comm_query: which ranks share a region (from the
 *                          modex blobs of the device layer), module setup
 *  - coll_ivm_setup.c      lazy per-communicator setup at the first call:
 *                          co-location proof, area allocation, agreement
 *                          through the previous component's allreduce,
 *                          leader communicator for the hierarchical mode
 *  - coll_ivm_sync.c       bounded waits, channels, tree barrier
 *  - coll_ivm_xfer.c       the data movement engine (streams and ranges)
 *  - coll_ivm_reduce_engine.c  the reduction engine (ordered, slice-parallel)
 *  - coll_ivm_dtype.c      contiguous views of user buffers (pack/unpack)
 *  - coll_ivm_hier.c       the hierarchical mode's helpers: the group-major
 *                          layout in which the leaders exchange blocks
 *  - coll_ivm_<collective>.c  MPI entry points, one collective (and its v
 *                          variant) per file: flat, hierarchical or the
 *                          previous component
 * The bytes coll/ivm places in the region are defined with the rest of the
 * region format: opal/mca/common/ivm/common_ivm_layout_coll.h.
 *
 * Modes of a communicator: FLAT when all its ranks share one region;
 * HIER when they form several groups (one per region; ranks that share no
 * region with another rank of the communicator are groups of one): ivm
 * inside each group and the previous component's algorithms over a
 * communicator of one leader per group.  Communicators in which no two
 * ranks share a region, and intercommunicators, are declined.
 */

#ifndef MCA_COLL_IVM_H
#define MCA_COLL_IVM_H

#include "ompi_config.h"

#include "mpi.h"
#include "ompi/communicator/communicator.h"
#include "ompi/datatype/ompi_datatype.h"
#include "ompi/mca/coll/coll.h"
#include "opal/mca/common/ivm/common_ivm.h"
#include "opal/mca/common/ivm/common_ivm_ompi_version.h"
#include "opal/util/output.h"

#include "coll_ivm_version.h"

BEGIN_C_DECLS

/** The collectives coll/ivm provides (index of parameters and counters). */
enum coll_ivm_op {
    COLL_IVM_BARRIER,
    COLL_IVM_BCAST,
    COLL_IVM_REDUCE,
    COLL_IVM_ALLREDUCE,
    COLL_IVM_ALLGATHER,
    COLL_IVM_ALLGATHERV,
    COLL_IVM_GATHER,
    COLL_IVM_GATHERV,
    COLL_IVM_SCATTER,
    COLL_IVM_SCATTERV,
    COLL_IVM_ALLTOALL,
    COLL_IVM_ALLTOALLV,
    COLL_IVM_REDUCE_SCATTER,
    COLL_IVM_REDUCE_SCATTER_BLOCK,
    COLL_IVM_NOPS
};

/** MPI_T counters.  The storage is allocated once on the heap and never
 * freed: Open MPI unloads (dlclose) components that are not selected and
 * closes every component at MPI_Finalize, while MPI_T may still hold a
 * handle; registered with mca_base_component_pvar_register (invalidated
 * with the component) and without callbacks, a read can only ever touch
 * this memory, never unmapped code or data. */
typedef struct coll_ivm_counters {
    unsigned long long calls[COLL_IVM_NOPS];    /**< calls run by ivm (flat or hierarchical) */
    unsigned long long fallback[COLL_IVM_NOPS]; /**< calls handed to the previous component */
    unsigned long long handover[COLL_IVM_NOPS]; /**< of those: by size (coll_ivm_<op>_handover) */
    unsigned long long single_copy;             /**< calls read straight from region buffers */
    unsigned long long comms_flat;              /**< communicators set up flat */
    unsigned long long comms_hier;              /**< communicators set up hierarchical */
    unsigned long long comms_fallback;          /**< communicators that fell back at setup */
    unsigned long long areas_attached;          /**< shared areas this process is attached to */
    unsigned long long heap_in_use;             /**< job heap bytes in use (sampled) */
} coll_ivm_counters_t;

/** Byte ranges in which a collective's calls go to the next component
 * (coll_ivm_handover.c). */
#define COLL_IVM_HANDOVER_RANGES 4
typedef struct coll_ivm_handover {
    int n;
    uint64_t lo[COLL_IVM_HANDOVER_RANGES];
    uint64_t hi[COLL_IVM_HANDOVER_RANGES];    /**< included */
    uint64_t ranks[COLL_IVM_HANDOVER_RANGES]; /**< largest communicator (0: any) */
} coll_ivm_handover_t;

typedef struct mca_coll_ivm_component_t {
    coll_ivm_base_component_t super;

    /* parameters */
    int priority;
    int verbose;
    unsigned int chunk_size;      /**< bytes per pipeline chunk */
    unsigned int nbuf;            /**< chunks in flight per member and channel */
    unsigned int tree_degree;     /**< barrier fan-in tree degree */
    unsigned int barrier_all_max; /**< groups up to this size: one-step barrier */
    unsigned int reduce_small;    /**< bytes: one-phase reductions up to this size */
    double heap_fraction;         /**< share of the job heap coll/ivm may fill */
    int timeout;                  /**< seconds a wait may last (0: unbounded) */
    int liveness_interval_ms;     /**< how often a long wait checks its peer */
    bool enable[COLL_IVM_NOPS];
    char *handover_spec[COLL_IVM_NOPS];          /**< coll_ivm_<op>_handover (NULL: none) */
    coll_ivm_handover_t handover[COLL_IVM_NOPS]; /**< parsed at init_query */

    /* state */
    int output;
    bool attached; /**< mca_common_ivm_init succeeded in open */
    coll_ivm_counters_t *counters;
    opal_mutex_t lock; /**< protects the peer cache */
    struct coll_ivm_peer_cache *peers;
} mca_coll_ivm_component_t;

COLL_IVM_MODULE_DECLSPEC extern mca_coll_ivm_component_t mca_coll_ivm_component;

#define COLL_IVM_VERBOSE(level, ...)                                                           \
    do {                                                                                       \
        if (mca_coll_ivm_component.verbose >= (level) && mca_coll_ivm_component.output >= 0) { \
            opal_output_verbose((level), mca_coll_ivm_component.output, __VA_ARGS__);          \
        }                                                                                      \
    } while (0)

/** Liveness proof of one member (from its modex entry). */
typedef struct coll_ivm_member {
    int rank; /**< rank in the communicator */
    uint32_t slot;
    uint32_t slot_gen;
    uint64_t nonce;
    ivm_lease_watch_t lease; /**< its lease, as our waits have seen it */
} coll_ivm_member_t;

/** This process's view of its group's shared area. */
typedef struct coll_ivm_group {
    int n;                     /**< members (1: no area) */
    int me;                    /**< my member index */
    coll_ivm_member_t *member; /**< n entries, in rank order */
    mca_common_ivm_device_t *dev;
    struct coll_ivm_geom geom;
    uint64_t area_off;
    uint8_t *base;       /**< local address of the area, NULL if none */
    bool attached;       /**< we hold a reference on the area */
    uint64_t seq;        /**< steps taken (same on every member) */
    uint64_t small_seq;  /**< small steps taken (common_ivm_layout_coll.h) */
    uint64_t bcast_seq;  /**< bcast ring steps taken (common_ivm_layout_coll.h) */
    uint64_t bdone_min;  /**< bcast ring: every member's bdone had reached this */
    uint64_t *last_tok;  /**< [channel][nbuf]: token last written into a buffer */
    unsigned int degree; /**< barrier tree degree */
    bool broken;         /**< a wait failed: the tokens are out of step */
} coll_ivm_group_t;

enum coll_ivm_mode {
    COLL_IVM_MODE_UNSET = 0, /**< setup runs at the first collective call */
    COLL_IVM_MODE_FALLBACK,  /**< everything goes to the previous component */
    COLL_IVM_MODE_FLAT,      /**< one group holds every rank */
    COLL_IVM_MODE_HIER       /**< several groups, leaders talk over leader_comm */
};

/** The previous component's function and module for one collective. */
#define COLL_IVM_PREV(name)                  \
    mca_coll_base_module_##name##_fn_t name; \
    mca_coll_base_module_t *name##_module

typedef struct coll_ivm_prev {
    COLL_IVM_PREV(barrier);
    COLL_IVM_PREV(bcast);
    COLL_IVM_PREV(reduce);
    COLL_IVM_PREV(allreduce);
    COLL_IVM_PREV(allgather);
    COLL_IVM_PREV(allgatherv);
    COLL_IVM_PREV(gather);
    COLL_IVM_PREV(gatherv);
    COLL_IVM_PREV(scatter);
    COLL_IVM_PREV(scatterv);
    COLL_IVM_PREV(alltoall);
    COLL_IVM_PREV(alltoallv);
    COLL_IVM_PREV(reduce_scatter);
    COLL_IVM_PREV(reduce_scatter_block);
} coll_ivm_prev_t;

typedef struct mca_coll_ivm_module_t {
    mca_coll_base_module_t super;

    ompi_communicator_t *comm;
    enum coll_ivm_mode mode;
    bool in_setup; /**< calls made while setting up go to prev */

    /* topology, computed in comm_query from the published modex blobs:
     * identical on every rank of the communicator */
    int size;
    int ngroups;
    int *group_of;    /**< rank -> group (groups ordered by lowest rank) */
    int *index_of;    /**< rank -> index within its group */
    int *group_size;  /**< group -> members */
    int *group_first; /**< group -> lowest rank (the leader) */
    int my_group;
    bool contiguous; /**< every group is a block of consecutive ranks */

    coll_ivm_group_t grp;             /**< my group's area */
    ompi_communicator_t *leader_comm; /**< HIER: leaders only (rank = group index) */

    coll_ivm_prev_t prev;
} mca_coll_ivm_module_t;

OBJ_CLASS_DECLARATION(mca_coll_ivm_module_t);

/* ---- component / module (coll_ivm_component.c, coll_ivm_module.c) ---- */
int mca_coll_ivm_init_query(bool enable_progress_threads, bool enable_mpi_threads);
mca_coll_base_module_t *mca_coll_ivm_comm_query(struct ompi_communicator_t *comm, int *priority);
void mca_coll_ivm_peer_cache_free(void);

/* ---- setup (coll_ivm_setup.c) ---- */
int mca_coll_ivm_setup(mca_coll_ivm_module_t *m);
void mca_coll_ivm_teardown(mca_coll_ivm_module_t *m);

/** Should @op run in ivm on this communicator?  Runs the lazy setup at the
 * first call.  The answer depends only on values every rank agrees on. */
static inline bool coll_ivm_use(mca_coll_ivm_module_t *m, enum coll_ivm_op op)
{
    if (OPAL_UNLIKELY(COLL_IVM_MODE_UNSET == m->mode) && !m->in_setup) {
        (void) mca_coll_ivm_setup(m);
    }
    if (OPAL_LIKELY(m->mode >= COLL_IVM_MODE_FLAT && !m->in_setup)) {
        mca_coll_ivm_component.counters->calls[op]++;
        return true;
    }
    mca_coll_ivm_component.counters->fallback[op]++;
    return false;
}

/** A call that coll_ivm_use() counted as ours is handed on after all. */
static inline void coll_ivm_count_fallback(enum coll_ivm_op op)
{
    mca_coll_ivm_component.counters->calls[op]--;
    mca_coll_ivm_component.counters->fallback[op]++;
}

/* ---- hand-over by size (coll_ivm_handover.c) ---- */
/** Parse the coll_ivm_<op>_handover parameters; NULL, or what is wrong. */
const char *coll_ivm_handover_parse(void);
/** @h extended (FNV-1a) by the parsed ranges: part of what ranks agree on. */
uint64_t coll_ivm_handover_hash(uint64_t h);

/** Should a call of @op that coll_ivm_use() accepted go to the previous
 * component after all, because it is faster at @bytes (a size every rank
 * of the communicator agrees on) on a communicator of @ranks ranks?
 * Counts it as handed over if so. */
static inline bool coll_ivm_hand_over(enum coll_ivm_op op, uint64_t bytes, int ranks)
{
    const coll_ivm_handover_t *h = &mca_coll_ivm_component.handover[op];
    for (int j = 0; j < h->n; j++) {
        if (bytes >= h->lo[j] && bytes <= h->hi[j]
            && (0 == h->ranks[j] || (uint64_t) ranks <= h->ranks[j])) {
            mca_coll_ivm_component.counters->calls[op]--;
            mca_coll_ivm_component.counters->handover[op]++;
            return true;
        }
    }
    return false;
}

/* ---- synchronisation (coll_ivm_sync.c) ---- */
static inline struct coll_ivm_ctl *coll_ivm_ctl(const coll_ivm_group_t *g, int member)
{
    return (struct coll_ivm_ctl *) (g->base + coll_ivm_ctl_off(&g->geom, (uint32_t) member));
}

/** The buffer of @member on channel @ch that holds chunk @chunk_index of
 * step @seq: (seq + chunk) mod nbuf, so that consecutive one-chunk steps
 * (back-to-back small collectives) take turns in the buffers instead of
 * all waiting for buffer 0 to be drained. */
static inline uint64_t coll_ivm_buf_index(const coll_ivm_group_t *g, uint64_t seq,
                                          uint64_t chunk_index)
{
    return (seq + chunk_index) % g->geom.nbuf;
}

static inline uint8_t *coll_ivm_buf(const coll_ivm_group_t *g, unsigned ch, int member,
                                    uint64_t seq, uint64_t chunk_index)
{
    return g->base
           + coll_ivm_buf_off(&g->geom, ch, (uint32_t) member,
                              coll_ivm_buf_index(g, seq, chunk_index));
}

/** Wait until *word reaches @target; @member is whose word it is.  Bounded
 * by coll_ivm_timeout, checks the member's liveness while it waits. */
int coll_ivm_wait(coll_ivm_group_t *g, _Atomic uint64_t *word, uint64_t target, int member);

/** Writer: wait until the buffer of chunk @chunk_index of step @seq on
 * channel @ch may be overwritten, i.e. every member is done with what it
 * last held. */
int coll_ivm_chan_acquire(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint64_t chunk_index);
/** Writer: announce chunk @chunk_index of step @seq on channel @ch. */
void coll_ivm_chan_publish(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint32_t chunk_index);
/** Reader: wait for chunk @chunk_index of step @seq from @member. */
int coll_ivm_chan_wait(coll_ivm_group_t *g, unsigned ch, int member, uint64_t seq,
                       uint32_t chunk_index);
/** Reader: declare that no chunk up to @tok will be read on @ch again. */
void coll_ivm_chan_done(coll_ivm_group_t *g, unsigned ch, uint64_t tok);

int coll_ivm_fanin(coll_ivm_group_t *g, uint64_t seq);
/** Deliver what btl/ivm has queued for us (after a barrier). */
void coll_ivm_drain_btl(void);
int coll_ivm_fanout(coll_ivm_group_t *g, uint64_t seq);

static inline struct coll_ivm_small *coll_ivm_small(const coll_ivm_group_t *g, int member,
                                                    uint64_t step)
{
    return (struct coll_ivm_small *) (g->base
                                      + coll_ivm_small_off(&g->geom, (uint32_t) member, step));
}

static inline struct coll_ivm_small *coll_ivm_bslot(const coll_ivm_group_t *g, int member,
                                                    uint64_t step)
{
    return (struct coll_ivm_small *) (g->base + g->geom.bcast_off)
           + (uint64_t) member * COLL_IVM_BCAST_SLOTS + step % COLL_IVM_BCAST_SLOTS;
}

/** Bcast ring (common_ivm_layout_coll.h).  Root: write @len (<=
 * COLL_IVM_SMALL_BYTES) bytes as the next step, *step.  Others: wait for
 * that step of @root and copy its payload out.  Then every member calls
 * coll_ivm_ring_done() once it will read nothing more of the step; a root
 * that must know that all have (its payload named its own buffer) calls
 * coll_ivm_ring_wait_read(). */
int coll_ivm_ring_post(coll_ivm_group_t *g, const void *data, size_t len, uint64_t *step);
int coll_ivm_ring_read(coll_ivm_group_t *g, int root, void *data, size_t len, uint64_t *step);
void coll_ivm_ring_done(coll_ivm_group_t *g, uint64_t step);
int coll_ivm_ring_wait_read(coll_ivm_group_t *g, uint64_t step);
/** Ring step in which every other member posts (coll_ivm_ring_post) and
 * this one reads all their slots (coll_ivm_bslot(g, j, *step)), e.g. the
 * root of a tiny reduce; then coll_ivm_ring_done(). */
int coll_ivm_ring_gather(coll_ivm_group_t *g, uint64_t *step);

/** Broadcast @len (<= COLL_IVM_SMALL_BYTES) bytes from member @root's @buf
 * through the bcast ring: the root returns as soon as it has written, up
 * to COLL_IVM_BCAST_SLOTS steps ahead. */
int coll_ivm_bcast_small(coll_ivm_group_t *g, uint8_t *buf, size_t len, int root);

/** One small step (common_ivm_layout_coll.h): publish @len (<= COLL_IVM_SMALL_BYTES)
 * bytes and wait until every member has published its own; then the
 * members' payloads are at coll_ivm_small(g, member, *step). */
int coll_ivm_small_exchange(coll_ivm_group_t *g, const void *data, size_t len, uint64_t *step);

/* ---- data movement engine (coll_ivm_xfer.c) ---- */
typedef struct coll_ivm_seg {
    const uint8_t *ptr;
    size_t len;
} coll_ivm_seg_t;

typedef struct coll_ivm_range {
    int writer;   /**< member whose stream holds the bytes */
    uint64_t off; /**< offset in that stream */
    uint64_t len;
    uint8_t *dst;
} coll_ivm_range_t;

/** One step of the group: publish my stream (the concatenation of @seg,
 * may be empty) on channel 0 and copy the @nrange ranges of other
 * members' streams.  Every member of the group calls it. */
int coll_ivm_xfer(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, int nseg,
                  const coll_ivm_range_t *range, int nrange);

/** coll_ivm_xfer for streams of at most COLL_IVM_SMALL_BYTES on every
 * member (the callers know: every member's stream has the same length):
 * one small step (common_ivm_layout_coll.h), every range read straight
 * from its writer's small slot. */
int coll_ivm_xfer_tiny(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, int nseg,
                       const coll_ivm_range_t *range, int nrange);

/** Member 0 gets every member's @blk bytes at @mine, in member order, in
 * @dst (n * blk bytes; ignored elsewhere). */
int coll_ivm_gather_group(coll_ivm_group_t *g, const uint8_t *mine, size_t blk, uint8_t *dst);
/** Single copy out of region buffers (coll_ivm_direct.c): if every
 * member's send buffer [base, base + span) is in the region, copy the
 * @nrange ranges straight out of the writers' buffers (from me x their
 * stride when @per_reader, else from their start) and set *done; else
 * leave everything to the streams.  Every member of the group calls it. */
int coll_ivm_direct(coll_ivm_group_t *g, const uint8_t *base, uint64_t stride, uint64_t span,
                    const coll_ivm_range_t *range, int nrange, bool per_reader, bool *done);
/** Single-copy reduction (coll_ivm_direct.c): if every member's vector
 * (@count elements of @dsz bytes at @src) is in the region, @root (every
 * member when @root < 0: allreduce) reduces them straight out of the
 * others' buffers into @dst, in the streamed reduction's order, and *done
 * is set; else nothing happens.  Every member of the group calls it. */
int coll_ivm_reduce_direct(coll_ivm_group_t *g, const void *src, void *dst, size_t count,
                           size_t dsz, struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                           int root, bool *done);

/** Member i gets block i of member 0's @src (n * blk bytes) in @mine. */
int coll_ivm_scatter_group(coll_ivm_group_t *g, const uint8_t *src, size_t blk, uint8_t *mine);
/** Broadcast @len bytes from member @root's @buf to every member's @buf. */
int coll_ivm_bcast_group(coll_ivm_group_t *g, uint8_t *buf, size_t len, int root);

/* ---- reduction engine (coll_ivm_reduce.c) ---- */
/** Ordered reduction (member 0 op member 1 op ...) of @count elements of
 * the predefined contiguous @dtype from every member's @src into @dst at
 * member @root, or at every member when @root < 0.  @src may equal @dst. */
int coll_ivm_reduce_group(coll_ivm_group_t *g, const void *src, void *dst, size_t count,
                          struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root);
/** Member i gets elements [displ[i], displ[i] + counts[i]) of the ordered
 * reduction of every member's @src vector, in @dst. */
int coll_ivm_reduce_scatter_group(coll_ivm_group_t *g, const void *src, void *dst,
                                  const size_t *counts, const size_t *displ,
                                  struct ompi_datatype_t *dtype, struct ompi_op_t *op);
/** Can the reduction engine compute @op on @dtype in shared memory? */
bool coll_ivm_reducible(struct ompi_datatype_t *dtype, struct ompi_op_t *op);
/** Can reduce/allreduce of @count @dtype with @op run in module @m (not
 * handed to the previous component)?  @len: the vector's bytes. */
bool coll_ivm_reduce_servable(mca_coll_ivm_module_t *m, int count, struct ompi_datatype_t *dtype,
                              struct ompi_op_t *op, size_t *len);

/* ---- contiguous views of user buffers (coll_ivm_dtype.c) ---- */
typedef struct coll_ivm_span {
    uint8_t *ptr; /**< contiguous bytes (user memory or a packed copy) */
    size_t len;
    void *tmp; /**< the packed copy, if any */
} coll_ivm_span_t;

/** Bytes of (count, dtype), or an error for negative/overflowing counts. */
int coll_ivm_bytes(size_t count, struct ompi_datatype_t *dtype, size_t *bytes);
/** Contiguous bytes to read (buf, count, dtype); packs a copy if needed. */
int coll_ivm_span_in(const void *buf, size_t count, struct ompi_datatype_t *dtype,
                     coll_ivm_span_t *s);
/** Contiguous space to receive (buf, count, dtype) into; a temporary one if
 * needed, which coll_ivm_span_commit() unpacks. */
int coll_ivm_span_out(void *buf, size_t count, struct ompi_datatype_t *dtype, coll_ivm_span_t *s);
int coll_ivm_span_commit(coll_ivm_span_t *s, void *buf, size_t count,
                         struct ompi_datatype_t *dtype);
void coll_ivm_span_free(coll_ivm_span_t *s);
/** This rank's contribution to a gather-like call: (sbuf, scount, sdtype),
 * or under MPI_IN_PLACE its own block @me of (rbuf, rcount, rdtype). */
int coll_ivm_span_mine(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                       int rcount, struct ompi_datatype_t *rdtype, int me, coll_ivm_span_t *s);
/** Copy (count, dtype) from @src to @dst buffer (local copy of own block). */
int coll_ivm_local_copy(const void *src, size_t scount, struct ompi_datatype_t *sdtype, void *dst,
                        size_t rcount, struct ompi_datatype_t *rdtype);

/** Block @disp (in extents of @dtype) of @buf. */
static inline uint8_t *coll_ivm_block(const void *buf, struct ompi_datatype_t *dtype,
                                      ptrdiff_t disp)
{
    ptrdiff_t lb, extent;
    ompi_datatype_get_extent(dtype, &lb, &extent);
    return (uint8_t *) buf + disp * extent;
}

/** Smallest chunk a leader picks when coll_ivm_chunk_size does not fit
 * (coll_ivm_setup.c): the default before 64 KiB chunks. */
#define COLL_IVM_CHUNK_FLOOR (16u * 1024u)

/** Communicators up to this size keep per-rank scratch arrays on the
 * stack (no malloc in the small-message path). */
#define COLL_IVM_SMALL_N 16

/** Per-block receive spans of a root or all-to-all operation. */
typedef struct coll_ivm_blocks {
    int n;
    coll_ivm_span_t *span;
    coll_ivm_range_t *range;
    int nrange;
    coll_ivm_span_t span_small[COLL_IVM_SMALL_N];
    coll_ivm_range_t range_small[COLL_IVM_SMALL_N];
} coll_ivm_blocks_t;

int coll_ivm_blocks_init(coll_ivm_blocks_t *b, int n);
/** Receive span for block @i (@cnt elements at @disp extents of @rbuf),
 * filled from bytes [off, off + len) of member @writer's stream. */
int coll_ivm_blocks_add(coll_ivm_blocks_t *b, int i, void *rbuf, int cnt, ptrdiff_t disp,
                        struct ompi_datatype_t *rdtype, int writer, uint64_t off);
/** Free the spans (after a failure) or unpack and free them. */
int coll_ivm_blocks_finish(coll_ivm_blocks_t *b, bool commit, void *rbuf, const int *rcounts,
                           int rcount, const int *displs, struct ompi_datatype_t *rdtype);

/* ---- hierarchical helpers (coll_ivm_hier.c) ---- */
/** Byte counts and offsets of every group's blocks, group-major order. */
typedef struct coll_ivm_glayout {
    int *cnt; /**< bytes of group k (int, for the leaders' v-collectives) */
    int *dsp; /**< offset of group k */
    size_t total;
} coll_ivm_glayout_t;

/** Group-major layout of @blk bytes per rank; fails (error) if it does not
 * fit int counts. */
int coll_ivm_glayout(mca_coll_ivm_module_t *m, size_t blk, coll_ivm_glayout_t *l);
void coll_ivm_glayout_free(coll_ivm_glayout_t *l);
/** Buffers of a hierarchical gather or scatter of @blk bytes per rank with
 * root @root: the layout, the whole vector @vec (group-major; at the root
 * and its group's leader) and this group's part @part of it (at leaders;
 * inside @vec when there is one).  OMPI_ERR_OUT_OF_RESOURCE if one could
 * not be allocated; free with coll_ivm_hier_buffers_free() in any case. */
int coll_ivm_hier_buffers(mca_coll_ivm_module_t *m, size_t blk, int root, coll_ivm_glayout_t *l,
                          uint8_t **vec, uint8_t **part);
void coll_ivm_hier_buffers_free(coll_ivm_glayout_t *l, uint8_t *vec, uint8_t *part);
/** Offset of rank @r's block in the group-major layout. */
static inline size_t coll_ivm_gpos(const mca_coll_ivm_module_t *m, const coll_ivm_glayout_t *l,
                                   int r, size_t blk)
{
    return (size_t) l->dsp[m->group_of[r]] + (size_t) m->index_of[r] * blk;
}

/* ---- MPI entry points ---- */
int mca_coll_ivm_barrier(struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_bcast(void *buf, int count, struct ompi_datatype_t *dtype, int root,
                       struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_reduce(const void *sbuf, void *rbuf, int count, struct ompi_datatype_t *dtype,
                        struct ompi_op_t *op, int root, struct ompi_communicator_t *comm,
                        mca_coll_base_module_t *module);
int mca_coll_ivm_allreduce(const void *sbuf, void *rbuf, int count, struct ompi_datatype_t *dtype,
                           struct ompi_op_t *op, struct ompi_communicator_t *comm,
                           mca_coll_base_module_t *module);
int mca_coll_ivm_allgather(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                           int rcount, struct ompi_datatype_t *rdtype,
                           struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_allgatherv(const void *sbuf, int scount, struct ompi_datatype_t *sdtype,
                            void *rbuf, const int *rcounts, const int *displs,
                            struct ompi_datatype_t *rdtype, struct ompi_communicator_t *comm,
                            mca_coll_base_module_t *module);
int mca_coll_ivm_gather(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                        int rcount, struct ompi_datatype_t *rdtype, int root,
                        struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_gatherv(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                         const int *rcounts, const int *displs, struct ompi_datatype_t *rdtype,
                         int root, struct ompi_communicator_t *comm,
                         mca_coll_base_module_t *module);
int mca_coll_ivm_scatter(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                         int rcount, struct ompi_datatype_t *rdtype, int root,
                         struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_scatterv(const void *sbuf, const int *scounts, const int *displs,
                          struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                          struct ompi_datatype_t *rdtype, int root,
                          struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_alltoall(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                          int rcount, struct ompi_datatype_t *rdtype,
                          struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_alltoallv(const void *sbuf, const int *scounts, const int *sdispls,
                           struct ompi_datatype_t *sdtype, void *rbuf, const int *rcounts,
                           const int *rdispls, struct ompi_datatype_t *rdtype,
                           struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_reduce_scatter(const void *sbuf, void *rbuf, const int *rcounts,
                                struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                                struct ompi_communicator_t *comm, mca_coll_base_module_t *module);
int mca_coll_ivm_reduce_scatter_block(const void *sbuf, void *rbuf, int rcount,
                                      struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                                      struct ompi_communicator_t *comm,
                                      mca_coll_base_module_t *module);

END_C_DECLS

#endif /* MCA_COLL_IVM_H */
