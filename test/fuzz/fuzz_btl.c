/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "btl": btl/ivm's receive path against peers that write
 * whatever they like into the job partition -- message headers in their
 * fragments, ring values, fast boxes and fast-box references, fragment
 * returns, emulated-RMA requests and replies -- compiled from the
 * component's own sources against the installed Open MPI 4.1:
 *
 *   btl_ivm_progress.c  polling the ring and fast boxes, handle_frag,
 *                       handle_return, setup_fbox_in, dispatch
 *   btl_ivm_emu.c       requests and replies (#included here, so that the
 *                       file's process-local tables are reset per input)
 *   btl_ivm_frag.c      fragment descriptors, cookies, take_back
 *   btl_ivm_endpoint.c  endpoints made by the receive path, peer_failed
 *   btl_ivm_send.c      our sends (emulated RMA, fast-box setup)
 *   btl_ivm_atomic.c    the atomics an emulated request runs
 *   btl_ivm_rdma.c      put/get/atomics on a registration handle a peer
 *                       sent (through the upper layer): single copy on
 *                       region memory, or emulated RMA
 *
 *   btl_ivm_module.c    the module: its free lists are set up by its own
 *                       mca_btl_ivm_module_first_init and torn down by its
 *                       finalize, for every input
 *
 * Not compiled: btl_ivm_component.c (MCA parameters: set here) and
 * common_ivm.c (the Open MPI glue: this file defines what the module
 * calls of it -- an mpool on the job heap, mca_common_ivm_find for our one
 * device, and a modex lookup that finds nobody, since add_procs is not
 * run).  The upper layer's receive callbacks are ours:
 * the table Open MPI keeps them in (mca_btl_base_active_message_trigger)
 * is renamed to one defined here (-D), so ASan watches its bounds.
 *
 * The world: one region (memfd), one job, three slots: ours (A) and two
 * peers (B, C) that this process simulates, each with a receive ring; B
 * also has a fast box towards us.  Peers can be honest (they consume
 * what we send them, answer our emulated-RMA requests correctly, return
 * our fragments) or not (any field raw from the input).  The region
 * outside our job partition and its tables is poisoned.  Checked promises:
 *  - the upper layer is only ever handed bytes inside the partition, for a
 *    registered tag;
 *  - an emulated operation completes once, and writes only into its own
 *    buffer (every local buffer is an exact-size malloc);
 *  - a fragment's send callback runs once per send.
 *
 * Input: a sequence of operations, see LLVMFuzzerTestOneInput. */

#include "opal_config.h"

#include "fuzz_common.h"

#include "opal/util/show_help.h"

/* the file under test, with its static state */
#include "btl_ivm_emu.c"

#include "btl_ivm_endpoint.h"
#include "btl_ivm_frag.h"

/* ---- what btl_ivm_component.c and common_ivm.c define in a real
 * build (btl_ivm_module.c defines mca_btl_ivm) ---- */
mca_btl_ivm_component_t mca_btl_ivm_component;
mca_common_ivm_counters_t mca_common_ivm_counters;
mca_common_ivm_params_t mca_common_ivm_params;
/* Open MPI's table of receive callbacks, renamed (-D) to this one, whose
 * bounds ASan knows */
mca_btl_active_message_callback_t fz_active_message_trigger[MCA_BTL_TAG_MAX];

#define NPEER 3 /* 0: us (A), 1: B, 2: C */
#define NPBUF 8
#define PBUF_SIZE 2048u
#define RING_CAP 16u
#define FBOX_SIZE 1024u
#define MAX_OPS 256
#define MAX_LOCAL 16

static mca_common_ivm_device_t dev;
static char path[64];
static uint8_t *snapshot;
static mca_mpool_base_module_t heap_mpool;

/* Everything about the simulated peers and the region that survives
 * from setup; restored (with the region bytes) before every input. */
static struct world {
    uint32_t slot[NPEER];
    uint64_t ring_off[NPEER];
    ivm_ring_handle_t to_us;          /* peers' producer handle on our ring */
    ivm_ring_handle_t peer_in[NPEER]; /* each peer consumes its own ring */
    uint64_t fbox_b;                  /* B's fast box towards us */
    ivm_fbox_tx_t fbox_b_tx;
    ivm_fbox_rx_t from_us[NPEER]; /* our fast box towards the peer, as it reads it */
    bool from_us_ready[NPEER];
    uint64_t pbuf[NPEER][NPBUF]; /* the peers' message buffers */
    unsigned pbuf_next[NPEER];
    uint64_t part_lo, part_hi;
} W, W0;

/* process-local memory of our emulated RMA: exact-size buffers */
static struct local_op {
    void *buf;
    bool done, live;
} local_ops[MAX_LOCAL];
static void *local_regs[MAX_LOCAL];
static uint64_t local_reg_len[MAX_LOCAL];
static struct mca_btl_base_registration_handle_t local_handle[MAX_LOCAL];
static struct mca_btl_base_registration_handle_t *btl_handle[MAX_LOCAL]; /* NULL: deregistered */
static unsigned nlocal_regs;
static bool send_out[4096]; /* by fragment cookie: a direct send awaiting its callback */
#define MAX_LEAKED 1024
static void *leaked[MAX_LEAKED]; /* memory an unfinished emulated RMA may still write */
static unsigned nleaked;
static unsigned errors_reported;

/* ---- Open MPI hooks ---- */

static int quiet_show_help(const char *file, const char *topic, int want_error_header, ...)
{
    (void) file;
    (void) topic;
    (void) want_error_header;
    return OPAL_SUCCESS;
}

static void error_cb(struct mca_btl_base_module_t *btl, int32_t flags, struct opal_proc_t *proc,
                     char *info)
{
    (void) btl;
    (void) flags;
    (void) proc;
    (void) info;
    errors_reported++;
}

static void upper_recv(struct mca_btl_base_module_t *btl, mca_btl_base_tag_t tag,
                       mca_btl_base_descriptor_t *des, void *cbdata)
{
    (void) btl;
    (void) cbdata;
    FZ_CHECK(tag < MCA_BTL_TAG_MAX && NULL != fz_active_message_trigger[tag].cbfunc,
             "tag %u delivered", tag);
    const uint8_t *p = des->des_segments[0].seg_addr.pval;
    size_t len = des->des_segments[0].seg_len;
    const uint8_t *lo = dev.region.map.base + W.part_lo, *hi = dev.region.map.base + W.part_hi;
    FZ_CHECK(p >= lo && p <= hi && len <= (size_t) (hi - p),
             "the upper layer got %zu bytes at partition offset %lld", len, (long long) (p - lo));
    (void) fz_touch(p, len);
}

/* common_ivm.c's, for our one device: which job-partition offset is @addr? */
int mca_common_ivm_find(const void *addr, size_t len, int *device, uint64_t *off)
{
    const uint8_t *p = addr, *base = dev.region.map.base;
    if (p < base + dev.member.part_off || (uint64_t) (p - base) > W.part_hi
        || len > W.part_hi - (uint64_t) (p - base)) {
        return OPAL_ERR_NOT_FOUND;
    }
    *device = 0;
    *off = (uint64_t) (p - base);
    return OPAL_SUCCESS;
}

mca_mpool_base_module_t *mca_common_ivm_mpool(int device)
{
    (void) device;
    return &heap_mpool;
}

int mca_common_ivm_peer_locate(const opal_process_name_t *peer, int *device,
                               mca_common_ivm_modex_entry_t *entry)
{
    (void) peer;
    (void) device;
    (void) entry;
    return OPAL_ERR_UNREACH;
}

void mca_common_ivm_fini(void)
{
}

static void *mpool_alloc(mca_mpool_base_module_t *m, size_t size, size_t align, uint32_t flags)
{
    uint64_t off;
    (void) m;
    (void) flags;
    if (IVM_OK != ivm_heap_alloc(&dev.heap, size, align, &off)) {
        return NULL;
    }
    return dev.region.map.base + off;
}

static void mpool_free(mca_mpool_base_module_t *m, void *addr)
{
    (void) m;
    (void) ivm_heap_free(&dev.heap, (uint64_t) ((uint8_t *) addr - dev.region.map.base));
}

/* ---- setup, once ---- */

static void must(bool ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "ivm-fuzz: btl setup: %s: %s\n", what, dev.region.errmsg);
        exit(2);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ivm_region_t *r = &dev.region;
    ivm_member_t m[NPEER];
    (void) argc;
    (void) argv;

    opal_show_help = quiet_show_help;
    fz_region_memfd(r, FZ_REGION_SIZE, path);
    must(IVM_OK == ivm_region_format(r, 0, 0), "format");
    for (int p = 0; p < NPEER; p++) {
        ivm_join_opts_t jo = {.label = "fuzz-btl",
                              .host = "fuzz",
                              .rank = (uint32_t) p,
                              .part_size = 12 * IVM_CHUNK_SIZE,
                              .lock_timeout_ms = 1000};
        ivm_job_key_make(jo.key, "fuzz-btl", "token");
        must(IVM_OK == ivm_job_join(r, &jo, &m[p]), "join");
        W.slot[p] = m[p].slot;
    }
    dev.member = m[0];
    W.part_lo = m[0].part_off;
    W.part_hi = m[0].part_off + m[0].part_size;
    must(IVM_OK == ivm_heap_open(&dev.heap, r, W.part_lo, m[0].part_size, 0), "heap");
    for (int p = 0; p < NPEER; p++) {
        must(IVM_OK == ivm_ring_create(&dev.heap, RING_CAP, W.slot[p], &W.ring_off[p]), "ring");
        must(IVM_OK == ivm_slot_user_set(r, W.slot[p], 0, W.ring_off[p]), "user word");
        must(IVM_OK == ivm_ring_attach(r, W.ring_off[p], W.part_lo, W.part_hi, &W.peer_in[p]),
             "peer ring");
        for (int k = 0; k < NPBUF; k++) {
            must(IVM_OK == ivm_heap_alloc(&dev.heap, PBUF_SIZE, IVM_CACHELINE, &W.pbuf[p][k]),
                 "peer buffer");
        }
    }
    must(IVM_OK == ivm_ring_attach(r, W.ring_off[0], W.part_lo, W.part_hi, &W.to_us), "our ring");
    must(IVM_OK == ivm_fbox_create(&dev.heap, FBOX_SIZE, W.slot[1], &W.fbox_b), "fbox");
    must(IVM_OK == ivm_fbox_attach_tx(r, W.fbox_b, W.part_lo, W.part_hi, &W.fbox_b_tx), "fbox tx");
    snapshot = malloc(r->map.size);
    memcpy(snapshot, r->map.base, r->map.size);
    W0 = W;

    heap_mpool.mpool_alloc = mpool_alloc;
    heap_mpool.mpool_free = mpool_free;
    heap_mpool.mpool_name = "ivm-fuzz";

    /* the upper layer listens on the PML's and osc's tags, not on the rest */
    for (int t = MCA_BTL_TAG_PML; t < MCA_BTL_TAG_USR; t++) {
        fz_active_message_trigger[t].cbfunc = upper_recv;
    }

    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    c->free_list_num = 4;
    c->free_list_max = 64;
    c->free_list_inc = 4;
    c->ring_size = RING_CAP;
    c->fbox_size = FBOX_SIZE;
    c->fbox_threshold = 3;
    c->fbox_max = 4;
    c->poll_limit = 8;
    mca_common_ivm_params.spin_time_us = 0; /* never sleep */
    mca_common_ivm_params.sleep_time_us = 0;
    c->output = -1;
    OBJ_CONSTRUCT(&c->lock, opal_mutex_t);
    mca_btl_ivm.super.btl_eager_limit = 256;
    mca_btl_ivm.super.btl_max_send_size = 1024;
    mca_btl_ivm.super.btl_register_error(&mca_btl_ivm.super, error_cb);
    return 0;
}

