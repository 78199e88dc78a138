/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Allgather and MPI_Allgatherv.
 *
 * Flat: every rank streams its block and copies all the others' blocks
 * as they come (one step, pipelined); blocks of a chunk or more in region
 * buffers are copied straight out of them (coll_ivm_direct).  Hierarchical (allgather): gather
 * inside every group to its leader, allgatherv of the group blocks among
 * the leaders (previous component), broadcast of the whole vector inside
 * every group, then every rank puts the blocks in rank order.
 * Allgatherv in the hierarchical mode goes to the previous component. */

#include "ompi_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

static int allgather_flat(mca_coll_ivm_module_t *m, const void *sbuf, int scount,
                          struct ompi_datatype_t *sdtype, void *rbuf, const int *rcounts,
                          int rcount, const int *displs, struct ompi_datatype_t *rdtype)
{
    const int me = ompi_comm_rank(m->comm);
    const int mycnt = NULL != rcounts ? rcounts[me] : rcount;
    const ptrdiff_t mydisp = NULL != displs ? displs[me] : (ptrdiff_t) me * rcount;
    coll_ivm_span_t in;
    coll_ivm_blocks_t b;
    int rc;

    rc = MPI_IN_PLACE == sbuf
             ? coll_ivm_span_in(coll_ivm_block(rbuf, rdtype, mydisp), (size_t) mycnt, rdtype, &in)
             : coll_ivm_span_in(sbuf, (size_t) scount, sdtype, &in);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (OMPI_SUCCESS != (rc = coll_ivm_blocks_init(&b, m->size))) {
        coll_ivm_span_free(&in);
        return rc;
    }
    for (int i = 0; i < m->size && OMPI_SUCCESS == rc; i++) {
        int cnt = NULL != rcounts ? rcounts[i] : rcount;
        ptrdiff_t disp = NULL != displs ? displs[i] : (ptrdiff_t) i * rcount;
        if (i != me) {
            rc = coll_ivm_blocks_add(&b, i, rbuf, cnt, disp, rdtype, i, 0);
        } else if (MPI_IN_PLACE != sbuf) {
            rc = coll_ivm_local_copy(sbuf, (size_t) scount, sdtype,
                                     coll_ivm_block(rbuf, rdtype, disp), (size_t) cnt, rdtype);
        }
    }
    bool done = false;
    if (OMPI_SUCCESS == rc && NULL == rcounts && in.len >= m->grp.geom.chunk) {
        /* every block has this size: all members ask alike */
        rc = coll_ivm_direct(&m->grp, in.ptr, 0, in.len, b.range, b.nrange, false, &done);
    }
    if (OMPI_SUCCESS == rc && !done) {
        coll_ivm_seg_t seg = {in.ptr, in.len};
        /* uniform: every member's stream is one block of in.len bytes */
        rc = NULL == rcounts && in.len <= COLL_IVM_SMALL_BYTES
                 ? coll_ivm_xfer_tiny(&m->grp, &seg, 1, b.range, b.nrange)
                 : coll_ivm_xfer(&m->grp, &seg, 1, b.range, b.nrange);
    }
    int rc2 = coll_ivm_blocks_finish(&b, OMPI_SUCCESS == rc, rbuf, rcounts, rcount, displs, rdtype);
    coll_ivm_span_free(&in);
    return OMPI_SUCCESS != rc ? rc : rc2;
}

/* Hierarchical allgather of @blk bytes per rank; @mine is my block,
 * @all receives every block in rank order (size * blk bytes). */
