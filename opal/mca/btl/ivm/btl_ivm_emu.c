/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* RMA on memory outside the region, by active messages.
 *
 * osc/rdma picks btl/ivm for windows across VMs (it reaches every peer with
 * put, get and atomics) and registers whatever memory the window has --
 * usually ordinary process memory that no peer can map.  Such memory is
 * registered as "emulated": the handle names the registrant's table entry,
 * and a put, get or atomic on it travels as a request message that the
 * owner executes on its own memory and answers.  ob1 never asks for remote
 * atomics, so its single-copy path stays limited to region memory.
 *
 * Requests and replies are ordinary BTL messages on an internal tag, sent
 * in the same order as every other message to that peer; the receiver
 * checks every request against its own registrations before touching its
 * memory. */

#include "opal_config.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "btl_ivm.h"
#include "btl_ivm_atomic.h"
#include "btl_ivm_emu.h"
#include "btl_ivm_emu_exec.h"
#include "btl_ivm_endpoint.h"
#include "btl_ivm_frag.h"

/* The request and reply bodies (struct ivm_emu_req, struct ivm_emu_reply)
 * are part of the region format: common_ivm_layout_btl.h. */

/* Process-local bookkeeping: our registrations (mca_btl_ivm_emu_range_t)
 * and our operations. */
typedef struct {
    bool live;
    uint32_t gen, chunks_left;
    bool is32, fetch;
    mca_btl_ivm_emu_track_t t; /* type, size, chunking, the reply due next */
    int status;
    struct mca_btl_base_endpoint_t *ep;
    void *local;
    struct mca_btl_base_registration_handle_t *local_handle;
    mca_btl_base_rdma_completion_fn_t cbfunc;
    void *cbcontext, *cbdata;
} emu_op_t;

/* A request or reply that found no free fragment: sent from progress
 * later, in order.  Its data stays valid until then: a put's source until
 * the put completes, a get's source is registered memory. */
typedef struct {
    opal_list_item_t super;
    struct mca_btl_base_endpoint_t *ep;
    mca_btl_base_tag_t tag;
    union {
        struct ivm_emu_req r;
        struct ivm_emu_reply a;
    } head;
    size_t head_len;
    const void *data;
    size_t data_len;
} emu_pending_t;
static OBJ_CLASS_INSTANCE(emu_pending_t, opal_list_item_t, NULL, NULL);
static opal_list_t pending_replies; /* requests and replies */
static bool pending_init;

static mca_btl_ivm_emu_range_t *regs;
static uint32_t nregs;
static emu_op_t *ops;
static uint32_t nops;
static atomic_uint inflight; /* ops waiting for a peer's reply */

static uint32_t grow_slot(void **table, uint32_t *n, size_t elem, bool (*is_free)(void *))
{
    for (uint32_t i = 0; i < *n; i++) {
        if (is_free((char *) *table + i * elem)) {
            return i;
        }
    }
    uint32_t m = *n ? 2 * *n : 16;
    void *t = realloc(*table, m * elem);
    if (NULL == t) {
        return UINT32_MAX;
    }
    memset((char *) t + *n * elem, 0, (m - *n) * elem);
    *table = t;
    uint32_t slot = *n;
    *n = m;
    return slot;
}

static bool reg_free(void *p)
{
    return !((mca_btl_ivm_emu_range_t *) p)->live;
}
static bool op_free(void *p)
{
    return !((emu_op_t *) p)->live;
}

bool mca_btl_ivm_emu_register(void *base, size_t size, struct mca_btl_base_registration_handle_t *h)
{
    OPAL_THREAD_LOCK(&mca_btl_ivm_component.lock);
    uint32_t i = grow_slot((void **) &regs, &nregs, sizeof(*regs), reg_free);
    if (UINT32_MAX != i) {
        regs[i] = (mca_btl_ivm_emu_range_t){
            .base = (uint64_t) (uintptr_t) base, .len = size, .live = true};
        h->kind = MCA_BTL_IVM_REG_EMULATED;
        h->index = i;
        h->region_off = 0;
        h->base = (uint64_t) (uintptr_t) base;
        h->len = size;
    }
    OPAL_THREAD_UNLOCK(&mca_btl_ivm_component.lock);
    return UINT32_MAX != i;
}

void mca_btl_ivm_emu_deregister(struct mca_btl_base_registration_handle_t *h)
{
    OPAL_THREAD_LOCK(&mca_btl_ivm_component.lock);
    if (h->index < nregs) {
        regs[h->index].live = false;
    }
    OPAL_THREAD_UNLOCK(&mca_btl_ivm_component.lock);
}

static void sent(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                 struct mca_btl_base_descriptor_t *des, int status)
{
    (void) btl;
    (void) ep;
    (void) des;
    (void) status; /* the fragment is ours (BTL ownership): recycled after this */
}