/* ---- per input: the process-local side up and down ---- */

static void world_up(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    ivm_region_t *r = &dev.region;

    fz_unfence(r->map.base, r->map.size);
    memcpy(r->map.base, snapshot, r->map.size);
    /* the superblock and tables are read (slots of peers); the rest of the
     * heap belongs to other jobs: off limits */
    ASAN_POISON_MEMORY_REGION(r->map.base + r->layout.heap_off, W0.part_lo - r->layout.heap_off);
    ASAN_POISON_MEMORY_REGION(r->map.base + W0.part_hi, r->map.size - W0.part_hi);
    W = W0;
    r->errmsg[0] = '\0';
    r->lease_ms = 0;

    /* what the component sets up when it opens, then the module's own
     * first-add_procs setup (free lists, peer table) */
    c->dev = &dev;
    c->ring = W.peer_in[0];
    c->ring_off = W.ring_off[0];
    c->num_fbox_in = c->fbox_in_next = c->fbox_out_count = 0;
    c->frag_table = NULL;
    c->frag_count = c->frag_table_size = 0;
    OBJ_CONSTRUCT(&c->pending_endpoints, opal_list_t);
    OBJ_CONSTRUCT(&c->pending_returns, opal_list_t);
    if (OPAL_SUCCESS != mca_btl_ivm_module_first_init()) {
        fprintf(stderr, "ivm-fuzz: btl: mca_btl_ivm_module_first_init failed\n");
        exit(2);
    }
    memset(local_ops, 0, sizeof(local_ops));
    memset(send_out, 0, sizeof(send_out));
    nlocal_regs = 0;
    errors_reported = 0;
}

