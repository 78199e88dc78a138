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

/* Accumulate, get_accumulate, fetch_and_op and compare_and_swap, done by
 * the origin on the target's segment in the region.
 *
 * Atomicity.  MPI makes accumulates to the same location with the same
 * basic datatype atomic with respect to each other.  Which way an element
 * is updated therefore depends only on its basic type and address, never
 * on the operation or count, so that every origin updating it agrees:
 *  - elements of 1, 2, 4 or 8 bytes at a naturally aligned address are
 *    updated one by one with CPU atomics (exchange for MPI_REPLACE, a load
 *    for MPI_NO_OP, fetch_add for MPI_SUM on integers, otherwise a
 *    compare-and-swap loop around the predefined operation);
 *  - all other elements (long double, the pair types of MINLOC/MAXLOC
 *    wider than 8 bytes, unaligned data) are updated under the target's
 *    accumulate lock, with Open MPI's datatype and op helpers.
 * Each element is done when the call returns, in program order, so every
 * accumulate_ordering is honoured and the info keys same_op and
 * same_op_no_op need no special path. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/datatype/opal_convertor.h"
#include "ompi/mca/osc/base/osc_base_obj_convert.h"
#include "ompi/op/op.h"
#include "ompi/request/request.h"

#include "osc_ivm.h"

static bool is_integer(struct ompi_datatype_t *dt)
{
    return dt == MPI_INT || dt == MPI_UNSIGNED || dt == MPI_LONG || dt == MPI_UNSIGNED_LONG
           || dt == MPI_LONG_LONG || dt == MPI_UNSIGNED_LONG_LONG || dt == MPI_INT32_T
           || dt == MPI_UINT32_T || dt == MPI_INT64_T || dt == MPI_UINT64_T || dt == MPI_AINT
           || dt == MPI_SHORT || dt == MPI_UNSIGNED_SHORT || dt == MPI_INT16_T || dt == MPI_UINT16_T
           || dt == MPI_INT8_T || dt == MPI_UINT8_T || dt == MPI_CHAR || dt == MPI_SIGNED_CHAR
           || dt == MPI_UNSIGNED_CHAR || dt == MPI_BYTE;
}

/* One element of @size bytes at @t: old value into @old (may be NULL),
 * then t = t op in.  @t is naturally aligned. */
#define ELEM_ATOMIC(type)                                                                    \
    do {                                                                                     \
        _Atomic type *p = (_Atomic type *) t;                                                \
        type o, v;                                                                           \
        memcpy(&v, in, sizeof(type));                                                        \
        if (&ompi_mpi_op_replace.op == op) {                                                 \
            o = atomic_exchange_explicit(p, v, memory_order_acq_rel);                        \
        } else if (&ompi_mpi_op_no_op.op == op) {                                            \
            o = atomic_load_explicit(p, memory_order_acquire);                               \
        } else if (&ompi_mpi_op_sum.op == op && integer) {                                   \
            o = atomic_fetch_add_explicit(p, v, memory_order_acq_rel);                       \
        } else {                                                                             \
            o = atomic_load_explicit(p, memory_order_relaxed);                               \
            type nv;                                                                         \
            do {                                                                             \
                nv = o;                                                                      \
                ompi_op_reduce(op, (void *) in, &nv, 1, prim);                               \
            } while (!atomic_compare_exchange_weak_explicit(p, &o, nv, memory_order_acq_rel, \
                                                            memory_order_relaxed));          \
        }                                                                                    \
        if (NULL != old) {                                                                   \
            memcpy(old, &o, sizeof(type));                                                   \
        }                                                                                    \
    } while (0)

/* acq_rel on every update: an accumulate is also a synchronisation point
 * for the (get_)accumulates of other origins on the same element */
static void elem_update(uint8_t *t, const uint8_t *in, uint8_t *old, struct ompi_op_t *op,
                        struct ompi_datatype_t *prim, size_t size, bool integer)
{
    switch (size) {
    case 1: ELEM_ATOMIC(uint8_t); break;
    case 2: ELEM_ATOMIC(uint16_t); break;
    case 4: ELEM_ATOMIC(uint32_t); break;
    default: ELEM_ATOMIC(uint64_t); break;
    }
}

