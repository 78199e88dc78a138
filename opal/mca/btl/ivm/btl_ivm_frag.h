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
 * Fragments: a process-local descriptor plus a buffer in the job heap that
 * starts with the shared message header (struct ivm_msg_hdr).  Receivers
 * return fragments by region offset; the header's cookie (an index into a
 * process-local table, never a pointer) finds the descriptor again, and is
 * checked against the offset because the header is writable by peers.
 */

#ifndef MCA_BTL_IVM_FRAG_H
#define MCA_BTL_IVM_FRAG_H

#include "btl_ivm.h"

typedef struct mca_btl_ivm_frag_t {
    mca_btl_base_descriptor_t base;
    mca_btl_base_segment_t segments[1];
    struct mca_btl_base_endpoint_t *endpoint;
    struct ivm_msg_hdr *hdr; /**< in the region */
    uint64_t hdr_off;        /**< region offset of hdr */
    uint32_t cookie;
    bool outstanding; /**< posted to a peer, not yet returned */
    size_t capacity;  /**< payload bytes after the header */
    opal_free_list_t *my_list;
} mca_btl_ivm_frag_t;
OBJ_CLASS_DECLARATION(mca_btl_ivm_frag_t);

int mca_btl_ivm_frag_init(opal_free_list_item_t *item, void *ctx);

/** A fragment with room for @size payload bytes, or NULL. */
mca_btl_ivm_frag_t *mca_btl_ivm_frag_alloc(struct mca_btl_base_endpoint_t *ep, size_t size,
                                           uint32_t flags);
void mca_btl_ivm_frag_return(mca_btl_ivm_frag_t *frag);

/** The fragment behind a returned offset, no longer outstanding; NULL if
 * the offset or the cookie beside it is not one of ours, or that fragment
 * is not out with a peer (returned twice, or never sent). */
mca_btl_ivm_frag_t *mca_btl_ivm_frag_take_back(uint64_t off);

/** The receiver is done: callback (if asked for), then recycle.  The send
 * path asks for it on every fragment, but a sender may leave des_cbfunc
 * NULL (Open MPI 5's active-message RDMA sends its replies that way). */
static inline void mca_btl_ivm_frag_complete(mca_btl_ivm_frag_t *frag)
{
    int flags = frag->base.des_flags; /* the callback may free the descriptor */
    if ((flags & MCA_BTL_DES_SEND_ALWAYS_CALLBACK) && NULL != frag->base.des_cbfunc) {
        frag->base.des_cbfunc(&mca_btl_ivm.super, frag->endpoint, &frag->base, OPAL_SUCCESS);
    }
    if (flags & MCA_BTL_DES_FLAGS_BTL_OWNERSHIP) {
        mca_btl_ivm_frag_return(frag);
    }
}

#endif /* MCA_BTL_IVM_FRAG_H */
