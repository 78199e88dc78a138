/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fragment descriptors, their shared buffers and the cookie table. */

#include "opal_config.h"

#include <stdlib.h>

#include "btl_ivm_frag.h"
#include "btl_ivm_endpoint.h"

static void frag_construct(mca_btl_ivm_frag_t *frag)
{
    frag->base.des_segments = frag->segments;
    frag->base.des_segment_count = 1;
    frag->hdr = NULL;
    frag->endpoint = NULL;
    frag->outstanding = false;
}

OBJ_CLASS_INSTANCE(mca_btl_ivm_frag_t, mca_btl_base_descriptor_t, frag_construct, NULL);

/* Called by opal_free_list for every new item; item->ptr is the buffer the
 * list took from our mpool, i.e. from the job heap. */
int mca_btl_ivm_frag_init(opal_free_list_item_t *item, void *ctx)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_btl_ivm_frag_t *frag = (mca_btl_ivm_frag_t *) item;
    opal_free_list_t *list = (opal_free_list_t *) ctx;

    if (c->frag_count == c->frag_table_size) {
        uint32_t n = c->frag_table_size ? 2 * c->frag_table_size : 256;
        void *t = realloc(c->frag_table, n * sizeof(*c->frag_table));
        if (NULL == t) {
            return OPAL_ERR_OUT_OF_RESOURCE;
        }
        c->frag_table = t;
        c->frag_table_size = n;
    }
    frag->my_list = list;
    frag->hdr = (struct ivm_msg_hdr *) item->ptr;
    frag->hdr_off = (uint64_t) ((uint8_t *) item->ptr - c->dev->region.map.base);
    frag->capacity = list->fl_payload_buffer_size - sizeof(struct ivm_msg_hdr);
    frag->cookie = c->frag_count;
    c->frag_table[c->frag_count++] = frag;
    frag->hdr->src_slot = c->dev->member.slot;
    frag->hdr->cookie = frag->cookie;
    frag->segments[0].seg_addr.pval = frag->hdr + 1;
    return OPAL_SUCCESS;
}

mca_btl_ivm_frag_t *mca_btl_ivm_frag_alloc(struct mca_btl_base_endpoint_t *ep, size_t size,
                                           uint32_t flags)
{
    opal_free_list_t *list;
    if (size <= mca_btl_ivm.super.btl_eager_limit) {
        list = &mca_btl_ivm_component.frags_eager;
    } else if (size <= mca_btl_ivm.super.btl_max_send_size) {
        list = &mca_btl_ivm_component.frags_max;
    } else {
        return NULL;
    }
    mca_btl_ivm_frag_t *frag = (mca_btl_ivm_frag_t *) opal_free_list_get(list);
    if (OPAL_UNLIKELY(NULL == frag) && size <= MCA_BTL_IVM_CTL_PAYLOAD) {
        /* The eager list is at free_list_max.  A PML's control messages
         * (acknowledgements, FIN) that find no fragment wait on the PML's own
         * list, which Open MPI 5's ob1 retries only when one of its sends
         * completes with a callback; if every fragment out is an inline send
         * without one, nothing would ever retry them.  Small messages take an
         * overflow fragment instead: they come back as soon as the peer polls. */
        frag = (mca_btl_ivm_frag_t *) opal_free_list_get(&mca_btl_ivm_component.frags_ctl);
    }
    if (OPAL_UNLIKELY(NULL == frag)) {
        return NULL;
    }
    frag->endpoint = ep;
    frag->base.des_flags = flags;
    /* a user that sets no callback (Open MPI 5's active-message RDMA
     * replies) must not inherit the previous user's */
    frag->base.des_cbfunc = NULL;
    frag->base.des_cbdata = NULL;
    frag->base.des_context = NULL;
    frag->base.order = MCA_BTL_NO_ORDER;
    frag->segments[0].seg_addr.pval = frag->hdr + 1;
    frag->segments[0].seg_len = size;
    /* the header is shared memory: restore what a peer may have touched */
    frag->hdr->src_slot = mca_btl_ivm_component.dev->member.slot;
    frag->hdr->cookie = frag->cookie;
    frag->hdr->flags = 0;
    return frag;
}

void mca_btl_ivm_frag_return(mca_btl_ivm_frag_t *frag)
{
    frag->endpoint = NULL;
    opal_free_list_return(frag->my_list, &frag->base.super);
}

mca_btl_ivm_frag_t *mca_btl_ivm_frag_take_back(uint64_t off)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    /* our fragment buffers are cache-line aligned; an offset that is not
     * cannot be ours, and the header must not be read misaligned */
    if (0 != off % IVM_CACHELINE) {
        return NULL;
    }
    const struct ivm_msg_hdr *hdr = mca_common_ivm_job_ptr(c->dev, off, sizeof(*hdr));
    if (NULL == hdr) {
        return NULL;
    }
    uint32_t cookie = hdr->cookie; /* read once: peers can write it */
    if (cookie >= c->frag_count || c->frag_table[cookie]->hdr_off != off
        || !c->frag_table[cookie]->outstanding) {
        return NULL;
    }
    c->frag_table[cookie]->outstanding = false;
    return c->frag_table[cookie];
}