static int allgather_hier(mca_coll_ivm_module_t *m, const uint8_t *mine, size_t blk, uint8_t *all)
{
    coll_ivm_group_t *g = &m->grp;
    coll_ivm_glayout_t l;
    int rc = coll_ivm_glayout(m, blk, &l);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    uint8_t *vec = malloc(l.total); /* group-major order */
    if (NULL == vec) {
        coll_ivm_glayout_free(&l);
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    uint8_t *mygroup = vec + l.dsp[m->my_group];
    if (g->n > 1) {
        rc = coll_ivm_gather_group(g, mine, blk, mygroup);
    } else {
        memcpy(mygroup, mine, blk);
    }
    if (OMPI_SUCCESS == rc && NULL != m->leader_comm) {
        ompi_communicator_t *lc = m->leader_comm;
        rc = lc->c_coll->coll_allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, vec, l.cnt, l.dsp,
                                         MPI_BYTE, lc, lc->c_coll->coll_allgatherv_module);
    }
    if (OMPI_SUCCESS == rc && g->n > 1) {
        rc = coll_ivm_bcast_group(g, vec, l.total, 0);
    }
    for (int r = 0; OMPI_SUCCESS == rc && r < m->size; r++) {
        memcpy(all + r * blk, vec + coll_ivm_gpos(m, &l, r, blk), blk);
    }
    free(vec);
    coll_ivm_glayout_free(&l);
    return rc;
}

int mca_coll_ivm_allgather(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                           int rcount, struct ompi_datatype_t *rdtype,
                           struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    const int me = ompi_comm_rank(comm);
    size_t blk, total;

    if (!coll_ivm_use(m, COLL_IVM_ALLGATHER)) {
        return m->prev.allgather(sbuf, scount, sdtype, rbuf, rcount, rdtype, comm,
                                 m->prev.allgather_module);
    }
    /* rcount and rdtype give the same byte counts on every rank */
    if (rcount >= 0 && OMPI_SUCCESS == coll_ivm_bytes((size_t) rcount, rdtype, &blk)
        && coll_ivm_hand_over(COLL_IVM_ALLGATHER, blk, m->size)) {
        return m->prev.allgather(sbuf, scount, sdtype, rbuf, rcount, rdtype, comm,
                                 m->prev.allgather_module);
    }
    if (COLL_IVM_MODE_FLAT == m->mode) {
        return allgather_flat(m, sbuf, scount, sdtype, rbuf, NULL, rcount, NULL, rdtype);
    }
    if (rcount < 0 || OMPI_SUCCESS != coll_ivm_bytes((size_t) rcount, rdtype, &blk)
        || blk > INT_MAX / (size_t) m->size) {
        coll_ivm_count_fallback(COLL_IVM_ALLGATHER);
        return m->prev.allgather(sbuf, scount, sdtype, rbuf, rcount, rdtype, comm,
                                 m->prev.allgather_module);
    }
    total = blk * (size_t) m->size;
    if (0 == total) {
        return OMPI_SUCCESS;
    }
    coll_ivm_span_t in, out;
    int rc = coll_ivm_span_mine(sbuf, scount, sdtype, rbuf, rcount, rdtype, me, &in);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (in.len != blk) {
        coll_ivm_span_free(&in);
        return OMPI_ERR_BAD_PARAM;
    }
    /* copy my block first: with MPI_IN_PLACE it lives in rbuf */
    uint8_t *mine = malloc(blk);
    rc = NULL == mine ? OMPI_ERR_OUT_OF_RESOURCE
                      : coll_ivm_span_out(rbuf, (size_t) rcount * (size_t) m->size, rdtype, &out);
    if (OMPI_SUCCESS == rc) {
        memcpy(mine, in.ptr, blk);
        rc = allgather_hier(m, mine, blk, out.ptr);
        rc = OMPI_SUCCESS == rc
                 ? coll_ivm_span_commit(&out, rbuf, (size_t) rcount * (size_t) m->size, rdtype)
                 : (coll_ivm_span_free(&out), rc);
    }
    free(mine);
    coll_ivm_span_free(&in);
    return rc;
}

int mca_coll_ivm_allgatherv(const void *sbuf, int scount, struct ompi_datatype_t *sdtype,
                            void *rbuf, const int *rcounts, const int *displs,
                            struct ompi_datatype_t *rdtype, struct ompi_communicator_t *comm,
                            mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_ALLGATHERV)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return allgather_flat(m, sbuf, scount, sdtype, rbuf, rcounts, 0, displs, rdtype);
        }
        coll_ivm_count_fallback(COLL_IVM_ALLGATHERV);
    }
    return m->prev.allgatherv(sbuf, scount, sdtype, rbuf, rcounts, displs, rdtype, comm,
                              m->prev.allgatherv_module);
}
