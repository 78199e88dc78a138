/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Barrier.  Flat, up to coll_ivm_barrier_all_max members: one small
 * step, every member polls every other member's slot (one cache line
 * crossing on the critical path).  Larger groups: fan-in over a tree in
 * the group's area, fan-out by one release word.  Hierarchical: fan-in in
 * every group, a barrier among the leaders (previous component, over the
 * network), then fan-out.
 *
 * MPI does not say that a barrier delivers messages sent before it, but a
 * barrier over the pml does (its messages queue behind them), and Open MPI
 * relies on it: osc/pt2pt's MPI_Win_free frees the buffers of its posted
 * receives right after one.  A barrier in the region would overtake
 * messages still queued in btl/ivm, or in vader from a peer of our VM, so
 * it ends by draining every BTL (coll_ivm_drain_btl).  Not covered: sends
 * a peer still holds back because our ring (or vader's FIFO) is full. */

#include "ompi_config.h"

#include "coll_ivm.h"

int mca_coll_ivm_barrier(struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    coll_ivm_group_t *g = &m->grp;
    int rc = OMPI_SUCCESS;

    if (!coll_ivm_use(m, COLL_IVM_BARRIER)) {
        return m->prev.barrier(comm, m->prev.barrier_module);
    }
    if (NULL != g->dev) {
        mca_coll_ivm_component.counters->heap_in_use = ivm_heap_in_use(&g->dev->heap);
    }
    if (g->n < 2) { /* a group of one: only the leaders' barrier */
        return m->leader_comm->c_coll->coll_barrier(m->leader_comm,
                                                    m->leader_comm->c_coll->coll_barrier_module);
    }
    coll_ivm_drain_btl(); /* posts our own queued sends too, where room allows */
    if (COLL_IVM_MODE_FLAT == m->mode
        && (unsigned) g->n <= mca_coll_ivm_component.barrier_all_max) {
        uint64_t step;
        rc = coll_ivm_small_exchange(g, NULL, 0, &step);
        if (OMPI_SUCCESS == rc) {
            coll_ivm_drain_btl();
        }
        return rc;
    }
    const uint64_t seq = ++g->seq;
    rc = coll_ivm_fanin(g, seq);
    if (OMPI_SUCCESS == rc && NULL != m->leader_comm) {
        rc = m->leader_comm->c_coll->coll_barrier(m->leader_comm,
                                                  m->leader_comm->c_coll->coll_barrier_module);
    }
    if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_fanout(g, seq);
    }
    if (OMPI_SUCCESS == rc) {
        coll_ivm_drain_btl();
    }
    return rc;
}
