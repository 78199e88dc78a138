/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Single copy and atomics.  No kernel helps across VMs (CMA, XPMEM and
 * KNEM need one kernel), but memory that lies in the job partition is
 * mapped by every peer: a registration names it by region offset, and the
 * peer's put, get or atomic is a plain memcpy or CPU atomic on its own
 * mapping.  Other memory is registrable only for remote atomics (osc/rdma
 * windows); operations on it are emulated (btl_ivm_emu.c). */

#include "opal_config.h"

#include <stdlib.h>
#include <string.h>

#include "btl_ivm.h"
#include "btl_ivm_atomic.h"
#include "btl_ivm_emu.h"
#include "btl_ivm_endpoint.h"

struct mca_btl_base_registration_handle_t *mca_btl_ivm_register_mem(
    struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep, void *base, size_t size,
    uint32_t flags)
{
    int dev;
    uint64_t off;
    (void) btl;
    (void) ep;
    struct mca_btl_base_registration_handle_t *h = calloc(1, sizeof(*h));
    if (NULL == h) {
        return NULL;
    }
    if (OPAL_SUCCESS == mca_common_ivm_find(base, size, &dev, &off) && 0 == dev) {
        h->kind = MCA_BTL_IVM_REG_REGION;
        h->region_off = off;
        h->base = (uint64_t) (uintptr_t) base;
        h->len = size;
        return h;
    }
    /* Other memory only for users of remote atomics (osc/rdma windows):
     * ob1 then keeps its send protocols for it instead of emulated gets. */
    if ((flags & MCA_BTL_REG_FLAG_REMOTE_ATOMIC) && mca_btl_ivm_emu_register(base, size, h)) {
        return h;
    }
    free(h);
    return NULL;
}

int mca_btl_ivm_deregister_mem(struct mca_btl_base_module_t *btl,
                               struct mca_btl_base_registration_handle_t *handle)
{
    (void) btl;
    if (MCA_BTL_IVM_REG_EMULATED == handle->kind) {
        mca_btl_ivm_emu_deregister(handle);
    }
    free(handle);
    return OPAL_SUCCESS;
}

/* Our address of the peer's @remote_address, if [remote, remote+len) lies
 * within what the peer registered and within our job partition. */
static void *translate(uint64_t remote_address, size_t len,
                       const struct mca_btl_base_registration_handle_t *h)
{
    if (NULL == h || MCA_BTL_IVM_REG_REGION != h->kind || remote_address < h->base
        || remote_address - h->base > h->len || len > h->len - (remote_address - h->base)) {
        return NULL;
    }
    return mca_common_ivm_job_ptr(mca_btl_ivm_component.dev,
                                  h->region_off + (remote_address - h->base), len);
}

static int rdma(struct mca_btl_base_endpoint_t *ep, void *local, uint64_t remote_address,
                struct mca_btl_base_registration_handle_t *local_handle,
                struct mca_btl_base_registration_handle_t *remote_handle, size_t size, bool is_put,
                mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata)
{
    if (NULL != remote_handle && MCA_BTL_IVM_REG_EMULATED == remote_handle->kind) {
        mca_btl_ivm_emu_args_t a = {.type = is_put ? IVM_EMU_PUT : IVM_EMU_GET,
                                    .local = local,
                                    .remote_address = remote_address,
                                    .local_handle = local_handle,
                                    .remote_handle = remote_handle,
                                    .size = size,
                                    .cbfunc = cbfunc,
                                    .cbcontext = cbcontext,
                                    .cbdata = cbdata};
        return mca_btl_ivm_emu_start(ep, &a);
    }
    void *remote = translate(remote_address, size, remote_handle);
    if (OPAL_UNLIKELY(NULL == remote)) {
        mca_btl_ivm_peer_failed(ep, "named remote memory outside its registration");
        return OPAL_ERR_BAD_PARAM;
    }
    if (is_put) {
        memcpy(remote, local, size);
    } else {
        memcpy(local, remote, size);
    }
    /* order the copy before whatever the upper layer signals next */
    atomic_thread_fence(memory_order_release);
    mca_common_ivm_counters.rdma_ops++;
    mca_common_ivm_counters.rdma_bytes += size;
    cbfunc(&mca_btl_ivm.super, ep, local, local_handle, cbcontext, cbdata, OPAL_SUCCESS);
    return OPAL_SUCCESS;
}

int mca_btl_ivm_put(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    void *local_address, uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *local_handle,
                    struct mca_btl_base_registration_handle_t *remote_handle, size_t size,
                    int flags, int order, mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext,
                    void *cbdata)
{
    (void) btl;
    (void) flags;
    (void) order;
    return rdma(ep, local_address, remote_address, local_handle, remote_handle, size, true, cbfunc,
                cbcontext, cbdata);
}

