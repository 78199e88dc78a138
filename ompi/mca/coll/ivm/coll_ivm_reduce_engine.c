/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The reduction engine: reduce, allreduce and reduce_scatter inside a
 * group (their MPI entry points: coll_ivm_reduce.c, coll_ivm_allreduce.c,
 * coll_ivm_reduce_scatter.c), on predefined contiguous datatypes with any operation (intrinsic
 * or user-defined), computed with ompi_op_reduce.
 *
 * Every element is reduced in member order, x0 op (x1 op (... op xn-1)),
 * which is what MPI requires of non-commutative operations and makes the
 * result bitwise identical on every member and from run to run.
 *
 *  - allreduce of tiny vectors (<= COLL_IVM_SMALL_BYTES): one small step
 *    (common_ivm_layout_coll.h), every member reduces the payloads of all
 *    slots; reduce of tiny vectors: through the bcast ring, the root
 *    reduces what the others posted (they do not wait for it);
 *  - small vectors (<= coll_ivm_reduce_small bytes): one step; every member
 *    publishes its vector and each member that needs the result reduces
 *    all of them itself (one synchronisation, no slices);
 *  - larger vectors: pipelined in chunks; member j reduces slice j of each
 *    chunk from all contributions (channel 0) into its channel 1 buffer,
 *    and the members that need the result copy every slice out.  The work
 *    is spread over the members instead of falling on the root.
 *  - reduce_scatter: every member reduces its own block straight into its
 *    receive buffer. */

#include "ompi_config.h"

#include <limits.h>
#include <string.h>

#include "ompi/datatype/ompi_datatype.h"
#include "ompi/op/op.h"

#include "coll_ivm.h"

bool coll_ivm_reducible(struct ompi_datatype_t *dtype, struct ompi_op_t *op)
{
    (void) op; /* ompi_op_reduce handles intrinsic and user operations alike */
    return ompi_datatype_is_predefined(dtype)
           && ompi_datatype_is_contiguous_memory_layout(dtype, 2);
}

/* dst = x0 op (x1 op (... op xn-1)) over @elems elements at byte @off of
 * chunk @c of step @seq in every member's buffer on channel @ch. */
static void reduce_ordered(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint64_t c, size_t off,
                           size_t elems, size_t dsz, void *dst, struct ompi_datatype_t *dtype,
                           struct ompi_op_t *op)
{
    memcpy(dst, coll_ivm_buf(g, ch, g->n - 1, seq, c) + off, elems * dsz);
    for (int i = g->n - 2; i >= 0; i--) {
        ompi_op_reduce(op, coll_ivm_buf(g, ch, i, seq, c) + off, dst, elems, dtype);
    }
}

static int wait_all(coll_ivm_group_t *g, unsigned ch, uint64_t seq, uint64_t c)
{
    for (int i = 0; i < g->n; i++) {
        if (i != g->me) {
            int rc = coll_ivm_chan_wait(g, ch, i, seq, (uint32_t) c);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
        }
    }
    return OMPI_SUCCESS;
}

static int publish(coll_ivm_group_t *g, uint64_t seq, uint64_t c, const void *src, size_t len)
{
    int rc = coll_ivm_chan_acquire(g, 0, seq, c);
    if (OMPI_SUCCESS == rc) {
        memcpy(coll_ivm_buf(g, 0, g->me, seq, c), src, len);
        coll_ivm_chan_publish(g, 0, seq, (uint32_t) c);
    }
    return rc;
}

