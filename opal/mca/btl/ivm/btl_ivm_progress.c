/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The receive side: polling fast boxes and our receive ring, handing
 * messages to the upper layer and returning fragments.  Every offset,
 * length and index comes from another process and is validated before
 * use; a peer that breaks the protocol is reported through
 * mca_btl_ivm_peer_failed (btl_ivm_endpoint.c). */

#include "opal_config.h"


#include "opal/runtime/opal_progress.h"
#include "opal/util/output.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"

#include "btl_ivm.h"
#include "btl_ivm_compat.h"
#include "btl_ivm_emu.h"
#include "btl_ivm_endpoint.h"
#include "btl_ivm_fbox_ref.h"
#include "btl_ivm_frag.h"

/* A fragment we could not hand back yet (its owner's ring was full). */
typedef struct {
    opal_list_item_t super;
    mca_btl_ivm_endpoint_t *ep;
    uint64_t off;
} pending_return_t;
static OBJ_CLASS_INSTANCE(pending_return_t, opal_list_item_t, NULL, NULL);

static void give_back(mca_btl_ivm_endpoint_t *ep, uint64_t off)
{
    if (IVM_OK == ivm_ring_push(&ep->ring, off | IVM_RING_V_RETURN)) {
        return;
    }
    pending_return_t *pr = OBJ_NEW(pending_return_t);
    if (NULL != pr) {
        pr->ep = ep;
        pr->off = off;
        opal_list_append(&mca_btl_ivm_component.pending_returns, &pr->super);
    }
}

static void retry_returns(void)
{
    pending_return_t *pr, *next;
    OPAL_LIST_FOREACH_SAFE(pr, next, &mca_btl_ivm_component.pending_returns, pending_return_t)
    {
        if (IVM_OK != ivm_ring_push(&pr->ep->ring, pr->off | IVM_RING_V_RETURN)) {
            return; /* keep the order */
        }
        opal_list_remove_item(&mca_btl_ivm_component.pending_returns, &pr->super);
        OBJ_RELEASE(pr);
    }
}

/* A message for the upper layer, or one of our own (emulated RMA). */
static void dispatch(mca_btl_base_tag_t tag, const void *data, size_t len,
                     mca_btl_ivm_endpoint_t *ep)
{
    if (OPAL_UNLIKELY(MCA_BTL_IVM_TAG_EMU_REQ == tag)) {
        mca_btl_ivm_emu_request(ep, data, len);
    } else if (OPAL_UNLIKELY(MCA_BTL_IVM_TAG_EMU_REPLY == tag)) {
        mca_btl_ivm_emu_reply(ep, data, len);
    } else if (OPAL_LIKELY(tag < MCA_BTL_TAG_MAX
                           && NULL != mca_btl_base_active_message_trigger[tag].cbfunc)) {
        /* (the table has MCA_BTL_TAG_MAX = 255 entries: a byte from a peer
         * can be one more) */
        mca_btl_ivm_deliver(&mca_btl_base_active_message_trigger[tag], tag, data, len, ep);
    } else {
        mca_btl_ivm_peer_failed(ep, "sent a message with a tag nobody listens to");
    }
}

/* The peer announced a fast box towards us. */
static void setup_fbox_in(mca_btl_ivm_endpoint_t *ep, uint64_t off)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_common_ivm_device_t *d = c->dev;
    if (ep->fbox_in_ready) {
        mca_btl_ivm_peer_failed(ep, "announced a second fast box");
        return;
    }
    if (IVM_OK
        != ivm_fbox_attach_rx(&d->region, off, d->member.part_off,
                              d->member.part_off + d->member.part_size, &ep->fbox_in)) {
        mca_btl_ivm_peer_failed(ep, d->region.errmsg);
        return;
    }
    ep->fbox_in_ready = true;
    c->fbox_in[c->num_fbox_in++] = ep;
}

/* A fragment at region offset @off arrived (through our ring, or by
 * reference through a fast box of @via). */
static void handle_frag(uint64_t off, mca_btl_ivm_endpoint_t *via)
{
    mca_common_ivm_device_t *d = mca_btl_ivm_component.dev;
    struct ivm_msg_hdr *shared = mca_common_ivm_job_ptr(d, off, sizeof(struct ivm_msg_hdr));
    struct ivm_msg_hdr hdr;

    if (NULL == shared || 0 != off % IVM_CACHELINE) {
        mca_btl_ivm_peer_failed(via, "announced a message outside the job partition");
        return;
    }
    memcpy(&hdr, shared, sizeof(hdr)); /* one snapshot of what the peer wrote */
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(hdr.src_slot);
    if (NULL == ep || (NULL != via && via != ep)) {
        mca_btl_ivm_peer_failed(via, "sent a message whose sender slot is not a job member");
        return;
    }
    if (ep->failed) {
        return;
    }
    if (NULL == mca_common_ivm_job_ptr(d, off + sizeof(hdr), hdr.len)) {
        mca_btl_ivm_peer_failed(ep, "sent a message longer than its buffer");
        return;
    }
    dispatch(hdr.tag, shared + 1, hdr.len, ep);
    if (hdr.flags & IVM_MSG_F_SETUP_FBOX) {
        setup_fbox_in(ep, hdr.fbox_off);
    }
    give_back(ep, off);
}

/* One of our fragments came home. */
static void handle_return(uint64_t off)
{
    mca_btl_ivm_frag_t *frag = mca_btl_ivm_frag_take_back(off);
    if (NULL == frag) {
        mca_btl_ivm_peer_failed(NULL, "returned a fragment that is not ours, or one of ours "
                                      "that was not out (returned twice, or never sent)");
        return;
    }
    mca_btl_ivm_frag_complete(frag);
}

