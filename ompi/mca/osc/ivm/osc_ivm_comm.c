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

/* Put and get: the origin copies between its buffer and the target's
 * segment, which it has mapped (the region), with Open MPI's datatype
 * engine for non-contiguous layouts.  The target process takes no part;
 * the operation is complete when the call returns, so the request forms
 * return an already completed request. */

#include "ompi_config.h"

#include <string.h>

#include "ompi/request/request.h"

#include "osc_ivm.h"

uint8_t *osc_ivm_target_ptr(ompi_osc_ivm_module_t *m, int target, ptrdiff_t disp,
                            struct ompi_datatype_t *dt, int count)
{
    if (OPAL_UNLIKELY(target < 0 || target >= m->n || count < 0 || disp < 0)) {
        return NULL;
    }
    const osc_ivm_peer_t *p = &m->peer[target];
    uint64_t at = (uint64_t) disp * (uint64_t) p->disp_unit;
    if (count > 0) {
        ptrdiff_t lb, extent, true_lb, true_extent;
        ompi_datatype_get_extent(dt, &lb, &extent);
        ompi_datatype_get_true_extent(dt, &true_lb, &true_extent);
        /* the bytes the datatype touches: [at + true_lb, at + true_lb
         * + (count - 1) * extent + true_extent) */
        int64_t first = (int64_t) at + true_lb;
        int64_t end = first + (int64_t) (count - 1) * extent + true_extent;
        if (OPAL_UNLIKELY(first < 0 || end < first || (uint64_t) end > p->size)) {
            return NULL;
        }
    } else {
        /* nothing is accessed: any valid address will do, even for an
         * empty segment without one */
        static uint8_t nothing;
        return NULL != p->base && at <= p->size ? p->base + at : &nothing;
    }
    return p->base + at;
}

/* Copy @count of @sdt at @src into @rcount of @rdt at @dst; contiguous
 * layouts of the same size are one memcpy. */
static int copy(const void *src, int scount, struct ompi_datatype_t *sdt, void *dst, int rcount,
                struct ompi_datatype_t *rdt)
{
    size_t ssize, rsize;
    ompi_datatype_type_size(sdt, &ssize);
    ompi_datatype_type_size(rdt, &rsize);
    if (ompi_datatype_is_contiguous_memory_layout(sdt, scount)
        && ompi_datatype_is_contiguous_memory_layout(rdt, rcount)
        && ssize * scount == rsize * rcount) {
        ptrdiff_t slb, sext, rlb, rext;
        ompi_datatype_get_true_extent(sdt, &slb, &sext);
        ompi_datatype_get_true_extent(rdt, &rlb, &rext);
        memcpy((char *) dst + rlb, (const char *) src + slb, ssize * scount);
        return OMPI_SUCCESS;
    }
    return ompi_datatype_sndrcv((void *) src, scount, sdt, dst, rcount, rdt);
}

/* A put (into the target) or a get (out of it): the target's bytes, checked
 * against its segment, then counted and copied in the operation's direction. */
static int transfer(int kind, void *origin_addr, int origin_count,
                    struct ompi_datatype_t *origin_dt, int target, ptrdiff_t target_disp,
                    int target_count, struct ompi_datatype_t *target_dt, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    uint8_t *t = osc_ivm_target_ptr(m, target, target_disp, target_dt, target_count);
    size_t size;

    if (OPAL_UNLIKELY(NULL == t)) {
        return OMPI_ERR_RMA_RANGE;
    }
    ompi_datatype_type_size(target_dt, &size);
    osc_ivm_count(kind, size * target_count);
    if (OSC_IVM_PUT == kind) {
        return copy(origin_addr, origin_count, origin_dt, t, target_count, target_dt);
    }
    return copy(t, target_count, target_dt, origin_addr, origin_count, origin_dt);
}

int ompi_osc_ivm_put(const void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                     int target, ptrdiff_t target_disp, int target_count,
                     struct ompi_datatype_t *target_dt, struct ompi_win_t *win)
{
    /* the origin is only read (copy's source) */
    return transfer(OSC_IVM_PUT, (void *) origin_addr, origin_count, origin_dt, target, target_disp,
                    target_count, target_dt, win);
}

int ompi_osc_ivm_get(void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                     int target, ptrdiff_t target_disp, int target_count,
                     struct ompi_datatype_t *target_dt, struct ompi_win_t *win)
{
    return transfer(OSC_IVM_GET, origin_addr, origin_count, origin_dt, target, target_disp,
                    target_count, target_dt, win);
}

int ompi_osc_ivm_rput(const void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                      int target, ptrdiff_t target_disp, int target_count,
                      struct ompi_datatype_t *target_dt, struct ompi_win_t *win,
                      struct ompi_request_t **request)
{
    int rc = ompi_osc_ivm_put(origin_addr, origin_count, origin_dt, target, target_disp,
                              target_count, target_dt, win);
    /* done already: the completed empty request (an RMA request's status
     * only carries MPI_ERROR) */
    *request = &ompi_request_empty;
    return rc;
}

int ompi_osc_ivm_rget(void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                      int target, ptrdiff_t target_disp, int target_count,
                      struct ompi_datatype_t *target_dt, struct ompi_win_t *win,
                      struct ompi_request_t **request)
{
    int rc = ompi_osc_ivm_get(origin_addr, origin_count, origin_dt, target, target_disp,
                              target_count, target_dt, win);
    *request = &ompi_request_empty;
    return rc;
}
