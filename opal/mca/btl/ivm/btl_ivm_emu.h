/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/**
 * @file
 *
 * RMA on memory outside the region by active messages (btl_ivm_emu.c), and
 * the atomic helpers it shares with the direct path (btl_ivm_rdma.c).
 */

#ifndef MCA_BTL_IVM_EMU_H
#define MCA_BTL_IVM_EMU_H

#include "btl_ivm.h"

/* Internal tags: handled inside btl/ivm, never handed to an upper layer. */
#define MCA_BTL_IVM_TAG_EMU_REQ (MCA_BTL_TAG_BTL + 12)
#define MCA_BTL_IVM_TAG_EMU_REPLY (MCA_BTL_TAG_BTL + 13)

bool mca_btl_ivm_emu_register(void *base, size_t size,
                              struct mca_btl_base_registration_handle_t *h);
void mca_btl_ivm_emu_deregister(struct mca_btl_base_registration_handle_t *h);
int mca_btl_ivm_emu_type(bool is_put);
int mca_btl_ivm_emu_atomic_type(bool cswap);
int mca_btl_ivm_emu_start(struct mca_btl_base_endpoint_t *ep, int type, void *local,
                          uint64_t remote_address,
                          struct mca_btl_base_registration_handle_t *local_handle,
                          const struct mca_btl_base_registration_handle_t *remote_handle,
                          size_t size, int op, uint64_t operand0, uint64_t operand1, int flags,
                          mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata);
void mca_btl_ivm_emu_request(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len);
void mca_btl_ivm_emu_reply(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len);
int mca_btl_ivm_emu_progress(void);
/** Requests of ours that a peer has not answered yet. */
uint32_t mca_btl_ivm_emu_inflight(void);
void mca_btl_ivm_emu_fini(void);

/* btl_ivm_rdma.c */
uint64_t mca_btl_ivm_atomic_apply(void *addr, int op, uint64_t operand, bool is32);
uint64_t mca_btl_ivm_atomic_cswap(void *addr, uint64_t compare, uint64_t value, bool is32);
void mca_btl_ivm_store_result(void *local, uint64_t value, bool is32);

#endif /* MCA_BTL_IVM_EMU_H */
