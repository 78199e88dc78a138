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
 * What differs between BTL API versions, in one place.  Open MPI 4.1 (BTL
 * 3.1) hands received data to the upper layer as (tag, descriptor, cbdata);
 * Open MPI 5.0 (BTL 3.3) as one receive descriptor that also carries the
 * endpoint.  The rest of btl/ivm calls mca_btl_ivm_deliver() only.
 *
 * 5.0's interface allows a NULL endpoint, but its active-message RDMA in
 * btl/base (which osc/rdma wraps around every BTL without native RDMA on
 * ordinary memory) answers through it and aborts without one; the
 * receive path always knows the sender's endpoint, so it is always given.
 * (The OPAL-level differences are in common_ivm_ompi_version.h.)
 */

#ifndef MCA_BTL_IVM_COMPAT_H
#define MCA_BTL_IVM_COMPAT_H

#include "btl_ivm.h"

/* The BTL interface version the component declares.  Open MPI's
 * MCA_BTL_DEFAULT_VERSION() would also stamp Open MPI's own version on the
 * component; btl/ivm reports ivm's (IVM_*_VERSION) instead. */
#if BTL_VERSION >= 330 /* Open MPI 5.0 */
#define MCA_BTL_IVM_BASE_VERSION MCA_BTL_BASE_VERSION_3_3_0
#else /* Open MPI 4.1 */
#define MCA_BTL_IVM_BASE_VERSION MCA_BTL_BASE_VERSION_3_1_0
#endif

/** Hand @len bytes at @data, received from @ep with @tag, to the upper
 * layer's callback @reg (non-NULL: the caller checked it). */
static inline void mca_btl_ivm_deliver(const mca_btl_active_message_callback_t *reg,
                                       mca_btl_base_tag_t tag, const void *data, size_t len,
                                       struct mca_btl_base_endpoint_t *ep)
{
    mca_btl_base_segment_t seg = {.seg_addr.pval = (void *) data, .seg_len = len};
#if BTL_VERSION >= 330 /* Open MPI 5.0 */
    mca_btl_base_receive_descriptor_t des = {.endpoint = ep,
                                             .des_segments = &seg,
                                             .des_segment_count = 1,
                                             .tag = tag,
                                             .cbdata = reg->cbdata};
    reg->cbfunc(&mca_btl_ivm.super, &des);
#else /* Open MPI 4.1 */
    mca_btl_base_descriptor_t des = {.des_segments = &seg, .des_segment_count = 1};
    (void) ep;
    reg->cbfunc(&mca_btl_ivm.super, tag, &des, reg->cbdata);
#endif
}

#endif /* MCA_BTL_IVM_COMPAT_H */