/* ---- the target's layout, segment by segment ---- */

typedef struct {
    struct ompi_op_t *op;
    struct ompi_datatype_t *prim;
    size_t esize;
    bool integer;
    const uint8_t *in; /* origin elements, packed (NULL for MPI_NO_OP) */
    uint8_t *old;      /* old values, packed (NULL: not wanted) */
    size_t done;       /* elements processed */
    bool aligned;      /* alignment pass: every segment aligned */
} acc_walk_t;

typedef void (*segment_fn)(acc_walk_t *w, uint8_t *addr, size_t len);

static void seg_check(acc_walk_t *w, uint8_t *addr, size_t len)
{
    if (0 != ((uintptr_t) addr % w->esize) || 0 != len % w->esize) {
        w->aligned = false;
    }
}

static void seg_update(acc_walk_t *w, uint8_t *addr, size_t len)
{
    static const uint8_t zero[8];
    for (size_t k = 0; k < len; k += w->esize, w->done++) {
        const uint8_t *in = NULL != w->in ? w->in + w->done * w->esize : zero;
        uint8_t *old = NULL != w->old ? w->old + w->done * w->esize : NULL;
        elem_update(addr + k, in, old, w->op, w->prim, w->esize, w->integer);
    }
}

static int walk(struct ompi_datatype_t *dt, int count, uint8_t *buf, segment_fn fn, acc_walk_t *w)
{
    if (ompi_datatype_is_contiguous_memory_layout(dt, count)) {
        ptrdiff_t lb, extent;
        size_t size;
        ompi_datatype_get_true_extent(dt, &lb, &extent);
        ompi_datatype_type_size(dt, &size);
        fn(w, buf + lb, size * count);
        return OMPI_SUCCESS;
    }
    opal_convertor_t conv;
    struct iovec iov[16];
    int32_t done = 0;
    OBJ_CONSTRUCT(&conv, opal_convertor_t);
    int rc = opal_convertor_copy_and_prepare_for_send(ompi_mpi_local_convertor, &dt->super, count,
                                                      buf, 0, &conv);
    while (OPAL_SUCCESS == rc && !done) {
        uint32_t n = 16;
        size_t len = 0;
        done = opal_convertor_raw(&conv, iov, &n, &len);
        for (uint32_t i = 0; i < n; i++) {
            fn(w, iov[i].iov_base, iov[i].iov_len);
        }
    }
    OBJ_DESTRUCT(&conv);
    return rc;
}

/* ---- the two ways ---- */

typedef struct {
    const void *origin;
    int ocount;
    struct ompi_datatype_t *odt;
    void *result;
    int rcount;
    struct ompi_datatype_t *rdt;
    uint8_t *t;
    int tcount;
    struct ompi_datatype_t *tdt;
    struct ompi_op_t *op;
} acc_args_t;

static int acc_locked(ompi_osc_ivm_module_t *m, int target, const acc_args_t *a)
{
    int rc = osc_ivm_acc_lock(m, target);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (NULL != a->result) {
        rc = ompi_datatype_sndrcv(a->t, a->tcount, a->tdt, a->result, a->rcount, a->rdt);
    }
    if (OMPI_SUCCESS == rc && &ompi_mpi_op_no_op.op != a->op) {
        if (&ompi_mpi_op_replace.op == a->op) {
            rc = ompi_datatype_sndrcv(a->origin, a->ocount, a->odt, a->t, a->tcount, a->tdt);
        } else {
            rc = ompi_osc_base_sndrcv_op(a->origin, a->ocount, a->odt, a->t, a->tcount, a->tdt,
                                         a->op);
        }
    }
    osc_ivm_acc_unlock(m, target);
    return rc;
}

