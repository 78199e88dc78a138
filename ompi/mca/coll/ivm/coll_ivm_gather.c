/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* MPI_Gather and MPI_Gatherv (flat mode): every rank streams its block
 * through its channel buffers, the root copies all of them out as they
 * come, pipelined.  In the hierarchical mode they go to the previous
 * component. */

#include "ompi_config.h"

#include "coll_ivm.h"

static int gather_flat(mca_coll_ivm_module_t *m, const void *sbuf, int scount,
                       struct ompi_datatype_t *sdtype, void *rbuf, const int *rcounts,
                       int rcount, const int *displs, struct ompi_datatype_t *rdtype, int root)
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
    int rc2 = coll_ivm_blocks_finish(&b, OMPI_SUCCESS == rc, rbuf, rcounts, rcount, displs,
                                     rdtype);
    return OMPI_SUCCESS != rc ? rc : rc2;
}

int mca_coll_ivm_gather(const void *sbuf, int scount, struct ompi_datatype_t *sdtype,
                        void *rbuf, int rcount, struct ompi_datatype_t *rdtype, int root,
                        struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_GATHER)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            return gather_flat(m, sbuf, scount, sdtype, rbuf, NULL, rcount, NULL, rdtype, root);
        }
        coll_ivm_count_fallback(COLL_IVM_GATHER);
    }
    return m->prev.gather(sbuf, scount, sdtype, rbuf, rcount, rdtype, root, comm,
                          m->prev.gather_module);
}

int mca_coll_ivm_gatherv(const void *sbuf, int scount, struct ompi_datatype_t *sdtype,
                         void *rbuf, const int *rcounts, const int *displs,
                         struct ompi_datatype_t *rdtype, int root,
                         struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
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
