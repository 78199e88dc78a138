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

/* The module of a window osc/ivm took: made in select from the area the
 * query agreed on (osc_ivm_query.c), MPI_Win_shared_query, and
 * MPI_Win_free.  The area is freed by the last rank to leave it (attach
 * count in the area header), after a barrier in the region so that no
 * rank still accesses a segment. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "osc_ivm.h"

static const ompi_osc_base_module_t module_template = {
    .osc_win_shared_query = ompi_osc_ivm_shared_query,
    .osc_win_attach = ompi_osc_ivm_attach,
    .osc_win_detach = ompi_osc_ivm_detach,
    .osc_free = ompi_osc_ivm_free,
    .osc_put = ompi_osc_ivm_put,
    .osc_get = ompi_osc_ivm_get,
    .osc_accumulate = ompi_osc_ivm_accumulate,
    .osc_compare_and_swap = ompi_osc_ivm_compare_and_swap,
    .osc_fetch_and_op = ompi_osc_ivm_fetch_and_op,
    .osc_get_accumulate = ompi_osc_ivm_get_accumulate,
    .osc_rput = ompi_osc_ivm_rput,
    .osc_rget = ompi_osc_ivm_rget,
    .osc_raccumulate = ompi_osc_ivm_raccumulate,
    .osc_rget_accumulate = ompi_osc_ivm_rget_accumulate,
    .osc_fence = ompi_osc_ivm_fence,
    .osc_start = ompi_osc_ivm_start,
    .osc_complete = ompi_osc_ivm_complete,
    .osc_post = ompi_osc_ivm_post,
    .osc_wait = ompi_osc_ivm_wait,
    .osc_test = ompi_osc_ivm_test,
    .osc_lock = ompi_osc_ivm_lock,
    .osc_unlock = ompi_osc_ivm_unlock,
    .osc_lock_all = ompi_osc_ivm_lock_all,
    .osc_unlock_all = ompi_osc_ivm_unlock_all,
    .osc_sync = ompi_osc_ivm_sync,
    .osc_flush = ompi_osc_ivm_flush,
    .osc_flush_all = ompi_osc_ivm_flush_all,
    .osc_flush_local = ompi_osc_ivm_flush_local,
    .osc_flush_local_all = ompi_osc_ivm_flush_local_all,
};

static void module_free_local(ompi_osc_ivm_module_t *m)
{
    free(m->peer);
    free(m->posts_seen);
    free(m->lock_state);
    free(m->start_ranks);
    free(m);
}

int mca_osc_ivm_select(struct ompi_win_t *win, void **base, size_t size, int disp_unit,
                       struct ompi_communicator_t *comm, struct opal_info_t *info, int flavor,
                       int *model)
{
    osc_ivm_pending_t *p = &mca_osc_ivm_component.pending;
    ompi_osc_ivm_module_t *m;
    (void) size;
    (void) disp_unit;
    (void) info;

    /* only ever called right after our query accepted this window */
    if (p->win != win || NULL == p->area || p->n != ompi_comm_size(comm)) {
        return OMPI_ERROR;
    }
    m = calloc(1, sizeof(*m));
    if (NULL == m) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    m->super = module_template;
    m->posts_seen = calloc(p->n, sizeof(uint32_t));
    m->lock_state = calloc(p->n, 1);
    m->start_ranks = calloc(p->n, sizeof(int));
    if (NULL == m->posts_seen || NULL == m->lock_state || NULL == m->start_ranks) {
        module_free_local(m);
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    m->dev = mca_common_ivm_device_get(0);
    m->n = p->n;
    m->me = p->me;
    m->flavor = flavor;
    m->area = p->area;
    m->area_off = p->area_off;
    m->geom = p->geom;
    m->peer = p->peer; /* the module owns the area and the peer table now */
    m->npost = -1;
    p->peer = NULL;
    p->owner = false;
    p->area_off = 0;
    mca_osc_ivm_pending_release();

    if (MPI_WIN_FLAVOR_CREATE != flavor) {
        *base = m->peer[m->me].base;
    }
    win->w_osc_module = &m->super;
    *model = MPI_WIN_UNIFIED;
    mca_osc_ivm_component.counters->windows++;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_shared_query(struct ompi_win_t *win, int rank, size_t *size, int *disp_unit,
                              void *baseptr)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    int r = rank;

    if (MPI_PROC_NULL == rank) {
        /* the first rank whose segment is not empty */
        for (r = 0; r < m->n && 0 == m->peer[r].size; r++) {
        }
        if (r == m->n) {
            *size = 0;
            *disp_unit = 0;
            *(void **) baseptr = NULL;
            return OMPI_SUCCESS;
        }
    } else if (rank < 0 || rank >= m->n) {
        return OMPI_ERR_BAD_PARAM;
    }
    /* every segment lies in the region, so every flavor can answer:
     * the pointer is the segment in this process's own mapping */
    *size = m->peer[r].size;
    *disp_unit = m->peer[r].disp_unit;
    *(void **) baseptr = m->peer[r].base;
    return OMPI_SUCCESS;
}

int ompi_osc_ivm_attach(struct ompi_win_t *win, void *base, size_t len)
{
    (void) win;
    (void) base;
    (void) len;
    return OMPI_ERR_NOT_SUPPORTED; /* dynamic windows are declined in query */
}

int ompi_osc_ivm_detach(struct ompi_win_t *win, const void *base)
{
    (void) win;
    (void) base;
    return OMPI_ERR_NOT_SUPPORTED;
}

static void release_area(ompi_osc_ivm_module_t *m)
{
    struct osc_ivm_win_hdr *hdr = (struct osc_ivm_win_hdr *) m->area;
    /* acq_rel: our accesses to the area happen before the last rank frees it */
    int64_t before = atomic_fetch_sub_explicit(&hdr->attached, 1, memory_order_acq_rel);

    if (1 == before) {
        if (IVM_OK != ivm_heap_free(&m->dev->heap, m->area_off)) {
            OSC_IVM_VERBOSE(1, "osc:ivm: freeing a window's area failed: %s",
                            m->dev->region.errmsg);
        }
    } else if (before < 1 || before > m->n) {
        /* damaged count: leak the area (reclaimed with the job) rather
         * than free it twice */
        OSC_IVM_VERBOSE(1, "osc:ivm: window area at %llu has attach count %lld; not freed",
                        (unsigned long long) m->area_off, (long long) before);
    }
}

int ompi_osc_ivm_free(struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    int rc = OMPI_SUCCESS;

    if (NULL == m) {
        return OMPI_SUCCESS;
    }
    /* MPI_Win_free is collective: nobody may still access our segment */
    if (!m->broken) {
        rc = osc_ivm_barrier(m, "MPI_Win_free");
    }
    release_area(m);
    module_free_local(m);
    win->w_osc_module = NULL;
    return rc;
}
