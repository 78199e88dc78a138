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
 * One endpoint per peer process of the job (indexed by the peer's slot in
 * the region).  An endpoint is made either by add_procs, which attaches an
 * opal_proc_t, or by the receive path when a message arrives from a peer
 * the upper layer has not added yet (Open MPI adds remote procs lazily);
 * both then share it.
 */

#ifndef MCA_BTL_IVM_ENDPOINT_H
#define MCA_BTL_IVM_ENDPOINT_H

#include <stdatomic.h>

#include "btl_ivm.h"

struct mca_btl_base_endpoint_t {
    opal_list_item_t super;   /**< on the pending list when sends are queued */
    struct opal_proc_t *proc; /**< NULL until add_procs */
    uint32_t slot;            /**< the peer's slot in the region */
    ivm_ring_handle_t ring;   /**< the peer's receive ring (we produce) */
    ivm_fbox_tx_t fbox_out;   /**< our fast box towards the peer */
    uint64_t fbox_out_off;    /**< created, announced with the next ring message */
    bool fbox_out_ready;      /**< the peer knows it: everything goes through it */
    ivm_fbox_rx_t fbox_in;    /**< the peer's fast box towards us */
    bool fbox_in_ready;
    uint32_t sends;      /**< messages sent, towards the fast box threshold */
    opal_list_t pending; /**< fragments waiting for room, in order */
    opal_mutex_t lock;   /**< with MPI_THREAD_MULTIPLE: one sender at a time (the
                                  fast box has a single producer) */
    bool on_pending_list;
    bool failed;              /**< the peer broke the protocol: ignore it */
    bool self;                /**< this process (one-sided users only, see add_procs) */
    atomic_uint emu_inflight; /**< our emulated RMA requests it has not answered */
    ivm_lease_watch_t lease;  /**< its lease, as our waits have seen it */
};
typedef struct mca_btl_base_endpoint_t mca_btl_base_endpoint_t;
typedef mca_btl_base_endpoint_t mca_btl_ivm_endpoint_t;
OBJ_CLASS_DECLARATION(mca_btl_ivm_endpoint_t);

/** The endpoint of the process in @slot, made on first use; NULL if that
 * slot is not a member of our job (or its ring is unusable). */
mca_btl_ivm_endpoint_t *mca_btl_ivm_endpoint_get(uint32_t slot);

/** @ep (NULL: a peer the message does not name) broke the protocol: say so
 * once, with who it is, and tell the upper layer through its error
 * callback.  Its messages are ignored from then on. */
void mca_btl_ivm_peer_failed(struct mca_btl_base_endpoint_t *ep, const char *what);

/** Is the process behind @ep, which we are waiting for, still there (a
 * member of our job, not dead in our VM, renewing its lease)?  If not, it
 * is reported failed and false returned.  @now_ns: ivm_now_ns(). */
bool mca_btl_ivm_endpoint_alive(mca_btl_ivm_endpoint_t *ep, uint64_t now_ns);

#endif /* MCA_BTL_IVM_ENDPOINT_H */
