/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Bcast.  Flat: the root's data streams through its channel buffers
 * and every other member copies it out in parallel, pipelined in chunks.
 * Hierarchical: inside the root's group to its leader, among the leaders
 * with the previous component, then inside every other group. */

#include "ompi_config.h"

#include <limits.h>

#include "coll_ivm.h"

static int bcast_hier(mca_coll_ivm_module_t *m, uint8_t *buf, size_t len, int root)
{
    coll_ivm_group_t *g = &m->grp;
    const int rg = m->group_of[root];
    int rc = OMPI_SUCCESS;

    if (m->my_group == rg && g->n > 1 && 0 != m->index_of[root]) {
        rc = coll_ivm_bcast_group(g, buf, len, m->index_of[root]);
    }
    if (OMPI_SUCCESS == rc && NULL != m->leader_comm) {
        ompi_communicator_t *lc = m->leader_comm;
        rc =
            lc->c_coll->coll_bcast(buf, (int) len, MPI_BYTE, rg, lc, lc->c_coll->coll_bcast_module);
    }
    /* every group whose leader got the data from the leaders' bcast */
    if (OMPI_SUCCESS == rc && g->n > 1 && (m->my_group != rg || 0 == m->index_of[root])) {
        rc = coll_ivm_bcast_group(g, buf, len, 0);
    }
    return rc;
}

int mca_coll_ivm_bcast(void *buf, int count, struct ompi_datatype_t *dtype, int root,
                       struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    const bool is_root = ompi_comm_rank(comm) == root;
    coll_ivm_span_t s;
    size_t len;
    int rc;

    if (!coll_ivm_use(m, COLL_IVM_BCAST)) {
        return m->prev.bcast(buf, count, dtype, root, comm, m->prev.bcast_module);
    }
    /* every rank has the same byte count: the decisions below agree */
    if (OMPI_SUCCESS != coll_ivm_bytes((size_t) count, dtype, &len)
        || (COLL_IVM_MODE_HIER == m->mode && len > INT_MAX)) {
        coll_ivm_count_fallback(COLL_IVM_BCAST);
        return m->prev.bcast(buf, count, dtype, root, comm, m->prev.bcast_module);
    }
    if (coll_ivm_hand_over(COLL_IVM_BCAST, len, m->size)) {
        return m->prev.bcast(buf, count, dtype, root, comm, m->prev.bcast_module);
    }
    if (0 == len) {
        return OMPI_SUCCESS;
    }
    rc = is_root ? coll_ivm_span_in(buf, (size_t) count, dtype, &s)
                 : coll_ivm_span_out(buf, (size_t) count, dtype, &s);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (COLL_IVM_MODE_FLAT == m->mode) {
        rc = coll_ivm_bcast_group(&m->grp, s.ptr, len, root);
    } else {
        rc = bcast_hier(m, s.ptr, len, root);
    }
    if (is_root) {
        coll_ivm_span_free(&s);
    } else if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_span_commit(&s, buf, (size_t) count, dtype);
    } else {
        coll_ivm_span_free(&s);
    }
    return rc;
}