static int acc_atomic(acc_walk_t *w, const acc_args_t *a, size_t nelem)
{
    const size_t bytes = nelem * w->esize;
    uint8_t *in_buf = NULL, *old_buf = NULL;
    int rc = OMPI_SUCCESS;

    if (&ompi_mpi_op_no_op.op != a->op) {
        in_buf = malloc(bytes);
        if (NULL == in_buf) {
            return OMPI_ERR_OUT_OF_RESOURCE;
        }
        rc = ompi_datatype_sndrcv(a->origin, a->ocount, a->odt, in_buf, (int) nelem, w->prim);
        w->in = in_buf;
    }
    if (OMPI_SUCCESS == rc && NULL != a->result) {
        old_buf = malloc(bytes);
        rc = NULL == old_buf ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_SUCCESS;
        w->old = old_buf;
    }
    if (OMPI_SUCCESS == rc) {
        rc = walk(a->tdt, a->tcount, a->t, seg_update, w);
    }
    if (OMPI_SUCCESS == rc && NULL != old_buf) {
        rc = ompi_datatype_sndrcv(old_buf, (int) nelem, w->prim, a->result, a->rcount, a->rdt);
    }
    free(in_buf);
    free(old_buf);
    return rc;
}

static int accumulate(ompi_osc_ivm_module_t *m, int target, ptrdiff_t disp, acc_args_t *a, int kind)
{
    struct ompi_datatype_t *prim;
    uint32_t pcount;
    size_t esize;

    a->t = osc_ivm_target_ptr(m, target, disp, a->tdt, a->tcount);
    if (OPAL_UNLIKELY(NULL == a->t)) {
        return OMPI_ERR_RMA_RANGE;
    }
    if (0 == a->tcount) {
        return OMPI_SUCCESS;
    }
    int rc = ompi_osc_base_get_primitive_type_info(a->tdt, &prim, &pcount);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    ompi_datatype_type_size(prim, &esize);
    const size_t nelem = (size_t) pcount * a->tcount;
    osc_ivm_count(kind, nelem * esize);
    acc_walk_t w = {.op = a->op,
                    .prim = prim,
                    .esize = esize,
                    .integer = is_integer(prim),
                    .aligned = 1 == esize || 2 == esize || 4 == esize || 8 == esize};
    if (w.aligned) {
        (void) walk(a->tdt, a->tcount, a->t, seg_check, &w);
    }
    return w.aligned ? acc_atomic(&w, a, nelem) : acc_locked(m, target, a);
}

int ompi_osc_ivm_accumulate(const void *origin_addr, int origin_count,
                            struct ompi_datatype_t *origin_dt, int target, ptrdiff_t target_disp,
                            int target_count, struct ompi_datatype_t *target_dt,
                            struct ompi_op_t *op, struct ompi_win_t *win)
{
    acc_args_t a = {.origin = origin_addr,
                    .ocount = origin_count,
                    .odt = origin_dt,
                    .tcount = target_count,
                    .tdt = target_dt,
                    .op = op};
    return accumulate(osc_ivm_module(win), target, target_disp, &a, OSC_IVM_ACC);
}

int ompi_osc_ivm_raccumulate(const void *origin_addr, int origin_count,
                             struct ompi_datatype_t *origin_dt, int target, ptrdiff_t target_disp,
                             int target_count, struct ompi_datatype_t *target_dt,
                             struct ompi_op_t *op, struct ompi_win_t *win,
                             struct ompi_request_t **request)
{
    int rc = ompi_osc_ivm_accumulate(origin_addr, origin_count, origin_dt, target, target_disp,
                                     target_count, target_dt, op, win);
    *request = &ompi_request_empty; /* complete already */
    return rc;
}

int ompi_osc_ivm_get_accumulate(const void *origin_addr, int origin_count,
                                struct ompi_datatype_t *origin_dt, void *result_addr,
                                int result_count, struct ompi_datatype_t *result_dt, int target,
                                ptrdiff_t target_disp, int target_count,
                                struct ompi_datatype_t *target_dt, struct ompi_op_t *op,
                                struct ompi_win_t *win)
{
    acc_args_t a = {.origin = origin_addr,
                    .ocount = origin_count,
                    .odt = origin_dt,
                    .result = result_addr,
                    .rcount = result_count,
                    .rdt = result_dt,
                    .tcount = target_count,
                    .tdt = target_dt,
                    .op = op};
    return accumulate(osc_ivm_module(win), target, target_disp, &a, OSC_IVM_GET_ACC);
}