static void world_down(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    ivm_region_t *r = &dev.region;

    while (!opal_list_is_empty(&c->pending_endpoints)) {
        (void) opal_list_remove_first(&c->pending_endpoints);
    }
    OBJ_DESTRUCT(&c->pending_endpoints);
    OPAL_LIST_DESTRUCT(&c->pending_returns);
    for (uint32_t s = 0; NULL != c->peers && s < r->layout.slot_count; s++) {
        mca_btl_ivm_endpoint_t *ep = c->peers[s];
        while (NULL != ep && !opal_list_is_empty(&ep->pending)) {
            (void) opal_list_remove_first(&ep->pending); /* frags: the lists own them */
        }
    }
    /* the module's finalize: endpoints, free lists (their buffers go back
     * to the heap, whatever it says now), emulated-RMA tables */
    fz_unfence(r->map.base, r->map.size);
    mca_btl_ivm.super.btl_finalize(&mca_btl_ivm.super);
    atomic_store(&inflight, 0);
    free(c->frag_table);
    c->frag_table = NULL;
    c->frag_count = c->frag_table_size = 0;
    for (unsigned i = 0; i < MAX_LOCAL; i++) {
        free(local_ops[i].buf);
        local_ops[i].buf = NULL;
    }
    for (unsigned i = 0; i < nlocal_regs; i++) {
        free(btl_handle[i]); /* the tables behind them are gone (emu_fini) */
        btl_handle[i] = NULL;
        free(local_regs[i]);
    }
    nlocal_regs = 0;
    for (unsigned i = 0; i < nleaked; i++) {
        free(leaked[i]);
    }
    nleaked = 0;
}

