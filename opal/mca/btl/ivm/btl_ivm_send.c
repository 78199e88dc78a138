/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The send side: fast box setup, posting fragments (ring or fast box),
 * per-endpoint queues when the peer has no room, send and sendi. */

#include "opal_config.h"

#include <string.h>

#include "opal/datatype/opal_convertor.h"

#include "btl_ivm.h"
#include "btl_ivm_endpoint.h"
#include "btl_ivm_fbox_ref.h"
#include "btl_ivm_frag.h"

/* After enough traffic to a peer, create a fast box for it.  The peer
 * learns about it from the next fragment we post through its ring. */
static void fbox_due(mca_btl_ivm_endpoint_t *ep)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    uint64_t off;

    if (ep->fbox_out_ready || 0 != ep->fbox_out_off || ++ep->sends < c->fbox_threshold
        || c->fbox_out_count >= c->fbox_max) {
        return;
    }
    ivm_region_t *r = &c->dev->region;
    if (IVM_OK != ivm_fbox_create(&c->dev->heap, c->fbox_size, c->dev->member.slot, &off)
        || IVM_OK
               != ivm_fbox_attach_tx(r, off, c->dev->member.part_off,
                                     c->dev->member.part_off + c->dev->member.part_size,
                                     &ep->fbox_out)) {
        BTL_IVM_VERBOSE(5, "btl:ivm: no fast box for slot %u: %s", ep->slot, r->errmsg);
        c->fbox_out_count = c->fbox_max; /* the heap is tight: stop trying */
        return;
    }
    ep->fbox_out_off = off;
    c->fbox_out_count++;
}

/* Announce @frag to its peer.  Once the peer knows our fast box, fragments
 * are announced through it so that they stay in order with the messages
 * copied into it.  False when there is no room now. */
static bool post(mca_btl_ivm_endpoint_t *ep, mca_btl_ivm_frag_t *frag)
{
    /* Marked before it is published: the peer's return can only follow the
     * publication (release) through the peer's own release push, which our
     * progress thread acquires before it looks at the mark. */
    frag->outstanding = true;
    if (ep->fbox_out_ready) {
        if (!mca_btl_ivm_fbox_ref_post(&ep->fbox_out, frag->hdr_off)) {
            frag->outstanding = false;
            return false;
        }
        return true;
    }
    if (0 != ep->fbox_out_off) {
        frag->hdr->flags |= IVM_MSG_F_SETUP_FBOX;
        frag->hdr->fbox_off = ep->fbox_out_off;
    }
    if (IVM_OK != ivm_ring_push(&ep->ring, frag->hdr_off)) {
        frag->hdr->flags &= (uint8_t) ~IVM_MSG_F_SETUP_FBOX;
        frag->outstanding = false;
        return false;
    }
    if (0 != ep->fbox_out_off) {
        ep->fbox_out_ready = true; /* everything after this goes through it */
    }
    return true;
}

/* Put @ep on the list of endpoints with queued fragments.  Lock order is
 * component lock, then endpoint lock: never call this holding ep->lock. */
static void list_pending(mca_btl_ivm_endpoint_t *ep)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    OPAL_THREAD_LOCK(&c->lock);
    if (!ep->on_pending_list) {
        opal_list_append(&c->pending_endpoints, &ep->super);
        ep->on_pending_list = true;
    }
    OPAL_THREAD_UNLOCK(&c->lock);
}

/* Retry queued fragments, oldest first, until a peer has no room. */
void mca_btl_ivm_progress_pending(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_btl_ivm_endpoint_t *ep, *next;

    OPAL_THREAD_LOCK(&c->lock);
    OPAL_LIST_FOREACH_SAFE(ep, next, &c->pending_endpoints, mca_btl_ivm_endpoint_t)
    {
        OPAL_THREAD_LOCK(&ep->lock);
        while (!opal_list_is_empty(&ep->pending)) {
            mca_btl_ivm_frag_t *frag = (mca_btl_ivm_frag_t *) opal_list_get_first(&ep->pending);
            if (!post(ep, frag)) {
                break;
            }
            (void) opal_list_remove_first(&ep->pending);
        }
        if (opal_list_is_empty(&ep->pending)) {
            opal_list_remove_item(&c->pending_endpoints, &ep->super);
            ep->on_pending_list = false;
        }
        OPAL_THREAD_UNLOCK(&ep->lock);
    }
    OPAL_THREAD_UNLOCK(&c->lock);
}