int mca_btl_ivm_get(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    void *local_address, uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *local_handle,
                    struct mca_btl_base_registration_handle_t *remote_handle, size_t size,
                    int flags, int order, mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext,
                    void *cbdata)
{
    (void) btl;
    (void) flags;
    (void) order;
    return rdma(ep, local_address, remote_address, local_handle, remote_handle, size, false, cbfunc,
                cbcontext, cbdata);
}

static void *atomic_target(struct mca_btl_base_endpoint_t *ep, uint64_t remote_address,
                           struct mca_btl_base_registration_handle_t *h, bool is32)
{
    size_t width = is32 ? 4 : 8;
    void *p = translate(remote_address, width, h);
    if (NULL == p || 0 != ((uintptr_t) p % width)) {
        mca_btl_ivm_peer_failed(ep, "named an atomic target outside its registration");
        return NULL;
    }
    mca_common_ivm_counters.atomic_ops++;
    return p;
}

/* aop and fop: the same operation, with or without the old value */
static int atomic_op(struct mca_btl_base_endpoint_t *ep, void *local_address,
                     uint64_t remote_address,
                     struct mca_btl_base_registration_handle_t *local_handle,
                     struct mca_btl_base_registration_handle_t *remote_handle,
                     mca_btl_base_atomic_op_t op, uint64_t operand, int flags,
                     mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata)
{
    bool is32 = flags & MCA_BTL_ATOMIC_FLAG_32BIT;
    if (NULL != remote_handle && MCA_BTL_IVM_REG_EMULATED == remote_handle->kind) {
        mca_btl_ivm_emu_args_t a = {.type = IVM_EMU_AOP,
                                    .local = local_address,
                                    .remote_address = remote_address,
                                    .local_handle = local_handle,
                                    .remote_handle = remote_handle,
                                    .size = is32 ? 4 : 8,
                                    .op = op,
                                    .operand = {operand, 0},
                                    .flags = flags,
                                    .cbfunc = cbfunc,
                                    .cbcontext = cbcontext,
                                    .cbdata = cbdata};
        return mca_btl_ivm_emu_start(ep, &a);
    }
    void *p = atomic_target(ep, remote_address, remote_handle, is32);
    if (NULL == p) {
        return OPAL_ERR_BAD_PARAM;
    }
    uint64_t old = mca_btl_ivm_atomic_apply(p, op, operand, is32);
    if (NULL != local_address) {
        mca_btl_ivm_store_result(local_address, old, is32);
    }
    cbfunc(&mca_btl_ivm.super, ep, local_address, local_handle, cbcontext, cbdata, OPAL_SUCCESS);
    return OPAL_SUCCESS;
}

int mca_btl_ivm_aop(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *remote_handle,
                    mca_btl_base_atomic_op_t op, uint64_t operand, int flags, int order,
                    mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata)
{
    (void) btl;
    (void) order;
    return atomic_op(ep, NULL, remote_address, NULL, remote_handle, op, operand, flags, cbfunc,
                     cbcontext, cbdata);
}

int mca_btl_ivm_afop(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                     void *local_address, uint64_t remote_address,
                     struct mca_btl_base_registration_handle_t *local_handle,
                     struct mca_btl_base_registration_handle_t *remote_handle,
                     mca_btl_base_atomic_op_t op, uint64_t operand, int flags, int order,
                     mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata)
{
    (void) btl;
    (void) order;
    return atomic_op(ep, local_address, remote_address, local_handle, remote_handle, op, operand,
                     flags, cbfunc, cbcontext, cbdata);
}

int mca_btl_ivm_acswap(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                       void *local_address, uint64_t remote_address,
                       struct mca_btl_base_registration_handle_t *local_handle,
                       struct mca_btl_base_registration_handle_t *remote_handle, uint64_t compare,
                       uint64_t value, int flags, int order,
                       mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata)
{
    bool is32 = flags & MCA_BTL_ATOMIC_FLAG_32BIT;
    (void) btl;
    (void) order;
    if (NULL != remote_handle && MCA_BTL_IVM_REG_EMULATED == remote_handle->kind) {
        mca_btl_ivm_emu_args_t a = {.type = IVM_EMU_CSWAP,
                                    .local = local_address,
                                    .remote_address = remote_address,
                                    .local_handle = local_handle,
                                    .remote_handle = remote_handle,
                                    .size = is32 ? 4 : 8,
                                    .operand = {compare, value},
                                    .flags = flags,
                                    .cbfunc = cbfunc,
                                    .cbcontext = cbcontext,
                                    .cbdata = cbdata};
        return mca_btl_ivm_emu_start(ep, &a);
    }
    void *p = atomic_target(ep, remote_address, remote_handle, is32);
    if (NULL == p) {
        return OPAL_ERR_BAD_PARAM;
    }
    mca_btl_ivm_store_result(local_address, mca_btl_ivm_atomic_cswap(p, compare, value, is32),
                             is32);
    cbfunc(&mca_btl_ivm.super, ep, local_address, local_handle, cbcontext, cbdata, OPAL_SUCCESS);
    return OPAL_SUCCESS;
}
