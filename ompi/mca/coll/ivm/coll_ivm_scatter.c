/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Scatter and MPI_Scatterv (flat mode): the root streams every block
 * in rank order through its channel buffers and each rank copies out its
 * own range, pipelined.  For scatterv the ranks cannot know where their
 * block starts, so the root first publishes the offsets (one step of its
 * own); a rank validates the offset it reads like any value from the
 * region.
 *
 * Hierarchical (scatter): the root orders the blocks by group and hands
 * them to its group's leader if that is another rank; the leaders scatterv
 * (previous component) the groups' parts; every leader scatters its part
 * inside its group.  Scatterv in the hierarchical mode goes to the previous
 * component. */

#include "ompi_config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

static int root_side(mca_coll_ivm_module_t *m, const void *sbuf, const int *scounts, int scount,
                     const int *displs, struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                     struct ompi_datatype_t *rdtype, bool v)
{
    coll_ivm_group_t *g = &m->grp;
    const int n = m->size, me = ompi_comm_rank(m->comm);
    const bool small = n <= COLL_IVM_SMALL_N;
    coll_ivm_span_t span_small[COLL_IVM_SMALL_N];
    coll_ivm_seg_t seg_small[COLL_IVM_SMALL_N];
    uint64_t offset_small[COLL_IVM_SMALL_N], off = 0;
    coll_ivm_span_t *span = small ? span_small : calloc(n, sizeof(*span));
    coll_ivm_seg_t *seg = small ? seg_small : calloc(n, sizeof(*seg));
    uint64_t *offset = small ? offset_small : calloc(n, sizeof(*offset));
    int rc =
        (NULL == span || NULL == seg || NULL == offset) ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_SUCCESS;

    if (small) {
        memset(span, 0, n * sizeof(*span));
    }

    for (int j = 0; j < n && OMPI_SUCCESS == rc; j++) {
        int cnt = NULL != scounts ? scounts[j] : scount;
        ptrdiff_t disp = NULL != displs ? displs[j] : (ptrdiff_t) j * scount;
        rc = coll_ivm_span_in(coll_ivm_block(sbuf, sdtype, disp), (size_t) cnt, sdtype, &span[j]);
        seg[j] = (coll_ivm_seg_t){span[j].ptr, span[j].len};
        offset[j] = off;
        off += span[j].len;
        if (OMPI_SUCCESS == rc && j == me && MPI_IN_PLACE != rbuf) {
            rc = coll_ivm_local_copy(coll_ivm_block(sbuf, sdtype, disp), (size_t) cnt, sdtype, rbuf,
                                     (size_t) rcount, rdtype);
        }
    }
    if (OMPI_SUCCESS == rc && v) {
        coll_ivm_seg_t head = {(const uint8_t *) offset, n * sizeof(uint64_t)};
        rc = coll_ivm_xfer(g, &head, 1, NULL, 0);
    }
    if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_xfer(g, seg, n, NULL, 0);
    }
    for (int j = 0; NULL != span && j < n; j++) {
        coll_ivm_span_free(&span[j]);
    }
    if (!small) {
        free(span);
        free(seg);
        free(offset);
    }
    return rc;
}

static int scatter_flat(mca_coll_ivm_module_t *m, const void *sbuf, const int *scounts, int scount,
                        const int *displs, struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                        struct ompi_datatype_t *rdtype, int root, bool v)
{
    coll_ivm_group_t *g = &m->grp;
    const int me = ompi_comm_rank(m->comm);
    coll_ivm_span_t s;
    uint64_t off;
    int rc;

    if (me == root) {
        return root_side(m, sbuf, scounts, scount, displs, sdtype, rbuf, rcount, rdtype, v);
    }
    if (OMPI_SUCCESS != (rc = coll_ivm_span_out(rbuf, (size_t) rcount, rdtype, &s))) {
        return rc;
    }
    if (v) {
        uint64_t shared;
        coll_ivm_range_t head = {root, (uint64_t) me * sizeof(uint64_t), sizeof(uint64_t),
                                 (uint8_t *) &shared};
        rc = coll_ivm_xfer(g, NULL, 0, &head, 1);
        off = shared; /* untrusted: the engine range-checks it */
    } else {
        off = (uint64_t) me * s.len;
    }
    if (OMPI_SUCCESS == rc) {
        coll_ivm_range_t r = {root, off, s.len, s.ptr};
        rc = coll_ivm_xfer(g, NULL, 0, &r, 1);
    }
    if (OMPI_SUCCESS == rc) {
        return coll_ivm_span_commit(&s, rbuf, (size_t) rcount, rdtype);
    }
    coll_ivm_span_free(&s);
    return rc;
}

/* The hierarchical steps, on contiguous bytes: block r of @all (size *
 * blk bytes, rank order, at @root) to rank r's @mine. */
