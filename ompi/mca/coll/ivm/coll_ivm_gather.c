/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Gather and MPI_Gatherv.
 *
 * Flat: every rank streams its block through its channel buffers, the root
 * copies all of them out as they come, pipelined.  Hierarchical (gather):
 * every group gathers to its leader, the leaders gatherv (previous
 * component) to the leader of the root's group, which hands the whole
 * vector to the root if that is another rank; the root puts the blocks in
 * rank order.  Gatherv in the hierarchical mode goes to the previous
 * component. */

#include "ompi_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

static int gather_flat(mca_coll_ivm_module_t *m, const void *sbuf, int scount,
                       struct ompi_datatype_t *sdtype, void *rbuf, const int *rcounts, int rcount,
                       const int *displs, struct ompi_datatype_t *rdtype, int root)
{
    coll_ivm_group_t *g = &m->grp;
    const int me = ompi_comm_rank(m->comm);
    int rc;

    if (me != root) {
        coll_ivm_span_t in;
        rc = coll_ivm_span_in(sbuf, (size_t) scount, sdtype, &in);
        if (OMPI_SUCCESS == rc) {
            coll_ivm_seg_t seg = {in.ptr, in.len};
            rc = coll_ivm_xfer(g, &seg, 1, NULL, 0);
            coll_ivm_span_free(&in);
        }
        return rc;
    }
    coll_ivm_blocks_t b;
    if (OMPI_SUCCESS != (rc = coll_ivm_blocks_init(&b, m->size))) {
        return rc;
    }
    for (int i = 0; i < m->size && OMPI_SUCCESS == rc; i++) {
        int cnt = NULL != rcounts ? rcounts[i] : rcount;
        ptrdiff_t disp = NULL != displs ? displs[i] : (ptrdiff_t) i * rcount;
        if (i == me) {
            if (MPI_IN_PLACE != sbuf) {
                rc = coll_ivm_local_copy(sbuf, (size_t) scount, sdtype,
                                         coll_ivm_block(rbuf, rdtype, disp), (size_t) cnt, rdtype);
            }
            continue;
        }
        rc = coll_ivm_blocks_add(&b, i, rbuf, cnt, disp, rdtype, i, 0);
    }
    if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_xfer(g, NULL, 0, b.range, b.nrange);
    }
    int rc2 = coll_ivm_blocks_finish(&b, OMPI_SUCCESS == rc, rbuf, rcounts, rcount, displs, rdtype);
    return OMPI_SUCCESS != rc ? rc : rc2;
}

/* The hierarchical steps, on contiguous bytes: @mine (blk bytes) from
 * every rank to @all (size * blk bytes, rank order) at @root. */
static int gather_hier_bytes(mca_coll_ivm_module_t *m, const uint8_t *mine, size_t blk,
                             uint8_t *all, int root)
{
    coll_ivm_group_t *g = &m->grp;
    const int me = ompi_comm_rank(m->comm), rg = m->group_of[root];
    const bool leader = 0 == g->me, root_group = m->my_group == rg;
    uint8_t *vec = NULL, *part = NULL;
    coll_ivm_glayout_t l;
    int rc = coll_ivm_hier_buffers(m, blk, root, &l, &vec, &part);
    if (OMPI_SUCCESS == rc && g->n > 1) {
        rc = coll_ivm_gather_group(g, mine, blk, part);
    } else if (OMPI_SUCCESS == rc) {
        memcpy(part, mine, blk);
    }
    if (OMPI_SUCCESS == rc && leader) {
        ompi_communicator_t *lc = m->leader_comm;
        rc = lc->c_coll->coll_gatherv(root_group ? MPI_IN_PLACE : part, l.cnt[m->my_group],
                                      MPI_BYTE, vec, l.cnt, l.dsp, MPI_BYTE, rg, lc,
                                      lc->c_coll->coll_gatherv_module);
    }
    if (OMPI_SUCCESS == rc && root_group && m->group_first[rg] != root) {
        /* the leader of the root's group hands the vector to the root */
        if (leader) {
            coll_ivm_seg_t seg = {vec, l.total};
            rc = coll_ivm_xfer(g, &seg, 1, NULL, 0);
        } else if (me == root) {
            coll_ivm_range_t r = {0, 0, l.total, vec};
            rc = coll_ivm_xfer(g, NULL, 0, &r, 1);
        } else {
            rc = coll_ivm_xfer(g, NULL, 0, NULL, 0);
        }
    }
    for (int r = 0; OMPI_SUCCESS == rc && me == root && r < m->size; r++) {
        memcpy(all + (size_t) r * blk, vec + coll_ivm_gpos(m, &l, r, blk), blk);
    }
    coll_ivm_hier_buffers_free(&l, vec, part);
    return rc;
}

static int gather_hier(mca_coll_ivm_module_t *m, const void *sbuf, int scount,
                       struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                       struct ompi_datatype_t *rdtype, int root)
{
    const int me = ompi_comm_rank(m->comm);
    coll_ivm_span_t in, out = {0};
    int rc = coll_ivm_span_mine(sbuf, scount, sdtype, rbuf, rcount, rdtype, me, &in);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (me == root) {
        rc = coll_ivm_span_out(rbuf, (size_t) rcount * (size_t) m->size, rdtype, &out);
    }
    if (OMPI_SUCCESS == rc) {
        rc = gather_hier_bytes(m, in.ptr, in.len, out.ptr, root);
    }
    if (me == root) {
        rc = OMPI_SUCCESS == rc
                 ? coll_ivm_span_commit(&out, rbuf, (size_t) rcount * (size_t) m->size, rdtype)
                 : (coll_ivm_span_free(&out), rc);
    }
    coll_ivm_span_free(&in);
    return rc;
}

int mca_coll_ivm_gather(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                        int rcount, struct ompi_datatype_t *rdtype, int root,
                        struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_GATHER)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return gather_flat(m, sbuf, scount, sdtype, rbuf, NULL, rcount, NULL, rdtype, root);
        }
        /* the same block size on every rank (type signatures match) */
        size_t blk;
        int rc = ompi_comm_rank(comm) == root ? coll_ivm_bytes((size_t) rcount, rdtype, &blk)
                                              : coll_ivm_bytes((size_t) scount, sdtype, &blk);
        if (OMPI_SUCCESS == rc && blk <= (size_t) INT_MAX / (size_t) m->size) {
            return 0 == blk ? OMPI_SUCCESS
                            : gather_hier(m, sbuf, scount, sdtype, rbuf, rcount, rdtype, root);
        }
        coll_ivm_count_fallback(COLL_IVM_GATHER);
    }
    return m->prev.gather(sbuf, scount, sdtype, rbuf, rcount, rdtype, root, comm,
                          m->prev.gather_module);
}

int mca_coll_ivm_gatherv(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                         const int *rcounts, const int *displs, struct ompi_datatype_t *rdtype,
                         int root, struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_GATHERV)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return gather_flat(m, sbuf, scount, sdtype, rbuf, rcounts, 0, displs, rdtype, root);
        }
        coll_ivm_count_fallback(COLL_IVM_GATHERV);
    }
    return m->prev.gatherv(sbuf, scount, sdtype, rbuf, rcounts, displs, rdtype, root, comm,
                           m->prev.gatherv_module);
}