int mca_btl_ivm_send(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                     struct mca_btl_base_descriptor_t *des, mca_btl_base_tag_t tag)
{
    mca_btl_ivm_frag_t *frag = (mca_btl_ivm_frag_t *) des;
    (void) btl;

    /* completion is asynchronous (the receiver hands the fragment back),
     * so the upper layer always gets its callback then */
    frag->base.des_flags |= MCA_BTL_DES_SEND_ALWAYS_CALLBACK;
    frag->hdr->tag = tag;
    frag->hdr->len = (uint32_t) frag->segments[0].seg_len;
    mca_common_ivm_counters.ring_msgs++;
    mca_common_ivm_counters.ring_bytes += frag->segments[0].seg_len;
    OPAL_THREAD_LOCK(&ep->lock);
    fbox_due(ep);
    bool queued = !opal_list_is_empty(&ep->pending) || !post(ep, frag);
    if (queued) {
        opal_list_append(&ep->pending, &frag->base.super.super);
    }
    OPAL_THREAD_UNLOCK(&ep->lock);
    if (queued) {
        list_pending(ep);
    }
    return OPAL_SUCCESS;
}

static void pack(struct opal_convertor_t *convertor, void *dst, size_t len)
{
    struct iovec iov = {.iov_base = dst, .iov_len = len};
    uint32_t iov_count = 1;
    (void) opal_convertor_pack(convertor, &iov, &iov_count, &len);
}

/* Small message straight into the fast box; false if it has no room. */
static bool fbox_sendi(mca_btl_ivm_endpoint_t *ep, struct opal_convertor_t *convertor,
                       const void *header, size_t header_size, size_t payload_size,
                       mca_btl_base_tag_t tag)
{
    size_t total = header_size + payload_size;
    if (!ep->fbox_out_ready || total > ep->fbox_out.size / 4) {
        return false;
    }
    uint8_t *p = ivm_fbox_reserve(&ep->fbox_out, (uint32_t) total);
    if (NULL == p) {
        return false;
    }
    memcpy(p, header, header_size);
    if (payload_size > 0 && !opal_convertor_need_buffers(convertor)) {
        /* contiguous: copy straight from the user's buffer (a completed
         * sendi never touches the convertor again) */
        void *src;
        opal_convertor_get_current_pointer(convertor, &src);
        memcpy(p + header_size, src, payload_size);
    } else if (payload_size > 0) {
        pack(convertor, p + header_size, payload_size);
    }
    ivm_fbox_commit(&ep->fbox_out, (uint32_t) total, tag, 0);
    mca_common_ivm_counters.fbox_msgs++;
    mca_common_ivm_counters.fbox_bytes += total;
    return true;
}

static int sendi_locked(mca_btl_ivm_endpoint_t *ep, struct opal_convertor_t *convertor,
                        const void *header, size_t header_size, size_t payload_size, uint32_t flags,
                        mca_btl_base_tag_t tag, mca_btl_base_descriptor_t **descriptor)
{
    size_t total = header_size + payload_size;

    /* never overtake queued fragments */
    if (OPAL_UNLIKELY(!opal_list_is_empty(&ep->pending))) {
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    fbox_due(ep);
    if (fbox_sendi(ep, convertor, header, header_size, payload_size, tag)) {
        return OPAL_SUCCESS;
    }
    mca_btl_ivm_frag_t *frag =
        mca_btl_ivm_frag_alloc(ep, total, flags | MCA_BTL_DES_FLAGS_BTL_OWNERSHIP);
    if (OPAL_UNLIKELY(NULL == frag)) {
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    memcpy(frag->segments[0].seg_addr.pval, header, header_size);
    if (payload_size > 0) {
        pack(convertor, (char *) frag->segments[0].seg_addr.pval + header_size, payload_size);
    }
    frag->hdr->tag = tag;
    frag->hdr->len = (uint32_t) total;
    if (!post(ep, frag)) {
        /* the data is copied: the upper layer may send the descriptor later */
        if (NULL != descriptor) {
            *descriptor = &frag->base;
        } else {
            mca_btl_ivm_frag_return(frag);
        }
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    mca_common_ivm_counters.ring_msgs++;
    mca_common_ivm_counters.ring_bytes += total;
    return OPAL_SUCCESS;
}

int mca_btl_ivm_sendi(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                      struct opal_convertor_t *convertor, void *header, size_t header_size,
                      size_t payload_size, uint8_t order, uint32_t flags, mca_btl_base_tag_t tag,
                      mca_btl_base_descriptor_t **descriptor)
{
    (void) btl;
    (void) order;

    if (NULL != descriptor) {
        *descriptor = NULL;
    }
    OPAL_THREAD_LOCK(&ep->lock);
    int rc = sendi_locked(ep, convertor, header, header_size, payload_size, flags, tag, descriptor);
    OPAL_THREAD_UNLOCK(&ep->lock);
    return rc;
}