static int scatter_hier_bytes(mca_coll_ivm_module_t *m, const uint8_t *all, size_t blk,
                              uint8_t *mine, int root)
{
    coll_ivm_group_t *g = &m->grp;
    const int me = ompi_comm_rank(m->comm), rg = m->group_of[root];
    const bool leader = 0 == g->me, root_group = m->my_group == rg;
    uint8_t *vec = NULL, *part = NULL;
    coll_ivm_glayout_t l;
    int rc = coll_ivm_hier_buffers(m, blk, root, &l, &vec, &part);
    for (int r = 0; OMPI_SUCCESS == rc && me == root && r < m->size; r++) {
        memcpy(vec + coll_ivm_gpos(m, &l, r, blk), all + (size_t) r * blk, blk);
    }
    if (OMPI_SUCCESS == rc && root_group && m->group_first[rg] != root) {
        /* the root hands the vector to its group's leader */
        if (me == root) {
            coll_ivm_seg_t seg = {vec, l.total};
            rc = coll_ivm_xfer(g, &seg, 1, NULL, 0);
        } else if (leader) {
            coll_ivm_range_t r = {m->index_of[root], 0, l.total, vec};
            rc = coll_ivm_xfer(g, NULL, 0, &r, 1);
        } else {
            rc = coll_ivm_xfer(g, NULL, 0, NULL, 0);
        }
    }
    if (OMPI_SUCCESS == rc && leader) {
        ompi_communicator_t *lc = m->leader_comm;
        rc = lc->c_coll->coll_scatterv(vec, l.cnt, l.dsp, MPI_BYTE,
                                       root_group ? MPI_IN_PLACE : part, l.cnt[m->my_group],
                                       MPI_BYTE, rg, lc, lc->c_coll->coll_scatterv_module);
    }
    if (OMPI_SUCCESS == rc && g->n > 1) {
        rc = coll_ivm_scatter_group(g, part, blk, mine);
    } else if (OMPI_SUCCESS == rc) {
        memcpy(mine, part, blk);
    }
    coll_ivm_hier_buffers_free(&l, vec, part);
    return rc;
}

static int scatter_hier(mca_coll_ivm_module_t *m, const void *sbuf, int scount,
                        struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                        struct ompi_datatype_t *rdtype, int root, size_t blk)
{
    const int me = ompi_comm_rank(m->comm);
    coll_ivm_span_t in = {0}, out = {0};
    uint8_t *discard = NULL;
    int rc = OMPI_SUCCESS;

    if (me == root) {
        rc = coll_ivm_span_in(sbuf, (size_t) scount * (size_t) m->size, sdtype, &in);
    }
    if (OMPI_SUCCESS == rc && MPI_IN_PLACE == rbuf) {
        rc = NULL == (discard = malloc(blk)) ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_SUCCESS;
    } else if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_span_out(rbuf, (size_t) rcount, rdtype, &out);
    }
    if (OMPI_SUCCESS == rc) {
        rc = scatter_hier_bytes(m, in.ptr, blk, NULL != discard ? discard : out.ptr, root);
    }
    if (MPI_IN_PLACE != rbuf) {
        rc = OMPI_SUCCESS == rc ? coll_ivm_span_commit(&out, rbuf, (size_t) rcount, rdtype)
                                : (coll_ivm_span_free(&out), rc);
    }
    free(discard);
    coll_ivm_span_free(&in);
    return rc;
}

int mca_coll_ivm_scatter(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                         int rcount, struct ompi_datatype_t *rdtype, int root,
                         struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_SCATTER)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return scatter_flat(m, sbuf, NULL, scount, NULL, sdtype, rbuf, rcount, rdtype, root,
                                false);
        }
        /* the same block size on every rank (type signatures match) */
        size_t blk;
        int rc = ompi_comm_rank(comm) == root ? coll_ivm_bytes((size_t) scount, sdtype, &blk)
                                              : coll_ivm_bytes((size_t) rcount, rdtype, &blk);
        if (OMPI_SUCCESS == rc && blk <= (size_t) INT_MAX / (size_t) m->size) {
            return 0 == blk
                       ? OMPI_SUCCESS
                       : scatter_hier(m, sbuf, scount, sdtype, rbuf, rcount, rdtype, root, blk);
        }
        coll_ivm_count_fallback(COLL_IVM_SCATTER);
    }
    return m->prev.scatter(sbuf, scount, sdtype, rbuf, rcount, rdtype, root, comm,
                           m->prev.scatter_module);
}

int mca_coll_ivm_scatterv(const void *sbuf, const int *scounts, const int *displs,
                          struct ompi_datatype_t *sdtype, void *rbuf, int rcount,
                          struct ompi_datatype_t *rdtype, int root,
                          struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_SCATTERV)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return scatter_flat(m, sbuf, scounts, 0, displs, sdtype, rbuf, rcount, rdtype, root,
                                true);
        }
        coll_ivm_count_fallback(COLL_IVM_SCATTERV);
    }
    return m->prev.scatterv(sbuf, scounts, displs, sdtype, rbuf, rcount, rdtype, root, comm,
                            m->prev.scatterv_module);
}