/* ---- the peers ---- */

static uint8_t *at(uint64_t off)
{
    return dev.region.map.base + off;
}

/* Peer @p writes a message into one of its buffers; returns its offset. */
static uint64_t peer_write(int p, uint8_t tag, uint8_t flags, const void *body, size_t blen,
                           fz_t *f, size_t extra)
{
    uint64_t off = W.pbuf[p][W.pbuf_next[p]++ % NPBUF];
    struct ivm_msg_hdr *h = (struct ivm_msg_hdr *) at(off);
    size_t room = PBUF_SIZE - sizeof(*h);
    memset(h, 0, sizeof(*h));
    h->src_slot = W.slot[p];
    h->tag = tag;
    h->flags = flags;
    h->len = (uint32_t) (blen + extra);
    if (blen > room) {
        blen = room;
    }
    memcpy(h + 1, body, blen);
    if (extra > room - blen) {
        extra = room - blen;
    }
    if (NULL != f) {
        fz_bytes(f, (uint8_t *) (h + 1) + blen, extra);
    } else {
        for (size_t i = 0; i < extra; i++) {
            ((uint8_t *) (h + 1))[blen + i] = (uint8_t) (i * 13);
        }
    }
    return off;
}

/* Has B told us about its fast box (and have we taken it)? */
static bool b_fbox_known(void)
{
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_component.peers[W.slot[1]];
    return NULL != ep && ep->fbox_in_ready;
}

/* Announce message @off to us: through our ring, or (B, once its fast box
 * is announced) by reference through the fast box. */
static void peer_announce(int p, uint64_t off, bool by_ref)
{
    if (by_ref && 1 == p && b_fbox_known()) {
        uint64_t *ref = ivm_fbox_reserve(&W.fbox_b_tx, sizeof(uint64_t));
        if (NULL != ref) {
            *ref = off;
            ivm_fbox_commit(&W.fbox_b_tx, sizeof(uint64_t), 0, IVM_FBOX_F_REF);
            return;
        }
    }
    (void) ivm_ring_push(&W.to_us, off);
}

/* An honest peer answers request @q (PUT data follows it). */
static void peer_answer(int p, const struct ivm_emu_req *q)
{
    struct ivm_emu_reply a = {.req = q->req,
                              .gen = q->gen,
                              .status = OPAL_SUCCESS,
                              .offset = q->offset,
                              .result = 0x0102030405060708ULL};
    size_t extra = 0;
    if (IVM_EMU_GET == q->type) {
        a.len = q->len;
        extra = q->len;
    }
    uint64_t off = peer_write(p, IVM_BTL_TAG_EMU_REPLY, 0, &a, sizeof(a), NULL, extra);
    peer_announce(p, off, true);
}

/* Peer @p handles one message of ours at @off (honestly, unless @knob). */
static void peer_handle(int p, uint64_t off, uint8_t knob)
{
    const uint64_t lo = W.part_lo, hi = W.part_hi;
    if (off % IVM_CACHELINE || off < lo || off + sizeof(struct ivm_msg_hdr) > hi) {
        return;
    }
    struct ivm_msg_hdr h;
    memcpy(&h, at(off), sizeof(h));
    if ((h.flags & IVM_MSG_F_SETUP_FBOX) && !W.from_us_ready[p]
        && IVM_OK == ivm_fbox_attach_rx(&dev.region, h.fbox_off, lo, hi, &W.from_us[p])) {
        W.from_us_ready[p] = true;
    }
    if (IVM_BTL_TAG_EMU_REQ == h.tag && h.len >= sizeof(struct ivm_emu_req)
        && off + sizeof(h) + sizeof(struct ivm_emu_req) <= hi && !(knob & 1)) {
        struct ivm_emu_req q;
        memcpy(&q, at(off + sizeof(h)), sizeof(q));
        peer_answer(p, &q);
    }
    if (!(knob & 2)) {
        (void) ivm_ring_push(&W.to_us, off | IVM_RING_V_RETURN);
    }
    if (knob & 4) {
        (void) ivm_ring_push(&W.to_us, off | IVM_RING_V_RETURN); /* twice */
    }
}

