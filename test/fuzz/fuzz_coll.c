/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "coll": coll/ivm's reading of its group members' state --
 * the tokens in their control lines and small slots, the data in their
 * channel buffers, and their process slots (the liveness checks of every
 * wait) -- with coll_ivm_sync.c and coll_ivm_xfer.c compiled unchanged
 * against the installed Open MPI 4.1's headers.
 *
 * A group of 2..6 members, all simulated by this process (each joined the
 * region, so each has a slot with a nonce), shares an area allocated from
 * the job heap with the geometry coll/ivm computes.  We are member "me";
 * the others are driven by the input: whenever one of our waits calls
 * opal_progress() (defined here, in place of Open MPI's), the next input
 * bytes make a peer act: publish a token (near the step we are at, or any
 * value), write small-slot data, overwrite area bytes, or leave the region
 * (free its slot, change its generation or nonce).  When the input is used
 * up inside a wait, every peer leaves, so every wait ends: no input can
 * hang the harness unless coll/ivm itself waits without a bound.
 *
 * The input's first bytes choose the group (size, our index, chunk size,
 * buffers, tree degree) and whether leases are on (1 ms: a peer whose
 * lease word stands still through a wait is declared gone; timing-
 * dependent, so only on request); peers can also rewrite their slot's
 * lease, job or pid (a process of our VM that is gone).
 *
 * Between waits the input picks our next call: the small exchange (barrier
 * and small allreduce), the tree barrier, bcast / gather / scatter through
 * the data engine, or one chunk of the channel protocol.  Everything of the
 * region outside the area (and the superblock and tables, which the
 * liveness checks read) is poisoned.  Checked: no sanitizer report, every
 * wait ends, and what a collective hands back lies in our own buffers.
 *
 * Not here: the reduction engine (coll_ivm_reduce.c: Open MPI datatypes
 * and ops, same tokens and buffers as the data engine), setup and the
 * attach count (coll_ivm_setup.c: needs communicators; see
 * doc/fuzzing.md). */

#include "ompi_config.h"

#include "fuzz_common.h"

#include "opal/util/show_help.h"

#include "coll_ivm.h"

mca_coll_ivm_component_t mca_coll_ivm_component;
/* what common_ivm.c defines in a real build */
mca_common_ivm_params_t mca_common_ivm_params;

#define MAXN 6
#define MAX_OPS 64

static mca_common_ivm_device_t dev;
static char path[64];
static uint8_t *snapshot;
static struct {
    ivm_member_t m[MAXN];
} world;

static coll_ivm_group_t grp;
static coll_ivm_member_t members[MAXN];
static fz_t *input; /* the peers read their actions from here */
static unsigned progress_calls;

/* common_ivm.c's, for our one device: is @addr inside our job partition
 * (a large bcast's root then hands the others its buffer's offset)? */
int mca_common_ivm_find(const void *addr, size_t len, int *device, uint64_t *off)
{
    const uint8_t *p = addr, *base = dev.region.map.base;
    const uint64_t lo = dev.member.part_off, hi = lo + dev.member.part_size;
    if (p < base + lo || (uint64_t) (p - base) > hi || len > hi - (uint64_t) (p - base)) {
        return OPAL_ERR_NOT_FOUND;
    }
    *device = 0;
    *off = (uint64_t) (p - base);
    return OPAL_SUCCESS;
}

mca_common_ivm_device_t *mca_common_ivm_device_get(int index)
{
    return 0 == index ? &dev : NULL;
}

static int quiet_show_help(const char *file, const char *topic, int want_error_header, ...)
{
    (void) file;
    (void) topic;
    (void) want_error_header;
    return OPAL_SUCCESS;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    ivm_region_t *r = &dev.region;
    (void) argc;
    (void) argv;
    opal_show_help = quiet_show_help;
    fz_region_memfd(r, FZ_REGION_SIZE, path);
    fz_must(ivm_region_format(r, 0, 0), r, "format");
    for (int i = 0; i < MAXN; i++) {
        ivm_join_opts_t jo = {.label = "fuzz-coll",
                              .host = "fuzz",
                              .rank = (uint32_t) i,
                              .part_size = 8 * IVM_CHUNK_SIZE,
                              .lock_timeout_ms = 1000};
        ivm_job_key_make(jo.key, "fuzz-coll", "token");
        fz_must(ivm_job_join(r, &jo, &world.m[i]), r, "join");
    }
    dev.member = world.m[0];
    fz_must(ivm_heap_open(&dev.heap, r, dev.member.part_off, dev.member.part_size, 0), r, "heap");
    snapshot = malloc(r->map.size);
    memcpy(snapshot, r->map.base, r->map.size);

    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    static coll_ivm_counters_t counters;
    c->counters = &counters;
    c->timeout = 0;                               /* the default: only liveness ends a wait */
    c->liveness_interval_ms = 0;                  /* check at every round */
    mca_common_ivm_params.spin_time_us = 1000000; /* never sleep */
    mca_common_ivm_params.sleep_time_us = 0;
    c->verbose = 0;
    c->output = -1;
    return 0;
}

