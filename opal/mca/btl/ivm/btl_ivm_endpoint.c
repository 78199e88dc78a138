/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Endpoints: one per peer slot, made on first use (add_procs or the receive
 * path), and the one place that declares a peer failed.  Every other file
 * of btl/ivm calls into this one; it calls none of them. */

#include "opal_config.h"

#include <stdio.h>
#include <string.h>

#include "opal/util/output.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"

#include "btl_ivm.h"
#include "btl_ivm_endpoint.h"

static void endpoint_construct(mca_btl_ivm_endpoint_t *ep)
{
    OBJ_CONSTRUCT(&ep->pending, opal_list_t);
    OBJ_CONSTRUCT(&ep->lock, opal_mutex_t);
    ep->proc = NULL;
    ep->fbox_out_off = 0;
    ep->fbox_out_ready = ep->fbox_in_ready = false;
    ep->sends = 0;
    ep->on_pending_list = ep->failed = false;
    atomic_init(&ep->emu_inflight, 0);
    memset(&ep->lease, 0, sizeof(ep->lease));
}

static void endpoint_destruct(mca_btl_ivm_endpoint_t *ep)
{
    OBJ_DESTRUCT(&ep->pending);
    OBJ_DESTRUCT(&ep->lock);
}

OBJ_CLASS_INSTANCE(mca_btl_ivm_endpoint_t, opal_list_item_t, endpoint_construct, endpoint_destruct);

static mca_btl_ivm_endpoint_t *endpoint_create(uint32_t slot)
{
    mca_common_ivm_device_t *d = mca_btl_ivm_component.dev;
    uint64_t ring_off;

    /* the slot must belong to our job; its first user word is its ring */
    if (IVM_OK
        != ivm_slot_user_get(&d->region, slot, d->member.job, d->member.job_gen, 0, &ring_off)) {
        BTL_IVM_VERBOSE(5, "btl:ivm: slot %u: %s", slot, d->region.errmsg);
        return NULL;
    }
    mca_btl_ivm_endpoint_t *ep = OBJ_NEW(mca_btl_ivm_endpoint_t);
    if (NULL == ep) {
        return NULL;
    }
    if (IVM_OK
        != ivm_ring_attach(&d->region, ring_off, d->member.part_off,
                           d->member.part_off + d->member.part_size, &ep->ring)) {
        BTL_IVM_VERBOSE(1, "btl:ivm: slot %u: %s", slot, d->region.errmsg);
        OBJ_RELEASE(ep);
        return NULL;
    }
    ep->slot = slot;
    ep->self = slot == d->member.slot;
    return ep;
}

mca_btl_ivm_endpoint_t *mca_btl_ivm_endpoint_get(uint32_t slot)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_btl_ivm_endpoint_t *ep;

    if (slot >= c->dev->region.layout.slot_count) {
        return NULL;
    }
    if (OPAL_LIKELY(NULL != c->peers[slot])) {
        return c->peers[slot];
    }
    /* made by add_procs or by the receive path, maybe in two threads */
    OPAL_THREAD_LOCK(&c->lock);
    if (NULL == c->peers[slot]) {
        c->peers[slot] = endpoint_create(slot);
    }
    ep = c->peers[slot];
    OPAL_THREAD_UNLOCK(&c->lock);
    return ep;
}

/* Who is behind @ep, for the message: the upper layer's name when it has
 * added the peer, else what the peer's slot says (host, rank, pid). */
static void describe_peer(const mca_btl_ivm_endpoint_t *ep, char *buf, size_t len)
{
    struct ivm_slot_entry s;
    char host[IVM_HOST_LEN + 1];
    if (NULL == ep) {
        snprintf(buf, len, "unknown (the message does not say who sent it)");
    } else if (NULL != ep->proc) {
        snprintf(buf, len, "%s, slot %u", OPAL_NAME_PRINT(ep->proc->proc_name), ep->slot);
    } else if (IVM_OK == ivm_slot_read(&mca_btl_ivm_component.dev->region, ep->slot, &s)) {
        ivm_sanitize_label(s.host, IVM_HOST_LEN, host);
        snprintf(buf, len, "rank %u on %s (pid %llu), slot %u", s.rank, host,
                 (unsigned long long) s.owner.pid, ep->slot);
    } else {
        snprintf(buf, len, "slot %u", ep->slot);
    }
}

/* Say once, under help @topic, that @ep failed, and stop the job through
 * the upper layer's error callback. */
static void report_peer(struct mca_btl_base_endpoint_t *ep, const char *topic, const char *what)
{
    char peer[160];
    if (NULL != ep) {
        if (ep->failed) {
            return; /* said once */
        }
        ep->failed = true;
    }
    describe_peer(ep, peer, sizeof(peer));
    opal_show_help("help-btl-ivm.txt", topic, true, opal_process_info.nodename, peer, what);
    if (NULL != mca_btl_ivm.error_cb) {
        mca_btl_ivm.error_cb(&mca_btl_ivm.super, MCA_BTL_ERROR_FLAGS_FATAL,
                             NULL != ep ? ep->proc : NULL, (char *) what);
    }
}

void mca_btl_ivm_peer_failed(struct mca_btl_base_endpoint_t *ep, const char *what)
{
    report_peer(ep, "peer-protocol-error", what);
}

bool mca_btl_ivm_endpoint_alive(mca_btl_ivm_endpoint_t *ep, uint64_t now_ns)
{
    mca_common_ivm_device_t *d = mca_btl_ivm_component.dev;
    struct ivm_slot_entry s;
    int rc = ivm_slot_read(&d->region, ep->slot, &s);
    if (IVM_ERR_BUSY == rc) {
        return true; /* changing right now: judge it at the next check */
    }
    if (IVM_OK != rc || IVM_SLOT_CLAIMED != s.state || s.job != d->member.job
        || s.job_gen != d->member.job_gen) {
        report_peer(ep, "peer-gone",
                    "it left the ivm region while this process waited for it "
                    "(it exited or crashed)");
        return false;
    }
    if (IVM_DEAD == ivm_owner_liveness(&s.owner)) {
        report_peer(ep, "peer-gone", "its process is gone (it crashed in this VM)");
        return false;
    }
    if (0 != d->region.lease_ms
        && ivm_lease_watch_stale(&ep->lease, s.lease_ms, now_ns,
                                 (uint64_t) d->region.lease_ms * 1000000u)) {
        report_peer(ep, "peer-gone",
                    "it stopped renewing its lease (opal_common_ivm_lease) "
                    "while this process waited for it");
        return false;
    }
    return true;
}