static void peer_drain(int p, uint8_t knob)
{
    uint64_t v;
    for (int n = 0; n < 64 && ivm_ring_pop(&W.peer_in[p], &v); n++) {
        if (!(v & IVM_RING_V_RETURN)) {
            peer_handle(p, v, knob);
        }
    }
    if (!W.from_us_ready[p]) {
        return;
    }
    for (int n = 0; n < 64; n++) {
        uint64_t hdr;
        const void *payload;
        if (1 != ivm_fbox_peek(&W.from_us[p], &hdr, &payload)) {
            break;
        }
        uint64_t ref = (IVM_FBOX_HDR_FLAGS(hdr) & IVM_FBOX_F_REF) && 8 == IVM_FBOX_HDR_LEN(hdr)
                           ? *(const uint64_t *) payload
                           : 1;
        ivm_fbox_consume(&W.from_us[p], hdr);
        peer_handle(p, ref, knob);
    }
}

/* ---- our side ---- */

static void emu_done(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                     void *local, struct mca_btl_base_registration_handle_t *lh, void *ctx,
                     void *cbdata, int status)
{
    struct local_op *o = cbdata;
    (void) btl;
    (void) ep;
    (void) lh;
    (void) ctx;
    (void) status;
    FZ_CHECK(o->live && !o->done, "an emulated operation completed twice");
    FZ_CHECK(local == o->buf, "completion names another buffer");
    o->done = true;
}

static void sent_cb(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    struct mca_btl_base_descriptor_t *des, int status)
{
    mca_btl_ivm_frag_t *frag = (mca_btl_ivm_frag_t *) des;
    (void) btl;
    (void) ep;
    (void) status;
    FZ_CHECK(frag->cookie < 4096 && send_out[frag->cookie],
             "fragment %u: send callback without a send outstanding", frag->cookie);
    send_out[frag->cookie] = false;
}

static int peer_sel(uint8_t v)
{
    return 1 + v % (NPEER - 1);
}

static void op_start(fz_t *f)
{
    uint8_t sel = fz_u8(f), type = 1 + fz_u8(f) % 4, knob = fz_u8(f);
    unsigned i;
    for (i = 0; i < MAX_LOCAL && local_ops[i].live; i++) {
    }
    if (MAX_LOCAL == i) {
        return;
    }
    /* the target: a peer, or ourselves (osc/rdma's own rank) */
    uint32_t slot = (sel & 0x80) ? W.slot[0] : W.slot[peer_sel(sel)];
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(slot);
    if (NULL == ep) {
        return;
    }
    struct mca_btl_base_registration_handle_t rh = {.kind = MCA_BTL_IVM_REG_EMULATED,
                                                    .index = fz_u8(f) % 8};
    uint64_t raddr = fz_u64(f);
    if (ep->self && nlocal_regs > 0) {
        unsigned k = rh.index % nlocal_regs;
        rh.index = k;
        raddr = (uint64_t) (uintptr_t) local_regs[k] + raddr % (local_reg_len[k] + 16);
    }
    bool bulk = IVM_EMU_PUT == type || IVM_EMU_GET == type;
    size_t size = bulk ? fz_u16(f) % 3000 : ((knob & 1) ? 4 : 8);
    struct local_op *o = &local_ops[i];
    free(o->buf);
    o->buf = NULL;
    if (bulk || !(knob & 2)) {
        o->buf = malloc(size ? size : 1);
        memset(o->buf, 0x33, size ? size : 1);
    }
    o->live = true;
    o->done = false;
    const int aop = fz_u8(f) % 12;
    const uint64_t operand0 = fz_u64(f), operand1 = fz_u64(f);
    mca_btl_ivm_emu_args_t a = {.type = type,
                                .local = o->buf,
                                .remote_address = raddr,
                                .remote_handle = &rh,
                                .size = size,
                                .op = aop,
                                .operand = {operand0, operand1},
                                .flags = (knob & 1) ? MCA_BTL_ATOMIC_FLAG_32BIT : 0,
                                .cbfunc = emu_done,
                                .cbdata = o};
    if (OPAL_SUCCESS != mca_btl_ivm_emu_start(ep, &a)) {
        o->live = false;
    }
}