static int poll_ring(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    uint64_t v;
    int n = 0;
    while (n < (int) c->poll_limit && ivm_ring_pop(&c->ring, &v)) {
        n++;
        if (v & IVM_RING_V_RETURN) {
            handle_return(v & ~(uint64_t) IVM_RING_V_RETURN);
        } else {
            handle_frag(v, NULL);
        }
    }
    return n;
}

static int poll_fbox(mca_btl_ivm_endpoint_t *ep)
{
    unsigned int limit = mca_btl_ivm_component.poll_limit;
    const void *payload;
    uint64_t hdr;
    int n = 0, rc;

    while (n < (int) limit && !ep->failed
           && 1 == (rc = ivm_fbox_peek(&ep->fbox_in, &hdr, &payload))) {
        n++;
        uint64_t off;
        if (mca_btl_ivm_fbox_ref_take(hdr, payload, &off)) {
            ivm_fbox_consume(&ep->fbox_in, hdr);
            handle_frag(off, ep);
            continue;
        }
        dispatch(IVM_FBOX_HDR_TAG(hdr), payload, IVM_FBOX_HDR_LEN(hdr), ep);
        ivm_fbox_consume(&ep->fbox_in, hdr);
    }
    if (IVM_ERR_CORRUPT == rc) {
        mca_btl_ivm_peer_failed(ep, "wrote an impossible message header into its fast box");
    }
    return n;
}

/* Should a progress call that found nothing be paced?  When we wait for
 * a peer to act (answer an RMA request, make room for a message we hold
 * back), or when the user said ranks outnumber CPUs (mpi_yield_when_idle;
 * Open MPI sets it when it oversubscribes a node). */
static bool pace_wanted(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component; /* opal_list_is_empty takes no const */
    return opal_progress_yield_when_idle || mca_btl_ivm_emu_inflight() > 0
           || !opal_list_is_empty(&c->pending_endpoints)
           || !opal_list_is_empty(&c->pending_returns);
}

/* While we wait for peers (RMA replies, room in their rings), make sure,
 * once a second, that they are still there: a peer that died, in our VM or
 * with its whole VM, must end the wait with an error, not hang it. */
static void check_awaited_peers(uint64_t now_ns)
{
    static uint64_t next_ns;
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    if (now_ns < next_ns) {
        return;
    }
    next_ns = now_ns + 1000000000u;
    for (uint32_t slot = 0; slot < c->dev->region.layout.slot_count; slot++) {
        mca_btl_ivm_endpoint_t *ep = c->peers[slot];
        if (NULL != ep && !ep->self && !ep->failed
            && (ep->on_pending_list
                || 0 != atomic_load_explicit(&ep->emu_inflight, memory_order_relaxed))) {
            (void) mca_btl_ivm_endpoint_alive(ep, now_ns);
        }
    }
}

/* Called after every progress call (@events: what it found).  A peer in
 * another VM that runs answers within microseconds; when nothing has come
 * for opal_common_ivm_spin_time, the peer probably has no CPU, and the CPU it needs may be
 * ours: the caller is spinning in an upper layer's loop.  sched_yield
 * (what mpi_yield_when_idle does) does not help: it yields only within
 * the caller's own scheduling group, and other VMs' processes (other
 * sessions, other guests) are in other groups; on EEVDF kernels a yielding
 * spinner even keeps its CPU from tasks that wake up.  A short sleep does
 * hand the CPU over.  Cost: a process whose ivm peers stay silent while
 * another transport is busy also naps between progress calls, which only
 * happens under mpi_yield_when_idle. */
static void pace_idle_wait(int events)
{
    static uint64_t idle_since_ns;
    const mca_common_ivm_params_t *p = &mca_common_ivm_params;

    if (events > 0 || !pace_wanted()) {
        idle_since_ns = 0;
        return;
    }
    uint64_t now = ivm_now_ns();
    if (0 == idle_since_ns) {
        idle_since_ns = now;
        return;
    }
    check_awaited_peers(now);
    if (0 != p->spin_time_us) {
        ivm_pace(now - idle_since_ns, p->spin_time_us, p->sleep_time_us);
    }
}

/* Fast boxes first, starting one further each time so that no peer is
 * always served last; then queued sends and returns; then the ring. */
int mca_btl_ivm_component_progress(void)
{
    static atomic_int busy = 0;
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    int count = 0;

    if (OPAL_UNLIKELY(!mca_btl_ivm.initialized)) {
        return 0;
    }
    /* the ring and the fast boxes have one consumer: with threads, one
     * progressing thread at a time; the others go on with their work */
    if (opal_using_threads() && atomic_exchange(&busy, 1)) {
        return 0;
    }
    unsigned int n = c->num_fbox_in;
    for (unsigned int k = 0; k < n; k++) {
        count += poll_fbox(c->fbox_in[(c->fbox_in_next + k) % n]);
    }
    if (n > 0) {
        c->fbox_in_next = (c->fbox_in_next + 1) % n;
    }
    if (OPAL_UNLIKELY(!opal_list_is_empty(&c->pending_returns))) {
        retry_returns();
    }
    if (OPAL_UNLIKELY(!opal_list_is_empty(&c->pending_endpoints))) {
        mca_btl_ivm_progress_pending();
    }
    count += poll_ring();
    count += mca_btl_ivm_emu_progress();
    pace_idle_wait(count);
    if (opal_using_threads()) {
        atomic_store(&busy, 0);
    }
    return count;
}