static int reduce_small(coll_ivm_group_t *g, const void *src, void *dst, size_t count, size_t dsz,
                        struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
{
    const uint64_t seq = ++g->seq;
    int rc = publish(g, seq, 0, src, count * dsz);
    if (OMPI_SUCCESS == rc && (root < 0 || root == g->me)) {
        rc = wait_all(g, 0, seq, 0);
        if (OMPI_SUCCESS == rc) {
            reduce_ordered(g, 0, seq, 0, 0, count, dsz, dst, dtype, op);
        }
    }
    coll_ivm_chan_done(g, 0, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    return rc;
}

/* Reduce of at most COLL_IVM_SMALL_BYTES to @root through the bcast ring
 * (common_ivm_layout_coll.h): the others post their vectors and go on,
 * up to COLL_IVM_BCAST_SLOTS calls ahead of the root, which reduces the
 * slots in member order. */
static int reduce_tiny(coll_ivm_group_t *g, const void *src, void *dst, size_t count, size_t dsz,
                       struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
{
    uint8_t x[COLL_IVM_SMALL_BYTES];
    const size_t len = count * dsz;
    uint64_t b;
    int rc;
    if (g->me != root) {
        rc = coll_ivm_ring_post(g, src, len, &b);
        if (OMPI_SUCCESS == rc) {
            coll_ivm_ring_done(g, b);
        }
        return rc;
    }
    uint8_t mine[COLL_IVM_SMALL_BYTES];
    memcpy(mine, src, len); /* src may be dst (MPI_IN_PLACE) */
    rc = coll_ivm_ring_gather(g, &b);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    /* dst = x0 op (x1 op (... op xn-1)); every slot copied once into
     * private memory before the operation reads it */
    const int last = g->n - 1;
    memcpy(dst, last == g->me ? mine : coll_ivm_bslot(g, last, b)->data, len);
    for (int i = last - 1; i >= 0; i--) {
        memcpy(x, i == g->me ? mine : coll_ivm_bslot(g, i, b)->data, len);
        ompi_op_reduce(op, x, dst, count, dtype);
    }
    coll_ivm_ring_done(g, b);
    return OMPI_SUCCESS;
}

/* Allreduce of at most COLL_IVM_SMALL_BYTES through the small slots. */
static int allreduce_tiny(coll_ivm_group_t *g, const void *src, void *dst, size_t count, size_t dsz,
                          struct ompi_datatype_t *dtype, struct ompi_op_t *op)
{
    uint64_t step;
    int rc = coll_ivm_small_exchange(g, src, count * dsz, &step);
    if (OMPI_SUCCESS == rc) {
        memcpy(dst, coll_ivm_small(g, g->n - 1, step)->data, count * dsz);
        for (int i = g->n - 2; i >= 0; i--) {
            ompi_op_reduce(op, coll_ivm_small(g, i, step)->data, dst, count, dtype);
        }
    }
    return rc;
}

static inline void slice(uint64_t elems, int n, int j, uint64_t *s, uint64_t *e)
{
    *s = elems * (uint64_t) j / (uint64_t) n;
    *e = elems * (uint64_t) (j + 1) / (uint64_t) n;
}

/* Round @c of the slice-parallel reduction: publish, reduce my slice into
 * channel 1, and (if @gather) collect every slice into @dst. */
static int reduce_round(coll_ivm_group_t *g, uint64_t seq, uint64_t c, uint64_t e0, uint64_t ec,
                        const uint8_t *src, uint8_t *dst, size_t dsz, struct ompi_datatype_t *dtype,
                        struct ompi_op_t *op, bool gather)
{
    uint64_t s, e;
    int rc = publish(g, seq, c, src + e0 * dsz, ec * dsz);
    if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_chan_acquire(g, 1, seq, c);
    }
    slice(ec, g->n, g->me, &s, &e);
    if (OMPI_SUCCESS == rc && e > s) {
        rc = wait_all(g, 0, seq, c);
        if (OMPI_SUCCESS == rc) {
            reduce_ordered(g, 0, seq, c, s * dsz, e - s, dsz, coll_ivm_buf(g, 1, g->me, seq, c),
                           dtype, op);
        }
    }
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    coll_ivm_chan_publish(g, 1, seq, (uint32_t) c);
    coll_ivm_chan_done(g, 0, coll_ivm_tok(seq, (uint32_t) c));
    if (!gather) {
        return OMPI_SUCCESS;
    }
    for (int j = 0; j < g->n; j++) {
        slice(ec, g->n, j, &s, &e);
        if (e == s) {
            continue;
        }
        if (j != g->me && OMPI_SUCCESS != (rc = coll_ivm_chan_wait(g, 1, j, seq, (uint32_t) c))) {
            return rc;
        }
        memcpy(dst + (e0 + s) * dsz, coll_ivm_buf(g, 1, j, seq, c), (e - s) * dsz);
    }
    coll_ivm_chan_done(g, 1, coll_ivm_tok(seq, (uint32_t) c));
    return OMPI_SUCCESS;
}

static int reduce_group(coll_ivm_group_t *g, const void *src, void *dst, size_t count,
                        struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
{
    size_t dsz;
    ompi_datatype_type_size(dtype, &dsz);
    if (0 == count || 0 == dsz) {
        return OMPI_SUCCESS;
    }
    const uint64_t C = g->geom.chunk, per_chunk = C / dsz;
    if (root < 0 && count * dsz <= COLL_IVM_SMALL_BYTES) {
        return allreduce_tiny(g, src, dst, count, dsz, dtype, op);
    }
    if (count * dsz <= COLL_IVM_SMALL_BYTES) {
        return reduce_tiny(g, src, dst, count, dsz, dtype, op, root);
    }
    if (count * dsz >= C) {
        /* vectors of a chunk or more from region buffers: single copy */
        bool done;
        int rc = coll_ivm_reduce_direct(g, src, dst, count, dsz, dtype, op, root, &done);
        if (OMPI_SUCCESS != rc || done) {
            return rc;
        }
    }
    if (count * dsz <= mca_coll_ivm_component.reduce_small && count * dsz <= C) {
        return reduce_small(g, src, dst, count, dsz, dtype, op, root);
    }
    const uint64_t rounds = (count + per_chunk - 1) / per_chunk;
    const bool gather = root < 0 || root == g->me;
    if (rounds > COLL_IVM_MAX_CHUNKS) {
        return OMPI_ERR_NOT_SUPPORTED;
    }
    const uint64_t seq = ++g->seq;
    int rc = OMPI_SUCCESS;
    if (!gather) {
        coll_ivm_chan_done(g, 1, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    }
    for (uint64_t c = 0; c < rounds && OMPI_SUCCESS == rc; c++) {
        uint64_t e0 = c * per_chunk, ec = count - e0 < per_chunk ? count - e0 : per_chunk;
        rc = reduce_round(g, seq, c, e0, ec, src, dst, dsz, dtype, op, gather);
    }
    coll_ivm_chan_done(g, 0, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    coll_ivm_chan_done(g, 1, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    return rc;
}

/* Reduce_scatter of a vector of at most COLL_IVM_SMALL_BYTES: one small
 * step, every member reduces its block of all the slots in member order. */
static int reduce_scatter_tiny(coll_ivm_group_t *g, const void *src, void *dst, size_t total,
                               size_t lo, size_t cnt, size_t dsz, struct ompi_datatype_t *dtype,
                               struct ompi_op_t *op)
{
    uint8_t x[COLL_IVM_SMALL_BYTES];
    uint64_t step;
    int rc = coll_ivm_small_exchange(g, src, total * dsz, &step);
    if (OMPI_SUCCESS != rc || 0 == cnt) {
        return rc;
    }
    /* every slot copied once into private memory before it is used */
    memcpy(dst, coll_ivm_small(g, g->n - 1, step)->data + lo * dsz, cnt * dsz);
    for (int i = g->n - 2; i >= 0; i--) {
        memcpy(x, coll_ivm_small(g, i, step)->data + lo * dsz, cnt * dsz);
        ompi_op_reduce(op, x, dst, cnt, dtype);
    }
    return OMPI_SUCCESS;
}

static int reduce_scatter_group(coll_ivm_group_t *g, const void *src, void *dst,
                                const size_t *counts, const size_t *displ,
                                struct ompi_datatype_t *dtype, struct ompi_op_t *op)
{
    size_t dsz, total = 0;
    ompi_datatype_type_size(dtype, &dsz);
    for (int j = 0; j < g->n; j++) {
        if (displ[j] + counts[j] > total) {
            total = displ[j] + counts[j];
        }
    }
    if (0 == total || 0 == dsz) {
        return OMPI_SUCCESS;
    }
    if (total * dsz <= COLL_IVM_SMALL_BYTES) { /* total: the same on every member */
        return reduce_scatter_tiny(g, src, dst, total, displ[g->me], counts[g->me], dsz, dtype, op);
    }
    const uint64_t per_chunk = g->geom.chunk / dsz;
    const uint64_t rounds = (total + per_chunk - 1) / per_chunk;
    const uint64_t lo = displ[g->me], hi = lo + counts[g->me];
    const uint64_t seq = ++g->seq;
    int rc = OMPI_SUCCESS;
    if (rounds > COLL_IVM_MAX_CHUNKS) {
        return OMPI_ERR_NOT_SUPPORTED;
    }
    coll_ivm_chan_done(g, 0,
                       hi > lo ? coll_ivm_tok(seq, (uint32_t) (lo / per_chunk)) - 1
                               : coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    for (uint64_t c = 0; c < rounds && OMPI_SUCCESS == rc; c++) {
        uint64_t e0 = c * per_chunk, ec = total - e0 < per_chunk ? total - e0 : per_chunk;
        uint64_t a = lo > e0 ? lo : e0, b = hi < e0 + ec ? hi : e0 + ec;
        rc = publish(g, seq, c, (const uint8_t *) src + e0 * dsz, ec * dsz);
        if (OMPI_SUCCESS == rc && a < b) {
            rc = wait_all(g, 0, seq, c);
            if (OMPI_SUCCESS == rc) {
                reduce_ordered(g, 0, seq, c, (a - e0) * dsz, b - a, dsz,
                               (uint8_t *) dst + (a - lo) * dsz, dtype, op);
                /* done at once after the last wanted chunk (see xfer) */
                coll_ivm_chan_done(g, 0,
                                   coll_ivm_tok(seq, b == hi ? COLL_IVM_TOK_ALL : (uint32_t) c));
            }
        }
    }
    coll_ivm_chan_done(g, 0, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    return rc;
}

/* A failed step leaves the members out of step: the group is unusable. */
int coll_ivm_reduce_group(coll_ivm_group_t *g, const void *src, void *dst, size_t count,
                          struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
{
    int rc = reduce_group(g, src, dst, count, dtype, op, root);
    g->broken = g->broken || OMPI_SUCCESS != rc;
    return rc;
}

int coll_ivm_reduce_scatter_group(coll_ivm_group_t *g, const void *src, void *dst,
                                  const size_t *counts, const size_t *displ,
                                  struct ompi_datatype_t *dtype, struct ompi_op_t *op)
{
    int rc = reduce_scatter_group(g, src, dst, counts, displ, dtype, op);
    g->broken = g->broken || OMPI_SUCCESS != rc;
    return rc;
}

/* Can MPI_Reduce/MPI_Allreduce of @count @dtype with @op run here?  Every
 * rank decides alike (count, datatype and op are the same on all ranks).
 * Not: derived or non-contiguous datatypes; in the hierarchical mode,
 * non-commutative operations when the groups are not blocks of consecutive
 * ranks (the order of the operands could not be kept), and vectors over
 * INT_MAX bytes (the leaders' component takes an int count of bytes). */
bool coll_ivm_reduce_servable(mca_coll_ivm_module_t *m, int count, struct ompi_datatype_t *dtype,
                              struct ompi_op_t *op, size_t *len)
{
    if (count < 0 || !coll_ivm_reducible(dtype, op)
        || OMPI_SUCCESS != coll_ivm_bytes((size_t) count, dtype, len)) {
        return false;
    }
    if (COLL_IVM_MODE_HIER == m->mode) {
        return *len <= INT_MAX && (m->contiguous || ompi_op_is_commute(op));
    }
    return true;
}