/* Register memory as osc/rdma does (remote atomics: emulated for memory
 * outside the region), or deregister an earlier registration: requests
 * naming it must then be refused. */
static void op_register(fz_t *f)
{
    size_t len = 8 + fz_u16(f) % 4096;
    if (len & 1) { /* deregister */
        unsigned k = (unsigned) (len >> 1) % (nlocal_regs ? nlocal_regs : 1);
        if (k < nlocal_regs && NULL != btl_handle[k]) {
            mca_btl_ivm_deregister_mem(&mca_btl_ivm.super, btl_handle[k]);
            btl_handle[k] = NULL; /* local_handle[k] keeps the stale index */
        }
        return;
    }
    if (nlocal_regs >= MAX_LOCAL) {
        return;
    }
    void *buf = malloc(len);
    memset(buf, 0x44, len);
    struct mca_btl_base_registration_handle_t *h = mca_btl_ivm_register_mem(
        &mca_btl_ivm.super, NULL, buf, len, MCA_BTL_REG_FLAG_REMOTE_ATOMIC);
    if (NULL == h) {
        free(buf);
        return;
    }
    local_handle[nlocal_regs] = *h;
    btl_handle[nlocal_regs] = h;
    local_regs[nlocal_regs] = buf;
    local_reg_len[nlocal_regs++] = len;
}

static void op_emu_req(fz_t *f)
{
    int p = peer_sel(fz_u8(f));
    uint8_t knob = fz_u8(f);
    const uint8_t type = fz_u8(f) % 6, aop = fz_u8(f) % 12;
    struct ivm_emu_req q = {.type = type, .is32 = knob & 1, .op = aop};
    uint8_t regsel = fz_u8(f);
    uint64_t addr_off = fz_u16(f), len = fz_u16(f);
    if (nlocal_regs > 0 && !(knob & 2)) {
        unsigned k = regsel % nlocal_regs;
        q.reg = local_handle[k].index;
        q.addr = local_handle[k].base + addr_off % (local_reg_len[k] + 64);
    } else {
        q.reg = regsel;
        q.addr = fz_u64(f);
    }
    q.len = (knob & 4) ? fz_u64(f) : len % 1100;
    q.operand[0] = fz_u64(f);
    q.operand[1] = fz_u64(f);
    q.req = fz_u32(f);
    q.gen = fz_u32(f);
    q.offset = fz_u64(f);
    size_t extra = IVM_EMU_PUT == q.type ? (size_t) (q.len % 1100) : 0;
    uint64_t off = peer_write(p, IVM_BTL_TAG_EMU_REQ, 0, &q, sizeof(q), f, extra);
    if (knob & 8) {
        ((struct ivm_msg_hdr *) at(off))->len = fz_u32(f) % 4096; /* a lying length */
    }
    peer_announce(p, off, knob & 16);
}

static void op_emu_reply(fz_t *f)
{
    int p = peer_sel(fz_u8(f));
    uint8_t knob = fz_u8(f), sel = fz_u8(f);
    struct ivm_emu_reply a = {.status = OPAL_SUCCESS};
    uint64_t expect = 0;
    if (nops > 0 && !(knob & 1)) {
        emu_op_t *o = &ops[sel % nops];
        a.req = sel % nops;
        a.gen = o->gen;
        a.offset = o->t.next_offset;
        expect = mca_btl_ivm_emu_reply_len(&o->t, a.offset);
        a.len = expect;
    } else {
        a.req = fz_u32(f);
        a.gen = fz_u32(f);
    }
    if (knob & 2) {
        a.offset += fz_u32(f); /* out of turn, or past the buffer */
    }
    if (knob & 4) {
        a.len = fz_u64(f);
    }
    if (knob & 8) {
        a.status = (int32_t) fz_u32(f);
    }
    a.result = fz_u64(f);
    size_t extra = (knob & 16) ? fz_u16(f) % 1100 : (size_t) (a.len < 1100 ? a.len : 1100);
    uint64_t off = peer_write(p, IVM_BTL_TAG_EMU_REPLY, 0, &a, sizeof(a), f, extra);
    peer_announce(p, off, knob & 32);
}

static void op_upper_msg(fz_t *f)
{
    int p = peer_sel(fz_u8(f));
    uint8_t knob = fz_u8(f), tag = fz_u8(f);
    size_t len = fz_u16(f) % 1100;
    uint64_t off = peer_write(p, tag, 0, "", 0, f, len);
    struct ivm_msg_hdr *h = (struct ivm_msg_hdr *) at(off);
    if (knob & 1) {
        h->len = fz_u32(f); /* claims more than its buffer */
    }
    if (knob & 2) {
        h->src_slot = fz_u32(f) % 40; /* another member, or none */
    }
    if (knob & 4) {
        h->flags = IVM_MSG_F_SETUP_FBOX; /* announce B's fast box (maybe wrongly) */
        h->fbox_off = (knob & 8) ? W.fbox_b + (uint64_t) fz_u32(f) % 4096 : W.fbox_b;
    }
    if (knob & 16) {
        off += (uint64_t) (int8_t) fz_u8(f); /* announce a shifted offset */
    }
    peer_announce(p, off, knob & 32);
}

