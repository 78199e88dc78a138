/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * RMA on memory outside the region by active messages (btl_ivm_emu.c).
 */

#ifndef MCA_BTL_IVM_EMU_H
#define MCA_BTL_IVM_EMU_H

#include "btl_ivm.h"

/* Internal tags: handled inside btl/ivm, never handed to an upper layer.
 * Their values are part of the region format (common_ivm_layout_btl.h). */
#define MCA_BTL_IVM_TAG_EMU_REQ IVM_BTL_TAG_EMU_REQ
#define MCA_BTL_IVM_TAG_EMU_REPLY IVM_BTL_TAG_EMU_REPLY
_Static_assert(IVM_BTL_TAG_EMU_REQ == MCA_BTL_TAG_BTL + 12
                   && IVM_BTL_TAG_EMU_REPLY == MCA_BTL_TAG_BTL + 13,
               "emulated-RMA tags lie in Open MPI's BTL-private range");

bool mca_btl_ivm_emu_register(void *base, size_t size,
                              struct mca_btl_base_registration_handle_t *h);
void mca_btl_ivm_emu_deregister(struct mca_btl_base_registration_handle_t *h);
/** One emulated operation, as the initiator asks for it. */
typedef struct mca_btl_ivm_emu_args_t {
    int type;    /**< IVM_EMU_* (common_ivm_layout_btl.h) */
    void *local; /**< put source, get destination, fetched value (NULL: none) */
    uint64_t remote_address;
    struct mca_btl_base_registration_handle_t *local_handle;
    const struct mca_btl_base_registration_handle_t *remote_handle;
    size_t size;         /**< bytes; atomics: the operand width */
    int op;              /**< atomics: MCA_BTL_ATOMIC_* */
    uint64_t operand[2]; /**< atomics: operand; compare and swap: compare, value */
    int flags;           /**< MCA_BTL_ATOMIC_FLAG_* */
    mca_btl_base_rdma_completion_fn_t cbfunc;
    void *cbcontext, *cbdata;
} mca_btl_ivm_emu_args_t;

/** Start @a on @ep's registration; completion through a->cbfunc. */
int mca_btl_ivm_emu_start(struct mca_btl_base_endpoint_t *ep, const mca_btl_ivm_emu_args_t *a);
void mca_btl_ivm_emu_request(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len);
void mca_btl_ivm_emu_reply(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len);
int mca_btl_ivm_emu_progress(void);
/** Requests of ours that a peer has not answered yet. */
uint32_t mca_btl_ivm_emu_inflight(void);
void mca_btl_ivm_emu_fini(void);

#endif /* MCA_BTL_IVM_EMU_H */
