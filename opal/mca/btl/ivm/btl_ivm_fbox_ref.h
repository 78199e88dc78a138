/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/**
 * @file
 *
 * Fragment references through a fast box.  Once a peer knows our fast box
 * for it, the fragments we send it are announced there instead of in its
 * receive ring, so that they stay in order with the small messages copied
 * into the box: a message of 8 payload bytes, the fragment's region offset,
 * flagged IVM_FBOX_F_REF (common_ivm_layout_btl.h).  Plain C on top of
 * common_ivm_ring.h, used by btl_ivm_send.c and btl_ivm_progress.c and
 * tested without MPI by test/unit/test_btl_fbox_ref.c.
 */

#ifndef MCA_BTL_IVM_FBOX_REF_H
#define MCA_BTL_IVM_FBOX_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "opal/mca/common/ivm/common_ivm_ring.h"

/** Announce the fragment at region offset @off through @tx.  False when
 * the box has no room now. */
static inline bool mca_btl_ivm_fbox_ref_post(ivm_fbox_tx_t *tx, uint64_t off)
{
    uint64_t *ref = ivm_fbox_reserve(tx, sizeof(uint64_t));
    if (NULL == ref) {
        return false;
    }
    *ref = off;
    ivm_fbox_commit(tx, sizeof(uint64_t), 0, IVM_FBOX_F_REF);
    return true;
}

/** Does message @hdr, @payload (from ivm_fbox_peek) announce a fragment?
 * Then @off gets its region offset: the payload word, read once, or 1 when
 * the peer wrote another length -- no fragment starts there (fragments
 * are line aligned), so the receiver refuses it like any bad offset. */
static inline bool mca_btl_ivm_fbox_ref_take(uint64_t hdr, const void *payload, uint64_t *off)
{
    if (0 == (IVM_FBOX_HDR_FLAGS(hdr) & IVM_FBOX_F_REF)) {
        return false;
    }
    *off = sizeof(uint64_t) == IVM_FBOX_HDR_LEN(hdr) ? *(const uint64_t *) payload : 1;
    return true;
}

#endif /* MCA_BTL_IVM_FBOX_REF_H */