int ompi_osc_ivm_rget_accumulate(const void *origin_addr, int origin_count,
                                 struct ompi_datatype_t *origin_dt, void *result_addr,
                                 int result_count, struct ompi_datatype_t *result_dt, int target,
                                 ptrdiff_t target_disp, int target_count,
                                 struct ompi_datatype_t *target_dt, struct ompi_op_t *op,
                                 struct ompi_win_t *win, struct ompi_request_t **request)
{
    int rc = ompi_osc_ivm_get_accumulate(origin_addr, origin_count, origin_dt, result_addr,
                                         result_count, result_dt, target, target_disp, target_count,
                                         target_dt, op, win);
    *request = &ompi_request_empty;
    return rc;
}

/* One element: the fast path of MPI_Fetch_and_op. */
int ompi_osc_ivm_fetch_and_op(const void *origin_addr, void *result_addr,
                              struct ompi_datatype_t *dt, int target, ptrdiff_t target_disp,
                              struct ompi_op_t *op, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    uint8_t *t = osc_ivm_target_ptr(m, target, target_disp, dt, 1);
    size_t size;

    if (OPAL_UNLIKELY(NULL == t)) {
        return OMPI_ERR_RMA_RANGE;
    }
    ompi_datatype_type_size(dt, &size);
    if ((1 == size || 2 == size || 4 == size || 8 == size) && 0 == (uintptr_t) t % size
        && ompi_datatype_is_predefined(dt)) {
        static const uint8_t zero[8];
        osc_ivm_count(OSC_IVM_FOP, size);
        elem_update(t, NULL != origin_addr ? origin_addr : zero, result_addr, op, dt, size,
                    is_integer(dt));
        return OMPI_SUCCESS;
    }
    acc_args_t a = {.origin = origin_addr,
                    .ocount = 1,
                    .odt = dt,
                    .result = result_addr,
                    .rcount = 1,
                    .rdt = dt,
                    .tcount = 1,
                    .tdt = dt,
                    .op = op};
    return accumulate(m, target, target_disp, &a, OSC_IVM_FOP);
}

int ompi_osc_ivm_compare_and_swap(const void *origin_addr, const void *compare_addr,
                                  void *result_addr, struct ompi_datatype_t *dt, int target,
                                  ptrdiff_t target_disp, struct ompi_win_t *win)
{
    ompi_osc_ivm_module_t *m = osc_ivm_module(win);
    uint8_t *t = osc_ivm_target_ptr(m, target, target_disp, dt, 1);
    size_t size;

    if (OPAL_UNLIKELY(NULL == t)) {
        return OMPI_ERR_RMA_RANGE;
    }
    ompi_datatype_type_size(dt, &size);
    osc_ivm_count(OSC_IVM_CAS, size);
#define CAS_ATOMIC(type)                                                                         \
    do {                                                                                         \
        type expected, desired;                                                                  \
        memcpy(&expected, compare_addr, sizeof(type));                                           \
        memcpy(&desired, origin_addr, sizeof(type));                                             \
        /* on failure @expected gets the current value: the result either way */                 \
        (void) atomic_compare_exchange_strong_explicit(                                          \
            (_Atomic type *) t, &expected, desired, memory_order_acq_rel, memory_order_acquire); \
        memcpy(result_addr, &expected, sizeof(type));                                            \
    } while (0)
    if (0 == (uintptr_t) t % size) {
        switch (size) {
        case 1: CAS_ATOMIC(uint8_t); return OMPI_SUCCESS;
        case 2: CAS_ATOMIC(uint16_t); return OMPI_SUCCESS;
        case 4: CAS_ATOMIC(uint32_t); return OMPI_SUCCESS;
        case 8: CAS_ATOMIC(uint64_t); return OMPI_SUCCESS;
        default: break;
        }
    }
    /* wider or unaligned: under the accumulate lock, like accumulates of
     * the same type */
    int rc = osc_ivm_acc_lock(m, target);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    memcpy(result_addr, t, size);
    if (0 == memcmp(result_addr, compare_addr, size)) {
        memcpy(t, origin_addr, size);
    }
    osc_ivm_acc_unlock(m, target);
    return OMPI_SUCCESS;
}
