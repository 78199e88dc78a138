/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Allreduce.
 *
 * Flat: the reduction engine (coll_ivm_reduce_engine.c).  Hierarchical:
 * reduce inside every group to its leader, then allreduce among the
 * leaders with the previous component, then broadcast inside every group.
 * What is handed to the previous component: coll_ivm_reduce_servable. */

#include "ompi_config.h"

#include "coll_ivm.h"

int mca_coll_ivm_allreduce(const void *sbuf, void *rbuf, int count, struct ompi_datatype_t *dtype,
                           struct ompi_op_t *op, struct ompi_communicator_t *comm,
                           mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    coll_ivm_group_t *g = &m->grp;
    size_t len;
    int rc = OMPI_SUCCESS;

    if (!coll_ivm_use(m, COLL_IVM_ALLREDUCE)) {
        return m->prev.allreduce(sbuf, rbuf, count, dtype, op, comm, m->prev.allreduce_module);
    }
    if (!coll_ivm_reduce_servable(m, count, dtype, op, &len)) {
        coll_ivm_count_fallback(COLL_IVM_ALLREDUCE);
        return m->prev.allreduce(sbuf, rbuf, count, dtype, op, comm, m->prev.allreduce_module);
    }
    if (coll_ivm_hand_over(COLL_IVM_ALLREDUCE, len, m->size)) {
        return m->prev.allreduce(sbuf, rbuf, count, dtype, op, comm, m->prev.allreduce_module);
    }
    if (0 == len) {
        return OMPI_SUCCESS;
    }
    const void *src = MPI_IN_PLACE == sbuf ? rbuf : sbuf;
    if (COLL_IVM_MODE_FLAT == m->mode) {
        return coll_ivm_reduce_group(g, src, rbuf, (size_t) count, dtype, op, -1);
    }
    /* hierarchical: the group's result lands in the leader's rbuf */
    if (g->n > 1) {
        rc = coll_ivm_reduce_group(g, src, rbuf, (size_t) count, dtype, op, 0);
    }
    if (OMPI_SUCCESS == rc && 0 == g->me) {
        ompi_communicator_t *lc = m->leader_comm;
        const void *sb = (g->n > 1 || src == rbuf) ? MPI_IN_PLACE : src;
        rc = lc->c_coll->coll_allreduce(sb, rbuf, count, dtype, op, lc,
                                        lc->c_coll->coll_allreduce_module);
    }
    if (OMPI_SUCCESS == rc && g->n > 1) {
        rc = coll_ivm_bcast_group(g, rbuf, len, 0);
    }
    return rc;
}