static int send_msg(struct mca_btl_base_endpoint_t *ep, const void *head, size_t head_len,
                    const void *data, size_t data_len, mca_btl_base_tag_t tag)
{
    mca_btl_ivm_frag_t *frag =
        mca_btl_ivm_frag_alloc(ep, head_len + data_len, MCA_BTL_DES_FLAGS_BTL_OWNERSHIP);
    if (OPAL_UNLIKELY(NULL == frag)) {
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    frag->base.des_cbfunc = sent;
    memcpy(frag->segments[0].seg_addr.pval, head, head_len);
    if (data_len > 0) {
        memcpy((char *) frag->segments[0].seg_addr.pval + head_len, data, data_len);
    }
    return mca_btl_ivm_send(&mca_btl_ivm.super, ep, &frag->base, tag);
}

/* Send now, or (no free fragment, or older messages still waiting) queue
 * for mca_btl_ivm_emu_progress(): an RMA message is never dropped. */
static int send_or_queue(struct mca_btl_base_endpoint_t *ep, const void *head, size_t head_len,
                         const void *data, size_t data_len, mca_btl_base_tag_t tag)
{
    if (!pending_init) {
        OBJ_CONSTRUCT(&pending_replies, opal_list_t);
        pending_init = true;
    }
    if (opal_list_is_empty(&pending_replies)
        && OPAL_SUCCESS == send_msg(ep, head, head_len, data, data_len, tag)) {
        return OPAL_SUCCESS;
    }
    emu_pending_t *p = OBJ_NEW(emu_pending_t);
    if (NULL == p) {
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    p->ep = ep;
    p->tag = tag;
    memcpy(&p->head, head, head_len);
    p->head_len = head_len;
    p->data = data;
    p->data_len = data_len;
    opal_list_append(&pending_replies, &p->super);
    return OPAL_SUCCESS;
}

/* Largest data chunk one message carries. */
static size_t chunk_max(void)
{
    return mca_btl_ivm.super.btl_max_send_size - sizeof(struct ivm_emu_req);
}

/* Carry out request @r (with @in: PUT data) on our own memory, checked
 * against our registrations (btl_ivm_emu_exec.c). */
static bool execute(const struct ivm_emu_req *r, const void *in, size_t in_len,
                    struct ivm_emu_reply *a, const void **data)
{
    const mca_btl_ivm_emu_target_t t = {.regs = regs, .nregs = nregs, .chunk_max = chunk_max()};
    return mca_btl_ivm_emu_execute(&t, r, in, in_len, a, data);
}

/* One chunk of request a->req is answered (@data: GET data); @a has been
 * checked by reply_expected(), or comes from this process. */
static void complete_chunk(struct mca_btl_base_endpoint_t *ep, const struct ivm_emu_reply *a,
                           const void *data)
{
    emu_op_t *o = &ops[a->req];
    if (OPAL_SUCCESS != a->status) {
        o->status = a->status;
    } else if (a->len > 0) {
        memcpy((char *) o->local + a->offset, data, a->len);
    } else if (o->fetch && NULL != o->local) {
        mca_btl_ivm_store_result(o->local, a->result, o->is32);
    }
    o->t.next_offset += o->t.chunk;
    if (0 == --o->chunks_left) {
        emu_op_t done = *o;
        o->live = false; /* free before the callback, which may start more */
        if (NULL != ep) {
            atomic_fetch_sub_explicit(&inflight, 1, memory_order_relaxed);
            atomic_fetch_sub_explicit(&ep->emu_inflight, 1, memory_order_relaxed);
        }
        done.cbfunc(&mca_btl_ivm.super, done.ep, done.local, done.local_handle, done.cbcontext,
                    done.cbdata, done.status);
    }
}

/* A free request slot for @a, filled in; UINT32_MAX if none can be had. */
static uint32_t op_new(struct mca_btl_base_endpoint_t *ep, const mca_btl_ivm_emu_args_t *a,
                       size_t chunk, uint32_t nchunks)
{
    OPAL_THREAD_LOCK(&mca_btl_ivm_component.lock);
    uint32_t i = grow_slot((void **) &ops, &nops, sizeof(*ops), op_free);
    if (UINT32_MAX != i) {
        emu_op_t *o = &ops[i];
        bool atomic = IVM_EMU_AOP == a->type || IVM_EMU_CSWAP == a->type;
        *o = (emu_op_t){.live = true,
                        .gen = o->gen + 1,
                        .chunks_left = nchunks,
                        .is32 = a->flags & MCA_BTL_ATOMIC_FLAG_32BIT,
                        .fetch = atomic && NULL != a->local,
                        .t = {.type = (uint8_t) a->type, .size = a->size, .chunk = chunk},
                        .ep = ep,
                        .local = a->local,
                        .local_handle = a->local_handle,
                        .cbfunc = a->cbfunc,
                        .cbcontext = a->cbcontext,
                        .cbdata = a->cbdata};
        if (NULL != ep && !ep->self) {
            atomic_fetch_add_explicit(&inflight, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&ep->emu_inflight, 1, memory_order_relaxed);
        }
    }
    OPAL_THREAD_UNLOCK(&mca_btl_ivm_component.lock);
    return i;
}

/* Chunk @r for this process itself (osc/rdma's own rank): no message. */
static void run_locally(const struct ivm_emu_req *r, const void *put)
{
    struct ivm_emu_reply a;
    const void *data;
    if (!execute(r, put, r->len, &a, &data)) {
        a.status = OPAL_ERR_BAD_PARAM; /* execute() left a.len 0 */
    }
    complete_chunk(NULL, &a, data);
}

int mca_btl_ivm_emu_start(struct mca_btl_base_endpoint_t *ep, const mca_btl_ivm_emu_args_t *a)
{
    size_t chunk = mca_btl_ivm_emu_chunk((uint8_t) a->type, a->size, chunk_max());
    uint32_t nchunks = mca_btl_ivm_emu_nchunks(a->size, chunk);
    uint32_t i = op_new(ep, a, chunk, nchunks);
    if (UINT32_MAX == i) {
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    uint32_t gen = ops[i].gen;
    mca_common_ivm_counters.emulated_ops++;

    for (uint32_t k = 0; k < nchunks; k++) {
        size_t off = (size_t) k * chunk, len = a->size - off < chunk ? a->size - off : chunk;
        struct ivm_emu_req r = {.type = (uint8_t) a->type,
                                .is32 = (uint8_t) (a->flags & MCA_BTL_ATOMIC_FLAG_32BIT),
                                .op = (uint16_t) a->op,
                                .reg = a->remote_handle->index,
                                .addr = a->remote_address + off,
                                .len = len,
                                .operand = {a->operand[0], a->operand[1]},
                                .req = i,
                                .gen = gen,
                                .offset = off};
        const void *put = IVM_EMU_PUT == a->type ? (char *) a->local + off : NULL;
        if (NULL == ep || ep->self) {
            run_locally(&r, put);
            continue;
        }
        int rc = send_or_queue(ep, &r, sizeof(r), put, IVM_EMU_PUT == a->type ? len : 0,
                               MCA_BTL_IVM_TAG_EMU_REQ);
        if (OPAL_SUCCESS != rc) {
            /* out of memory: the request can neither go nor wait */
            mca_btl_ivm_peer_failed(ep, "could not be sent an RMA request: out of memory");
            return rc;
        }
    }
    return OPAL_SUCCESS;
}

/* A peer asks us to work on our memory. */
void mca_btl_ivm_emu_request(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len)
{
    struct ivm_emu_req r;
    struct ivm_emu_reply a;
    const void *data;

    if (len < sizeof(r)) {
        mca_btl_ivm_peer_failed(ep, "sent a truncated RMA request");
        return;
    }
    memcpy(&r, payload, sizeof(r));
    if (!execute(&r, (const char *) payload + sizeof(r), len - sizeof(r), &a, &data)) {
        mca_btl_ivm_peer_failed(ep, "asked for RMA outside what this process registered");
        return;
    }
    if (OPAL_SUCCESS != send_or_queue(ep, &a, sizeof(a), data, a.len, MCA_BTL_IVM_TAG_EMU_REPLY)) {
        mca_btl_ivm_peer_failed(ep, "could not be answered: out of memory for the RMA reply");
    }
}

int mca_btl_ivm_emu_progress(void)
{
    int n = 0;
    while (pending_init && !opal_list_is_empty(&pending_replies)) {
        emu_pending_t *p = (emu_pending_t *) opal_list_get_first(&pending_replies);
        if (OPAL_SUCCESS != send_msg(p->ep, &p->head, p->head_len, p->data, p->data_len, p->tag)) {
            break;
        }
        opal_list_remove_first(&pending_replies);
        OBJ_RELEASE(p);
        n++;
    }
    return n;
}

uint32_t mca_btl_ivm_emu_inflight(void)
{
    return atomic_load_explicit(&inflight, memory_order_relaxed);
}

/* The answer to one of our requests. */
void mca_btl_ivm_emu_reply(struct mca_btl_base_endpoint_t *ep, const void *payload, size_t len)
{
    struct ivm_emu_reply a;
    if (len < sizeof(a)) {
        mca_btl_ivm_peer_failed(ep, "sent a truncated RMA reply");
        return;
    }
    memcpy(&a, payload, sizeof(a)); /* one private copy: the peer may still write */
    if (a.req >= nops || !ops[a.req].live || ops[a.req].gen != a.gen || ops[a.req].ep != ep) {
        mca_btl_ivm_peer_failed(ep, "answered an RMA request it was not sent");
        return;
    }
    if (!mca_btl_ivm_emu_reply_expected(&ops[a.req].t, &a, OPAL_SUCCESS == a.status,
                                        len - sizeof(a))) {
        mca_btl_ivm_peer_failed(ep, "answered an RMA request out of turn, twice, or with data "
                                    "that does not fit the request");
        return;
    }
    complete_chunk(ep, &a, (const char *) payload + sizeof(a));
}

void mca_btl_ivm_emu_fini(void)
{
    if (pending_init) {
        OPAL_LIST_DESTRUCT(&pending_replies);
        pending_init = false;
    }
    free(regs);
    free(ops);
    regs = NULL;
    ops = NULL;
    nregs = nops = 0;
}