static void op_return(fz_t *f)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    uint16_t sel = fz_u16(f);
    uint8_t knob = fz_u8(f);
    uint64_t off;
    if (c->frag_count > 0 && !(knob & 1)) {
        off = c->frag_table[sel % c->frag_count]->hdr_off;
        if (knob & 2) {
            off += (uint64_t) (int16_t) fz_u16(f);
        }
    } else {
        off = W.part_lo + fz_u32(f) % (W.part_hi - W.part_lo + 4096);
    }
    (void) ivm_ring_push(&W.to_us, off | IVM_RING_V_RETURN);
}

static void op_frag_hdr(fz_t *f)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    if (0 == c->frag_count) {
        return;
    }
    mca_btl_ivm_frag_t *frag = c->frag_table[fz_u16(f) % c->frag_count];
    uint8_t which = fz_u8(f);
    if (which & 1) {
        frag->hdr->cookie = fz_u32(f);
    }
    if (which & 2) {
        frag->hdr->len = fz_u32(f);
    }
    if (which & 4) {
        frag->hdr->flags = fz_u8(f);
        frag->hdr->fbox_off = fz_u64(f);
    }
    if (which & 8) {
        frag->hdr->src_slot = fz_u32(f);
    }
}

static void op_fbox_raw(fz_t *f)
{
    uint32_t len = fz_u16(f) % 300;
    uint8_t tag = fz_u8(f), flags = fz_u8(f);
    if (flags & 0x10) {
        /* a header word of B's choosing where the next one goes, with
         * the sequence number we expect: any length, any flags */
        ivm_fbox_tx_t *tx = &W.fbox_b_tx;
        uint64_t h = IVM_FBOX_HDR(fz_u32(f), tag, flags | IVM_FBOX_F_VALID, tx->seq);
        atomic_store((_Atomic uint64_t *) (tx->fb->data + (tx->tail & (tx->size - 1))), h);
        return;
    }
    uint8_t *p = ivm_fbox_reserve(&W.fbox_b_tx, len);
    if (NULL != p) {
        fz_bytes(f, p, len);
        ivm_fbox_commit(&W.fbox_b_tx, len, tag, flags);
    }
}

static void op_slot(fz_t *f)
{
    ivm_region_t *r = &dev.region;
    int p = peer_sel(fz_u8(f));
    struct ivm_slot_entry *s =
        (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off) + W.slot[p];
    switch (fz_u8(f) % 4) {
    case 0: atomic_store(&s->state, IVM_SLOT_FREE); break;
    case 1: s->job = fz_u32(f); break;
    case 2: atomic_store(&s->user[0], fz_u64(f)); break;
    default: s->job_gen++; break;
    }
}

static void op_send(fz_t *f)
{
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(W.slot[peer_sel(fz_u8(f))]);
    size_t len = fz_u16(f) % 1024;
    uint8_t tag = MCA_BTL_TAG_PML + fz_u8(f) % 32;
    if (NULL == ep) {
        return;
    }
    mca_btl_ivm_frag_t *frag = mca_btl_ivm_frag_alloc(ep, len, MCA_BTL_DES_FLAGS_BTL_OWNERSHIP);
    if (NULL == frag) {
        return;
    }
    FZ_CHECK(frag->cookie < 4096 && !send_out[frag->cookie],
             "fragment %u handed out while its send is outstanding", frag->cookie);
    memset(frag->segments[0].seg_addr.pval, 0x77, len);
    frag->base.des_cbfunc = sent_cb;
    send_out[frag->cookie] = true;
    (void) mca_btl_ivm_send(&mca_btl_ivm.super, ep, &frag->base, tag);
}

static void rdma_done(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                      void *local, struct mca_btl_base_registration_handle_t *lh, void *ctx,
                      void *cbdata, int status)
{
    (void) btl;
    (void) ep;
    (void) local;
    (void) lh;
    (void) ctx;
    (void) status;
    *(int *) cbdata += 1;
}

/* The upper layer (osc/rdma) hands us a registration handle a peer sent
 * it: region memory (single copy) or emulated; we put, get or run an
 * atomic on it. */
