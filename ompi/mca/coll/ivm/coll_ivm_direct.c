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

/* Single copy for allgather, alltoall, reduce and allreduce when every
 * member's send buffer is in the region (MPI_Alloc_mem with
 * mpool_hints=ivm): instead of streaming the data through channel 0 (one
 * copy in, one copy out), every member copies its blocks, or reduces the
 * vectors, straight out of the others' buffers.  Protocol and descriptor:
 * common_ivm_layout_coll.h.  The members decide together: each publishes
 * where its buffer is, and the direct path is taken only when all of them
 * say "region", which all of them read alike. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "ompi/op/op.h"

#include "coll_ivm.h"

/* My descriptor: the region offset of [base, base + span), if it is in
 * the job partition of the group's device. */
static struct coll_ivm_direct_desc describe(const coll_ivm_group_t *g, const uint8_t *base,
                                            uint64_t stride, uint64_t span)
{
    struct coll_ivm_direct_desc d = {0, stride, span, COLL_IVM_BDESC_STREAM, 0};
    int dev;
    if (NULL != base && OPAL_SUCCESS == mca_common_ivm_find(base, span, &dev, &d.off)
        && mca_common_ivm_device_get(dev) == g->dev) {
        d.mode = COLL_IVM_BDESC_REGION;
    }
    return d;
}

/* Copy every range straight from its writer's buffer.  A writer's bytes
 * for me start at me x its stride when @per_reader (alltoall), at its
 * start otherwise (allgather); every range is checked against what the
 * writer declared readable and against the job partition. */
static int copy_direct(coll_ivm_group_t *g, uint64_t step, const coll_ivm_range_t *range,
                       int nrange, bool per_reader)
{
    for (int k = 0; k < nrange; k++) {
        const coll_ivm_range_t *r = &range[k];
        struct coll_ivm_direct_desc d;
        if (0 == r->len) {
            continue;
        }
        memcpy(&d, coll_ivm_small(g, r->writer, step)->data, sizeof(d)); /* read once */
        uint64_t at = per_reader ? (uint64_t) g->me * d.stride : 0;
        if (per_reader && 0 != g->me && d.stride > UINT64_MAX / (uint64_t) g->me) {
            return OMPI_ERR_BAD_PARAM;
        }
        if (at > d.span || r->len > d.span - at || d.off > UINT64_MAX - at) {
            return OMPI_ERR_BAD_PARAM;
        }
        const uint8_t *src = mca_common_ivm_job_ptr(g->dev, d.off + at, r->len);
        if (NULL == src) {
            return OMPI_ERR_BAD_PARAM;
        }
        memcpy(r->dst, src, r->len);
    }
    return OMPI_SUCCESS;
}

/* The first step of every single-copy path: publish where my buffer is
 * and read everyone's mode.  *all: every member's buffer is in the
 * region; every member reads the same slots, so all decide alike. */
static int exchange(coll_ivm_group_t *g, const struct coll_ivm_direct_desc *mine, uint64_t *step,
                    bool *all)
{
    struct coll_ivm_direct_desc d;
    int rc = coll_ivm_small_exchange(g, mine, sizeof(*mine), step);
    *all = OMPI_SUCCESS == rc;
    for (int j = 0; *all && j < g->n; j++) {
        memcpy(&d, coll_ivm_small(g, j, *step)->data, sizeof(d));
        *all = COLL_IVM_BDESC_REGION == d.mode;
    }
    return rc;
}

int coll_ivm_direct(coll_ivm_group_t *g, const uint8_t *base, uint64_t stride, uint64_t span,
                    const coll_ivm_range_t *range, int nrange, bool per_reader, bool *done)
{
    struct coll_ivm_direct_desc mine = describe(g, base, stride, span);
    uint64_t step;
    bool all;

    *done = false;
    int rc = exchange(g, &mine, &step, &all);
    if (OMPI_SUCCESS != rc || !all) {
        return rc; /* every member saw the same modes: all stream */
    }
    int copied = copy_direct(g, step, range, nrange, per_reader);
    /* nobody returns (and reuses its send buffer) before everyone has
     * read; taken even after a bad descriptor, so that nobody waits for us */
    rc = coll_ivm_small_exchange(g, NULL, 0, &step);
    if (OMPI_SUCCESS != copied) {
        g->broken = true; /* garbage in a descriptor */
        return copied;
    }
    if (OMPI_SUCCESS == rc) {
        mca_coll_ivm_component.counters->single_copy++;
        *done = true;
    }
    return rc;
}

/* res = x0 op (x1 op (... op xn-1)), the order of the streamed reduction,
 * with member j's vector read straight out of its region buffer (my own
 * from @mine).  Each descriptor is copied once and checked: the vector
 * must be exactly @len bytes inside the job partition. */
static int reduce_from(coll_ivm_group_t *g, uint64_t step, const void *mine, void *res,
                       size_t count, uint64_t len, struct ompi_datatype_t *dtype,
                       struct ompi_op_t *op)
{
    for (int j = g->n - 1; j >= 0; j--) {
        const void *x = mine;
        if (j != g->me) {
            struct coll_ivm_direct_desc d;
            memcpy(&d, coll_ivm_small(g, j, step)->data, sizeof(d)); /* read once */
            x = d.span == len ? mca_common_ivm_job_ptr(g->dev, d.off, len) : NULL;
            if (NULL == x) {
                return OMPI_ERR_BAD_PARAM;
            }
        }
        if (j == g->n - 1) {
            memcpy(res, x, len);
        } else {
            ompi_op_reduce(op, (void *) x, res, count, dtype);
        }
    }
    return OMPI_SUCCESS;
}

int coll_ivm_reduce_direct(coll_ivm_group_t *g, const void *src, void *dst, size_t count,
                           size_t dsz, struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                           int root, bool *done)
{
    const uint64_t len = (uint64_t) count * dsz;
    struct coll_ivm_direct_desc mine = describe(g, src, len, len);
    const bool reader = root < 0 || root == g->me;
    void *tmp = NULL, *res = dst;
    uint64_t step;
    bool all;

    *done = false;
    int rc = exchange(g, &mine, &step, &all);
    if (OMPI_SUCCESS != rc || !all) {
        return rc; /* every member saw the same modes: all stream */
    }
    /* in allreduce the others read my send buffer, which may be my result
     * buffer (MPI_IN_PLACE): the result waits in private memory until all
     * have read; a root reducing in place needs its own vector intact too */
    if (reader && (root < 0 || src == dst) && NULL == (res = tmp = malloc(len))) {
        rc = OMPI_ERR_OUT_OF_RESOURCE;
    }
    int reduced =
        reader && OMPI_SUCCESS == rc ? reduce_from(g, step, src, res, count, len, dtype, op) : rc;
    /* nobody returns (and reuses its send buffer) before the readers are
     * done; taken in every case, so that nobody waits for us */
    rc = coll_ivm_small_exchange(g, NULL, 0, &step);
    if (OMPI_SUCCESS == rc && OMPI_SUCCESS == reduced && NULL != tmp) {
        memcpy(dst, tmp, len);
    }
    free(tmp);
    if (OMPI_SUCCESS != reduced) {
        g->broken = true; /* garbage in a descriptor, or no memory: out of step */
        return reduced;
    }
    if (OMPI_SUCCESS == rc) {
        mca_coll_ivm_component.counters->single_copy += reader ? 1 : 0;
        *done = true;
    }
    return rc;
}
