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

/* Single copy for allgather and alltoall when every member's send buffer
 * is in the region (MPI_Alloc_mem with mpool_hints=ivm): instead of
 * streaming the blocks through channel 0 (one copy in, one copy out),
 * every member copies its blocks straight out of the others' buffers.
 * Protocol and descriptor: common_ivm_layout_coll.h.  The members decide
 * together: each publishes where its buffer is, and the direct path is
 * taken only when all of them say "region", which all of them read alike. */

#include "ompi_config.h"

#include <string.h>

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

int coll_ivm_direct(coll_ivm_group_t *g, const uint8_t *base, uint64_t stride, uint64_t span,
                    const coll_ivm_range_t *range, int nrange, bool per_reader, bool *done)
{
    struct coll_ivm_direct_desc mine = describe(g, base, stride, span), d;
    uint64_t step;
    bool all = true;

    *done = false;
    int rc = coll_ivm_small_exchange(g, &mine, sizeof(mine), &step);
    for (int j = 0; OMPI_SUCCESS == rc && j < g->n; j++) {
        memcpy(&d, coll_ivm_small(g, j, step)->data, sizeof(d));
        all = all && COLL_IVM_BDESC_REGION == d.mode;
    }
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
