/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* MPI_Reduce and MPI_Allreduce.
 *
 * Flat: the reduction engine (coll_ivm_reduce.c).  Hierarchical: reduce
 * inside every group to its leader, then reduce/allreduce among the
 * leaders with the previous component, then (allreduce) broadcast inside
 * every group, or (reduce, root not a leader) hand the result from the
 * leader to the root.
 *
 * Handed to the previous component (a decision every rank makes alike,
 * since count, datatype and op are the same on all ranks): derived or
 * non-contiguous datatypes, and in the hierarchical mode non-commutative
 * operations when the groups are not blocks of consecutive ranks (the
 * order of the operands could not be kept) and vectors over INT_MAX
 * bytes. */

#include "ompi_config.h"

#include <limits.h>
#include <stdlib.h>

#include "ompi/op/op.h"

#include "coll_ivm.h"

static bool servable(mca_coll_ivm_module_t *m, int count, struct ompi_datatype_t *dtype,
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

/* Hierarchical reduce to @root. */
static int reduce_hier(mca_coll_ivm_module_t *m, const void *src, void *rbuf, int count,
                       size_t len, struct ompi_datatype_t *dtype, struct ompi_op_t *op, int root)
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
        rc = coll_ivm_reduce_group(g, src, leader ? (void *) acc : rbuf, (size_t) count, dtype,
                                   op, 0);
    }
    if (OMPI_SUCCESS == rc && leader) {
        ompi_communicator_t *lc = m->leader_comm;
        /* operand and result may be one buffer only through MPI_IN_PLACE */
        rc = lc->c_coll->coll_reduce(acc == res ? MPI_IN_PLACE : acc, res, count, dtype, op, rg,
                                     lc, lc->c_coll->coll_reduce_module);
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
    if (!servable(m, count, dtype, op, &len)) {
        coll_ivm_count_fallback(COLL_IVM_REDUCE);
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

int mca_coll_ivm_allreduce(const void *sbuf, void *rbuf, int count,
                           struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                           struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    coll_ivm_group_t *g = &m->grp;
    size_t len;
    int rc = OMPI_SUCCESS;

    if (!coll_ivm_use(m, COLL_IVM_ALLREDUCE)) {
        return m->prev.allreduce(sbuf, rbuf, count, dtype, op, comm, m->prev.allreduce_module);
    }
    if (!servable(m, count, dtype, op, &len)) {
        coll_ivm_count_fallback(COLL_IVM_ALLREDUCE);
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