static void op_rdma(fz_t *f)
{
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(W.slot[peer_sel(fz_u8(f))]);
    uint8_t what = fz_u8(f), knob = fz_u8(f);
    struct mca_btl_base_registration_handle_t rh;
    if (NULL == ep) {
        return;
    }
    if (knob & 1) { /* all of it from the peer */
        rh.kind = fz_u32(f);
        rh.index = fz_u32(f);
        rh.region_off = fz_u64(f);
        rh.base = fz_u64(f);
        rh.len = fz_u64(f);
    } else { /* a buffer in the partition, as register_mem describes one */
        rh.kind = MCA_BTL_IVM_REG_REGION;
        rh.index = 0;
        rh.region_off = W.part_lo + fz_u32(f) % (W.part_hi - W.part_lo + 256);
        rh.base = 0x7f0000000000ULL + fz_u16(f);
        rh.len = fz_u32(f) % (W.part_hi - W.part_lo);
    }
    uint64_t raddr = rh.base + (uint64_t) (int32_t) fz_u32(f);
    size_t size = fz_u16(f) % 4096;
    int rc, aop = fz_u8(f) % 12, flags = (knob & 2) ? MCA_BTL_ATOMIC_FLAG_32BIT : 0;
    const uint64_t operand = fz_u64(f), value = fz_u64(f);
    /* all heap: an emulated operation may complete after we return */
    uint8_t *local = malloc(size ? size : 1);
    uint64_t *result = malloc(8);
    int *calls = calloc(1, sizeof(int));
    if (NULL == local || NULL == result || NULL == calls || nleaked + 3 > MAX_LEAKED) {
        free(local);
        free(result);
        free(calls);
        return;
    }
    memset(local, 0x66, size ? size : 1);
    switch (what % 5) {
    case 0:
        rc = mca_btl_ivm_put(&mca_btl_ivm.super, ep, local, raddr, NULL, &rh, size, 0, 0, rdma_done,
                             NULL, calls);
        break;
    case 1:
        rc = mca_btl_ivm_get(&mca_btl_ivm.super, ep, local, raddr, NULL, &rh, size, 0, 0, rdma_done,
                             NULL, calls);
        break;
    case 2:
        rc = mca_btl_ivm_aop(&mca_btl_ivm.super, ep, raddr, &rh, aop, operand, flags, 0, rdma_done,
                             NULL, calls);
        break;
    case 3:
        rc = mca_btl_ivm_afop(&mca_btl_ivm.super, ep, result, raddr, NULL, &rh, aop, operand, flags,
                              0, rdma_done, NULL, calls);
        break;
    default:
        rc = mca_btl_ivm_acswap(&mca_btl_ivm.super, ep, result, raddr, NULL, &rh, operand, value,
                                flags, 0, rdma_done, NULL, calls);
        break;
    }
    if (MCA_BTL_IVM_REG_EMULATED != rh.kind) {
        FZ_CHECK(OPAL_SUCCESS != rc || 1 == *calls, "single-copy RMA completed %d times", *calls);
    }
    /* kept until the input ends: an emulated one may still be in flight */
    leaked[nleaked++] = local;
    leaked[nleaked++] = result;
    leaked[nleaked++] = calls;
}

static void op_patch(fz_t *f)
{
    uint64_t off = W.part_lo + fz_u32(f) % (W.part_hi - W.part_lo);
    size_t len = (size_t) (fz_u8(f) % 16) + 1;
    if (len > W.part_hi - off) {
        len = W.part_hi - off;
    }
    fz_bytes(f, at(off), len);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    fz_t f = {d, size};
    world_up();
    for (int n = 0; n < MAX_OPS && fz_left(&f) > 0; n++) {
        switch (fz_u8(&f) % 16) {
        case 0: op_upper_msg(&f); break;
        case 1: op_emu_req(&f); break;
        case 2: op_emu_reply(&f); break;
        case 3: op_return(&f); break;
        case 4: (void) ivm_ring_push(&W.to_us, fz_u64(&f)); break;
        case 5: op_fbox_raw(&f); break;
        case 6: op_start(&f); break;
        case 7: op_register(&f); break;
        case 8:
        case 9: {
            unsigned k = 1 + fz_u8(&f) % 8;
            for (unsigned i = 0; i < k; i++) {
                (void) mca_btl_ivm_component_progress();
            }
            break;
        }
        case 10: {
            int p = peer_sel(fz_u8(&f));
            peer_drain(p, fz_u8(&f));
            break;
        }
        case 11: op_patch(&f); break;
        case 12: op_frag_hdr(&f); break;
        case 13: op_slot(&f); break;
        case 14: op_send(&f); break;
        default: op_rdma(&f); break;
        }
    }
    /* let everything in flight land */
    for (int i = 0; i < 4; i++) {
        (void) mca_btl_ivm_component_progress();
        peer_drain(1, 0);
        peer_drain(2, 0);
    }
    (void) mca_btl_ivm_component_progress();
    world_down();
    return 0;
}
