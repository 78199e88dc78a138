/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Reduce.
 *
 * Flat: the reduction engine (coll_ivm_reduce_engine.c).  Hierarchical:
 * reduce inside every group to its leader, then reduce among the leaders
 * with the previous component, and when the root is not its group's
 * leader, hand the result from the leader to the root.  What is handed to
 * the previous component: coll_ivm_reduce_servable. */

#include "ompi_config.h"

#include <stdlib.h>

#include "coll_ivm.h"

/* Hierarchical reduce to @root. */
static int reduce_hier(mca_coll_ivm_module_t *m, const void *src, void *rbuf, int count, size_t len,
                       struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
{
    coll_ivm_group_t *g = &m->grp;
    const int me = ompi_comm_rank(m->comm), rg = m->group_of[root];
    const bool leader = 0 == g->me, leader_is_root = m->group_first[rg] == root;
    void *scratch = NULL, *res = NULL;
    const void *acc = src; /* what this leader contributes among the leaders */
    int rc = OMPI_SUCCESS;

    if (leader && (m->my_group == rg || g->n > 1)) {
        /* res: where the final result lands (root's group only); acc:
         * the group's partial result, computed in place in res if any */
        if (m->my_group == rg && leader_is_root) {
            res = rbuf;
        } else if (NULL == (scratch = malloc(len))) {
            return OMPI_ERR_OUT_OF_RESOURCE;
        } else if (m->my_group == rg) {
            res = scratch;
        }
        if (g->n > 1) {
            acc = NULL != res ? res : scratch;
        }
    }
    if (g->n > 1) {
        rc = coll_ivm_reduce_group(g, src, leader ? (void *) acc : rbuf, (size_t) count, dtype, op,
                                   0);
    }
    if (OMPI_SUCCESS == rc && leader) {
        ompi_communicator_t *lc = m->leader_comm;
        /* operand and result may be one buffer only through MPI_IN_PLACE */
        rc = lc->c_coll->coll_reduce(acc == res ? MPI_IN_PLACE : acc, res, count, dtype, op, rg, lc,
                                     lc->c_coll->coll_reduce_module);
    }
    if (OMPI_SUCCESS == rc && m->my_group == rg && !leader_is_root && g->n > 1) {
        /* hand the result from the leader (member 0) to the root */
        if (leader) {
            coll_ivm_seg_t seg = {res, len};
            rc = coll_ivm_xfer(g, &seg, 1, NULL, 0);
        } else if (me == root) {
            coll_ivm_range_t r = {0, 0, len, rbuf};
            rc = coll_ivm_xfer(g, NULL, 0, &r, 1);
        } else {
            rc = coll_ivm_xfer(g, NULL, 0, NULL, 0);
        }
    }
    free(scratch);
    return rc;
}

int mca_coll_ivm_reduce(const void *sbuf, void *rbuf, int count, struct ompi_datatype_t *dtype,
                        struct ompi_op_t *op, int root, struct ompi_communicator_t *comm,
                        mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    size_t len;

    if (!coll_ivm_use(m, COLL_IVM_REDUCE)) {
        return m->prev.reduce(sbuf, rbuf, count, dtype, op, root, comm, m->prev.reduce_module);
    }
    if (!coll_ivm_reduce_servable(m, count, dtype, op, &len)) {
        coll_ivm_count_fallback(COLL_IVM_REDUCE);
        return m->prev.reduce(sbuf, rbuf, count, dtype, op, root, comm, m->prev.reduce_module);
    }
    if (coll_ivm_hand_over(COLL_IVM_REDUCE, len, m->size)) {
        return m->prev.reduce(sbuf, rbuf, count, dtype, op, root, comm, m->prev.reduce_module);
    }
    if (0 == len) {
        return OMPI_SUCCESS;
    }
    const void *src = MPI_IN_PLACE == sbuf ? rbuf : sbuf;
    if (COLL_IVM_MODE_FLAT == m->mode) {
        return coll_ivm_reduce_group(&m->grp, src, rbuf, (size_t) count, dtype, op, root);
    }
    return reduce_hier(m, src, rbuf, count, len, dtype, op, root);
}