/* ---- the peers ---- */

static uint64_t near(uint64_t base, uint8_t d)
{
    return base + (uint64_t) (d % 3) - 1;
}

/* One action of a peer, from the input. */
static void peer_act(fz_t *f)
{
    coll_ivm_group_t *g = &grp;
    uint8_t code = fz_u8(f), j = fz_u8(f) % g->n, d = fz_u8(f);
    struct coll_ivm_ctl *ctl = coll_ivm_ctl(g, j);
    unsigned ch = d >> 7;
    uint32_t chunk = (d & 0x40) ? COLL_IVM_TOK_ALL : (uint32_t) ((d >> 2) & 7);
    switch (code % 10) {
    case 0: atomic_store(&ctl->ready[ch], coll_ivm_tok(near(g->seq, d), chunk)); break;
    case 1: atomic_store(&ctl->done[ch], coll_ivm_tok(near(g->seq, d), chunk)); break;
    case 2: atomic_store(&ctl->arrive, near(g->seq, d)); break;
    case 3: atomic_store(&coll_ivm_ctl(g, 0)->release, near(g->seq, d)); break;
    case 4: {
        uint64_t t = near(g->small_seq, d);
        struct coll_ivm_small *s = coll_ivm_small(g, j, t);
        fz_bytes(f, s->data, fz_u8(f) % (COLL_IVM_SMALL_BYTES + 1));
        atomic_store(&s->tok, t);
        break;
    }
    case 5: { /* any word of the control line or a small slot */
        _Atomic uint64_t *w =
            (d & 1) ? &coll_ivm_small(g, j, d >> 1)->tok : (_Atomic uint64_t *) ctl + (d >> 1) % 6;
        atomic_store(w, fz_u64(f));
        break;
    }
    case 6: { /* the peer leaves, or its slot is rewritten */
        ivm_region_t *r = &g->dev->region;
        struct ivm_slot_entry *s =
            (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off) + g->member[j].slot;
        if (j == g->me) {
            break; /* we are alive */
        }
        switch (d % 5) {
        case 0: atomic_store(&s->state, IVM_SLOT_FREE); break;
        case 1: s->gen++; break;
        case 2: atomic_store(&s->nonce, fz_u64(f)); break;
        case 3:
            atomic_store(&s->lease_ms, fz_u64(f));
            s->job = fz_u8(f);
            break;
        default: s->owner.pid = fz_u32(f); break; /* e.g. a process of our VM that is gone */
        }
        break;
    }
    case 7: { /* any bytes of the area */
        uint64_t at = fz_u16(f) % g->geom.size;
        size_t len = (size_t) (fz_u8(f) % 16) + 1;
        if (len > g->geom.size - at) {
            len = g->geom.size - at;
        }
        fz_bytes(f, g->base + at, len);
        break;
    }
    case 8: { /* every peer catches up with the step we are at */
        for (int k = 0; k < g->n; k++) {
            if (k == g->me) {
                continue;
            }
            struct coll_ivm_ctl *c2 = coll_ivm_ctl(g, k);
            for (unsigned h = 0; h < COLL_IVM_CHANNELS; h++) {
                atomic_store(&c2->ready[h], coll_ivm_tok(g->seq, COLL_IVM_TOK_ALL));
                atomic_store(&c2->done[h], coll_ivm_tok(g->seq, COLL_IVM_TOK_ALL));
            }
            atomic_store(&c2->arrive, g->seq);
            atomic_store(&coll_ivm_small(g, k, g->small_seq)->tok, g->small_seq);
        }
        if (0 != g->me) {
            atomic_store(&coll_ivm_ctl(g, 0)->release, g->seq);
        }
        break;
    }
    default: break;
    }
}

/* Every peer leaves the region: what a wait sees once the input is over. */
static void all_leave(void)
{
    coll_ivm_group_t *g = &grp;
    ivm_region_t *r = &g->dev->region;
    for (int k = 0; k < g->n; k++) {
        if (k != g->me) {
            struct ivm_slot_entry *s =
                (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off)
                + g->member[k].slot;
            atomic_store(&s->state, IVM_SLOT_FREE);
        }
    }
}

/* Open MPI's progress engine, as coll/ivm's waits call it: here, the
 * peers' turn. */
void opal_progress(void)
{
    progress_calls++;
    if (fz_left(input) > 0) {
        peer_act(input);
    } else {
        all_leave();
    }
}

/* ---- our calls ---- */

static void our_call(fz_t *f)
{
    coll_ivm_group_t *g = &grp;
    uint8_t code = fz_u8(f), a = fz_u8(f);
    static uint8_t buf[MAXN * 1024], out[MAXN * 1024];
    switch (code % 7) {
    case 0: { /* barrier / small allreduce */
        uint8_t data[COLL_IVM_SMALL_BYTES];
        size_t len = a % (COLL_IVM_SMALL_BYTES + 1);
        uint64_t step;
        memset(data, a, sizeof(data));
        if (OMPI_SUCCESS == coll_ivm_small_exchange(g, data, len, &step)) {
            for (int k = 0; k < g->n; k++) {
                (void) fz_touch(coll_ivm_small(g, k, step)->data, len);
            }
        }
        break;
    }
    case 1: { /* tree barrier */
        const uint64_t seq = ++g->seq;
        if (OMPI_SUCCESS == coll_ivm_fanin(g, seq)) {
            (void) coll_ivm_fanout(g, seq);
        }
        break;
    }
    case 2: { /* bcast */
        size_t len = fz_u16(f) % sizeof(buf);
        memset(buf, 0x11, len);
        (void) coll_ivm_bcast_group(g, buf, len, a % g->n);
        (void) fz_touch(buf, len);
        break;
    }
    case 3: { /* gather */
        size_t blk = fz_u16(f) % 1024;
        memset(buf, 0x22, blk);
        (void) coll_ivm_gather_group(g, buf, blk, out);
        break;
    }
    case 4: { /* scatter */
        size_t blk = fz_u16(f) % 1024;
        memset(buf, 0x33, (size_t) g->n * blk);
        (void) coll_ivm_scatter_group(g, buf, blk, out);
        break;
    }
    case 5: { /* one chunk of the channel protocol, by hand */
        unsigned ch = a & 1;
        uint64_t seq = ++g->seq, c = (a >> 1) % 8;
        if (OMPI_SUCCESS == coll_ivm_chan_acquire(g, ch, seq, c)) {
            memset(coll_ivm_buf(g, ch, g->me, seq, c), 0x44, g->geom.chunk);
            coll_ivm_chan_publish(g, ch, seq, (uint32_t) c);
        }
        int w = (int) (fz_u8(f) % g->n);
        if (w != g->me && OMPI_SUCCESS == coll_ivm_chan_wait(g, ch, w, seq, (uint32_t) c)) {
            (void) fz_touch(coll_ivm_buf(g, ch, w, seq, c), g->geom.chunk);
        }
        coll_ivm_chan_done(g, ch, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
        break;
    }
    default: /* the peers act while we are outside a collective */ peer_act(f); break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    fz_t f = {d, size};
    ivm_region_t *r = &dev.region;
    coll_ivm_group_t *g = &grp;
    const int n = 2 + fz_u8(&f) % (MAXN - 1);
    const int me = fz_u8(&f) % n;
    const uint64_t chunk = (uint64_t) IVM_CACHELINE << (fz_u8(&f) % 4);
    const uint32_t nbuf = 1 + fz_u8(&f) % 4;
    const uint8_t dbyte = fz_u8(&f);
    const unsigned degree = 2 + (dbyte & 0x7f) % 3;

    fz_unfence(r->map.base, r->map.size);
    memcpy(r->map.base, snapshot, r->map.size);
    r->errmsg[0] = '\0';
    /* leases of 1 ms: a peer whose lease word stands still for a wait of
     * more than 1 ms is declared gone (timing-dependent, so only on
     * request) */
    r->lease_ms = (dbyte & 0x80) ? 1 : 0;
    memset(g, 0, sizeof(*g));
    memset(members, 0, sizeof(members));
    g->n = n;
    g->me = me;
    g->dev = &dev;
    g->member = members;
    for (int k = 0; k < n; k++) {
        members[k].rank = k;
        members[k].slot = world.m[k].slot;
        members[k].slot_gen = world.m[k].slot_gen;
        members[k].nonce = world.m[k].nonce;
    }
    FZ_CHECK(coll_ivm_area_geometry((uint32_t) n, chunk, nbuf, &g->geom), "geometry");
    g->degree = degree;
    g->last_tok = calloc(COLL_IVM_CHANNELS * nbuf, sizeof(uint64_t));
    /* the area, as the leader allocates it */
    FZ_CHECK(IVM_OK == ivm_heap_open(&dev.heap, r, dev.member.part_off, dev.member.part_size, 0),
             "heap");
    FZ_CHECK(IVM_OK == ivm_heap_alloc(&dev.heap, g->geom.size, IVM_CACHELINE, &g->area_off),
             "area");
    g->base = r->map.base + g->area_off;
    memset(g->base, 0, g->geom.data_off);
    atomic_store(&((struct coll_ivm_area_hdr *) g->base)->attached, n);
    /* only the area, the superblock and the tables are ours to read */
    fz_fence(r->map.base, r->map.size, 0, g->area_off + g->geom.size);
    ASAN_POISON_MEMORY_REGION(r->map.base + r->layout.heap_off, g->area_off - r->layout.heap_off);

    input = &f;
    progress_calls = 0;
    for (int k = 0; k < MAX_OPS && fz_left(&f) > 0; k++) {
        our_call(&f);
    }
    free(g->last_tok);
    fz_unfence(r->map.base, r->map.size);
    return 0;
}
