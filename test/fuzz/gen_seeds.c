/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Writes the seed corpus of the fuzz targets (test/fuzz/corpus/<target>/):
 * a few inputs per target in the harnesses' encodings that reach the
 * interesting states at once (a formatted region with a job and slots; a
 * ring and a fast box with messages going round; a heap with blocks of
 * every class; emulated RMA answered by an honest peer; collectives whose
 * peers keep up).  Plain C, no ivm code: the inputs are only bytes.
 *
 *   make -C test/fuzz seeds      (runs this with corpus/ as its argument) */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    uint8_t b[4096];
    size_t n;
} seed_t;

static const char *outdir;

static void u8(seed_t *s, unsigned v)
{
    if (s->n < sizeof(s->b)) {
        s->b[s->n++] = (uint8_t) v;
    }
}

static void un(seed_t *s, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        u8(s, (unsigned) (v >> (8 * i)) & 0xff);
    }
}
#define u16(s, v) un((s), (v), 2)
#define u32(s, v) un((s), (v), 4)
#define u64(s, v) un((s), (v), 8)

static void emit(const char *target, const char *name, const seed_t *s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", outdir, target);
    if (0 != mkdir(path, 0755) && EEXIST != errno) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof(path), "%s/%s/%s", outdir, target, name);
    FILE *f = fopen(path, "wb");
    if (NULL == f || s->n != fwrite(s->b, 1, s->n, f) || 0 != fclose(f)) {
        perror(path);
        exit(1);
    }
}

/* ---- region / ivmctl: u8 template, flags, params, then patches ---- */

/* a patch: u8 sel, u16 off, u8 len-1, bytes */
static void patch(seed_t *s, unsigned sel, unsigned off, const void *bytes, unsigned len)
{
    u8(s, sel);
    u16(s, off);
    u8(s, len - 1);
    for (unsigned i = 0; i < len; i++) {
        u8(s, ((const uint8_t *) bytes)[i]);
    }
}

/* A seed's patch of the image (len 0: none): the low len (4 or 8) bytes
 * of val, in host order as the region holds them. */
typedef struct {
    unsigned sel, off, len;
    uint64_t val;
} seed_patch_t;

/* Appends the patch, if there is one, so that a table can name it. */
static void put_patch(seed_t *s, const seed_patch_t *p)
{
    const uint32_t v32 = (uint32_t) p->val;
    if (0 != p->len) {
        patch(s, p->sel, p->off, 4 == p->len ? (const void *) &v32 : (const void *) &p->val,
              p->len);
    }
}

/* region: u8 template, u8 flags, u8 remove_job, u8 part_chunks, then
 * fmt_jobs and fmt_slots (always 0), then at most one patch */
static const struct {
    const char *name;
    unsigned t, flags, remove, chunks;
    seed_patch_t p;
} region_table[] = {
    {"zero-format", 0, 0x02, 0, 0, {0}}, /* first attacher formats */
    {"zero-format-join", 0, 0x0a, 0, 2, {0}},
    {"empty-attach", 1, 0x00, 0, 0, {0}},
    {"empty-join", 1, 0x08, 0, 3, {0}},
    {"jobs-reclaim-lease", 2, 0x04, 0, 0, {0}}, /* foreign slots, 1 ms leases */
    {"jobs-join-a", 2, 0x18, 0, 0, {0}},
    {"jobs-join-new", 2, 0x08, 0, 5, {0}},
    {"jobs-remove-force", 2, 0x60, 0, 0, {0}},
    {"jobs-remove-b", 2, 0x64, 1, 0, {0}},
    {"jobs-break-lock", 2, 0x80, 0, 0, {0}},
    {"one-slot-join", 3, 0x08, 0, 0, {0}}, /* table full */
    {"big-tables", 4, 0x1c, 0, 1, {0}},
    /* behind the checksum: re-signed patches of the layout and the state */
    {"resign-size", 1, 0x01, 0, 0, {5, 16, 8, 1u << 19}},         /* region_size */
    {"resign-job-count", 2, 0x09, 0, 0, {5, 48 + 32, 4, 2}},      /* layout.job_count */
    {"state-formatting", 2, 0x00, 0, 0, {0, 12, 4, 0x464d5447u}}, /* stuck mid-format */
    {"job-part-moved", 2, 0x08, 0, 0, {1, 24, 8, 0x50000}},       /* job 0's partition offset */
    /* job B's partition moved onto job A's, then a new job is made */
    {"jobs-overlap-new-job", 2, 0x08, 0, 2, {1, 128 + 24, 8, 0x10000}},
    {"jobs-new-job-too-big", 2, 0x08, 0, 19, {0}}, /* a new job wants more than the heap has */
};

/* ivmctl: u8 template, u8 flags (low 3 bits: command), u8 job, then
 * patches */
static const struct {
    const char *name;
    unsigned t, flags, job;
    seed_patch_t p;
} ivmctl_table[] = {
    {"info-json-zero", 0, 0x00, 0, {0}},
    {"info-json-empty", 1, 0x00, 0, {0}},
    {"info-json-jobs", 2, 0x00, 0, {0}},
    {"info-text-jobs", 2, 0x80, 0, {0}},
    {"info-json-lease0", 2, 0x10, 0, {0}},
    {"clean-json", 2, 0x03, 0, {0}},
    {"clean-job-force", 2, 0x63, 0, {0}},
    {"clean-text-lease0", 2, 0x93, 1, {0}},
    {"format-busy", 2, 0x06, 0, {0}},
    {"format-force", 2, 0x46, 0, {0}},
    /* a time no calendar shows (format_time), re-signed, in the JSON */
    {"info-json-bad-time", 2, 0x08, 0, {5, 40, 8, 0x7fffffffffffffffULL}},
};

/* Attach, join, remove and lock states of the region, also behind the
 * checksum. */
static void region_seeds(void)
{
    for (size_t i = 0; i < sizeof(region_table) / sizeof(region_table[0]); i++) {
        seed_t s = {.n = 0};
        u8(&s, region_table[i].t);
        u8(&s, region_table[i].flags);
        u8(&s, region_table[i].remove);
        u8(&s, region_table[i].chunks);
        u8(&s, 0);
        u8(&s, 0);
        put_patch(&s, &region_table[i].p);
        emit("region", region_table[i].name, &s);
    }
}

/* Every ivmctl command with and without JSON on the same images. */
static void ivmctl_seeds(void)
{
    for (size_t i = 0; i < sizeof(ivmctl_table) / sizeof(ivmctl_table[0]); i++) {
        seed_t s = {.n = 0};
        u8(&s, ivmctl_table[i].t);
        u8(&s, ivmctl_table[i].flags);
        u8(&s, ivmctl_table[i].job);
        put_patch(&s, &ivmctl_table[i].p);
        emit("ivmctl", ivmctl_table[i].name, &s);
    }
}

/* ---- ring: mode, geometry, place, flags, then operations ---- */

/* The input's head, as fuzz_ring.c reads it. */
static void ring_head(seed_t *s, unsigned mode, unsigned geom, unsigned place, unsigned flags)
{
    u8(s, mode);
    u8(s, geom);
    u16(s, place);
    u8(s, flags);
}

/* Operation: the producer pushes a value. */
static void r_push(seed_t *s, uint64_t v)
{
    u8(s, 0);
    u64(s, v);
}

/* Operation: the consumer (ring) or receiver (fast box) takes up to k. */
static void r_take(seed_t *s, unsigned k)
{
    u8(s, 1);
    u8(s, k);
}

/* Operation: the fast box's sender sends one message. */
static void f_send(seed_t *s, unsigned len, unsigned tag, unsigned flags)
{
    u8(s, 0);
    u16(s, len);
    u8(s, tag);
    u8(s, flags);
}

/* Rings going round, full and tight, and one whose head a peer set. */
static void ring_seeds(void)
{
    seed_t s = {.n = 0};
    /* ring of 16: fill it, drain it, go round */
    ring_head(&s, 0x02, 4, 3, 0);
    for (int lap = 0; lap < 3; lap++) {
        for (int i = 0; i < 17; i++) {
            r_push(&s, 0x1000u + 64u * (unsigned) (lap * 17 + i));
        }
        r_take(&s, 20);
    }
    u8(&s, 3); /* consumer re-attaches */
    r_push(&s, 0x4040);
    r_take(&s, 4);
    emit("ring", "ring-16-laps", &s);

    s.n = 0;
    ring_head(&s, 0x00, 10, 0, 0x10); /* 1024 cells, tight */
    for (int i = 0; i < 40; i++) {
        r_push(&s, (uint64_t) i << 6);
    }
    r_take(&s, 255);
    emit("ring", "ring-1024-tight", &s);

    s.n = 0;
    ring_head(&s, 0x02, 2, 1, 0x08);
    u64(&s, 2); /* head from the peer */
    r_push(&s, 0x80);
    r_take(&s, 4);
    emit("ring", "ring-raw-head", &s);
}

/* Fast boxes wrapping with messages of every size, a tight one, and ones
 * whose size or head a peer set. */
static void fbox_seeds(void)
{
    /* fast box of 1024 bytes: messages of every size, round and round */
    seed_t s = {.n = 0};
    ring_head(&s, 0x03, 2, 2, 0);
    for (int i = 0; i < 40; i++) {
        f_send(&s, (unsigned) (i * 37) % 500, (unsigned) i, (i % 5) ? 0 : 0x20);
        if (i % 3 == 2) {
            r_take(&s, 3);
        }
    }
    r_take(&s, 255);
    emit("ring", "fbox-1k-wrap", &s);

    s.n = 0;
    ring_head(&s, 0x05, 0, 7, 0x10); /* 256 bytes, tight */
    for (int i = 0; i < 30; i++) {
        f_send(&s, 8, 0x2d, 0);
        r_take(&s, 1);
    }
    emit("ring", "fbox-256-tight", &s);

    s.n = 0;
    ring_head(&s, 0x03, 7, 0, 0x04);
    u32(&s, 1u << 24); /* size too big */
    emit("ring", "fbox-raw-size", &s);

    s.n = 0;
    ring_head(&s, 0x03, 1, 0, 0);
    f_send(&s, 100, 7, 0);
    u8(&s, 3);
    u64(&s, 0xffffffffffffULL); /* the receiver's head, corrupted */
    f_send(&s, 100, 8, 0);
    r_take(&s, 8);
    emit("ring", "fbox-bad-head", &s);
}

/* ---- heap: chunks, place, then operations ---- */

/* Operation: allocate size bytes; align byte a (bit 7: none).  Small: a
 * u16 size; large: a u32 size. */
static void h_alloc(seed_t *s, int large, uint32_t size, unsigned a)
{
    u8(s, large ? 1 : 0);
    un(s, size, large ? 4 : 2);
    u8(s, a);
}

/* Operation: free the i-th live block. */
static void h_free(seed_t *s, unsigned i)
{
    u8(s, 2);
    u16(s, i);
}

/* Operation: reopen the heap, re-signing its header first if asked. */
static void h_reopen(seed_t *s, unsigned resign)
{
    u8(s, 7);
    u8(s, resign);
}

/* Blocks of every class and large ones, freed, the books checked (op 8)
 * around a reopen. */
static void heap_class_seeds(void)
{
    seed_t s = {.n = 0};
    u8(&s, 38);
    u8(&s, 0);
    for (unsigned c = 0; c < 11; c++) { /* every class, then large */
        h_alloc(&s, c > 6, (64u << c) - 1, 0x80);
        h_alloc(&s, c > 6, (64u << c) / 2 + 1, (uint8_t) (c % 7));
    }
    h_alloc(&s, 1, 3 * 65536 + 5, 12);
    u8(&s, 8);
    for (int i = 0; i < 10; i++) {
        h_free(&s, (unsigned) i * 7);
    }
    u8(&s, 8);
    h_reopen(&s, 0);
    h_alloc(&s, 0, 100, 0x86);
    u8(&s, 8);
    emit("heap", "classes-large-free", &s);
}

/* A full heap, a free-list head and a header that peers overwrote. */
static void heap_edge_seeds(void)
{
    seed_t s = {.n = 0};
    u8(&s, 0);
    u8(&s, 3); /* two chunks: one data chunk */
    for (int i = 0; i < 6; i++) {
        h_alloc(&s, 1, 65536, 0);
    }
    h_alloc(&s, 0, 64, 0x80);
    u8(&s, 8);
    emit("heap", "tiny-full", &s);

    s.n = 0;
    u8(&s, 20);
    u8(&s, 1);
    for (int i = 0; i < 40; i++) {
        h_alloc(&s, 0, 200, 0x80);
    }
    for (int i = 0; i < 20; i++) {
        h_free(&s, (unsigned) i * 3);
    }
    u8(&s, 6);
    u8(&s, 2);
    u64(&s, (5ULL << 32) | 0x30); /* a list head from a peer */
    h_alloc(&s, 0, 200, 0x80);
    h_reopen(&s, 1);
    emit("heap", "stack-head-corrupt", &s);

    s.n = 0;
    u8(&s, 6);
    u8(&s, 0);
    u8(&s, 4);
    u16(&s, 12);
    u8(&s, 3);
    u32(&s, 1000); /* nchunks, then re-sign */
    h_reopen(&s, 1);
    h_alloc(&s, 1, 200000, 0);
    emit("heap", "header-resigned", &s);
}

/* ---- btl: operations (fuzz_btl.c) ---- */

enum {
    B_UPPER,
    B_REQ,
    B_REPLY,
    B_RETURN,
    B_RAW,
    B_FBOX,
    B_START,
    B_REG,
    B_PROG,
    B_PROG2,
    B_DRAIN,
    B_PATCH,
    B_FRAGHDR,
    B_SLOT,
    B_SEND
};

static void b_start(seed_t *s, unsigned sel, unsigned type, unsigned knob, uint64_t raddr,
                    unsigned size)
{
    u8(s, B_START);
    u8(s, sel);
    u8(s, type - 1);
    u8(s, knob);
    u8(s, 0);
    u64(s, raddr);
    if (type <= 2) {
        u16(s, size);
    }
    u8(s, 0);
    u64(s, 5);
    u64(s, 7);
}

static void b_progress(seed_t *s)
{
    u8(s, B_PROG);
    u8(s, 3);
}

/* Operation: a peer sends us a message for the upper layer; its len
 * payload bytes follow. */
static void b_upper(seed_t *s, unsigned peer, unsigned knob, unsigned tag, unsigned len)
{
    u8(s, B_UPPER);
    u8(s, peer);
    u8(s, knob);
    u8(s, tag);
    u16(s, len);
}

/* Operation: a peer drains what we sent it (and returns k fragments). */
static void b_drain(seed_t *s, unsigned peer, unsigned k)
{
    u8(s, B_DRAIN);
    u8(s, peer);
    u8(s, k);
}

/* n payload bytes of value v. */
static void b_fill(seed_t *s, unsigned v, int n)
{
    for (int i = 0; i < n; i++) {
        u8(s, v);
    }
}

/* Messages for the upper layer, and B's fast box announced and used. */
static void btl_upper_seeds(void)
{
    seed_t s = {.n = 0};
    b_upper(&s, 0, 0, 0x41, 100);
    for (int i = 0; i < 100; i++) {
        u8(&s, (unsigned) i);
    }
    b_progress(&s);
    b_upper(&s, 1, 0, 0x42, 0);
    b_progress(&s);
    emit("btl", "upper-messages", &s);

    /* B announces its fast box, then sends through it (also by reference) */
    s.n = 0;
    b_upper(&s, 0, 4, 0x43, 10);
    b_fill(&s, 1, 10);
    b_progress(&s);
    u8(&s, B_FBOX);
    u16(&s, 40);
    u8(&s, 0x44);
    u8(&s, 0);
    b_fill(&s, 2, 40);
    b_upper(&s, 0, 32, 0x45, 300);
    b_fill(&s, 3, 300);
    b_progress(&s);
    emit("btl", "fbox-announce-ref", &s);
}

/* Our sends: fast box towards B after the threshold; returns. */
static void btl_send_seeds(void)
{
    seed_t s = {.n = 0};
    for (int i = 0; i < 6; i++) {
        u8(&s, B_SEND);
        u8(&s, 0);
        u16(&s, 100u * (unsigned) i);
        u8(&s, (unsigned) i);
        b_drain(&s, 0, 0);
        b_progress(&s);
    }
    u8(&s, B_SEND);
    u8(&s, 1);
    u16(&s, 900);
    u8(&s, 1);
    b_drain(&s, 1, 4); /* C returns twice */
    b_progress(&s);
    u8(&s, B_RETURN);
    u16(&s, 0);
    u8(&s, 0); /* a fragment that is not out */
    b_progress(&s);
    emit("btl", "sends-returns", &s);
}

/* Emulated RMA we start: to B answered honestly, and on ourselves. */
static void btl_emu_seeds(void)
{
    /* emulated GET, PUT and atomics to B, answered honestly */
    seed_t s = {.n = 0};
    b_start(&s, 0, 2, 0, 0x1000, 2500); /* GET, three chunks */
    for (int i = 0; i < 2; i++) {
        b_progress(&s);
        b_drain(&s, 0, 0);
    }
    b_progress(&s);
    b_start(&s, 0, 1, 0, 0x2000, 700); /* PUT */
    b_start(&s, 0, 3, 0, 0x3000, 0);   /* fetching atomic */
    b_start(&s, 0, 3, 2, 0x3008, 0);   /* non-fetching atomic */
    b_start(&s, 0, 4, 1, 0x3010, 0);   /* 32-bit compare and swap */
    for (int i = 0; i < 4; i++) {
        b_progress(&s);
        b_drain(&s, 0, 0);
    }
    b_progress(&s);
    emit("btl", "emu-honest-peer", &s);

    /* emulated RMA on ourselves (osc/rdma's own rank) */
    s.n = 0;
    u8(&s, B_REG);
    u16(&s, 256);
    b_start(&s, 0x80, 2, 0, 16, 100);
    b_start(&s, 0x80, 1, 0, 0, 64);
    b_start(&s, 0x80, 3, 0, 8, 0);
    b_start(&s, 0x80, 4, 0, 24, 0);
    emit("btl", "emu-self", &s);
}

/* Operation: peer A asks us for an emulated operation of this type on
 * our registration (a PUT brings its 512 bytes). */
static void b_request(seed_t *s, unsigned type)
{
    u8(s, B_REQ);
    u8(s, 0);
    u8(s, 0);
    u8(s, type);
    u8(s, 0);
    u8(s, 0);
    u16(s, 64);
    u16(s, type <= 2 ? 512 : 8);
    u64(s, 1);
    u64(s, 2);
    u32(s, 0);
    u32(s, 1);
    u64(s, 0);
    b_fill(s, 0xab, type == 1 ? 512 : 0);
}

/* Operation: a reply from peer A to our first operation, with the knob's
 * lies; the caller appends the fields the knob asks for. */
static void b_reply(seed_t *s, unsigned knob)
{
    u8(s, B_REPLY);
    u8(s, 0);
    u8(s, knob);
    u8(s, 0);
}

/* Emulated RMA a peer drives: its requests of every type, and replies
 * nobody asked for. */
static void btl_emu_peer_seeds(void)
{
    /* the peer asks us: register, then requests of every type */
    seed_t s = {.n = 0};
    u8(&s, B_REG);
    u16(&s, 2048);
    for (unsigned type = 1; type <= 4; type++) {
        b_request(&s, type);
        b_progress(&s);
    }
    b_drain(&s, 0, 0);
    emit("btl", "emu-requests", &s);

    /* replies nobody asked for, out of turn, too long */
    s.n = 0;
    b_start(&s, 0, 2, 0, 0x1000, 2000);
    b_progress(&s);
    b_reply(&s, 0);
    u64(&s, 0); /* in turn */
    u16(&s, 0);
    b_progress(&s);
    b_reply(&s, 2);
    u32(&s, 968);
    u64(&s, 0);
    b_progress(&s);
    b_reply(&s, 4);
    u64(&s, 5000);
    u64(&s, 0);
    b_progress(&s);
    emit("btl", "emu-bad-replies", &s);
}

/* ---- coll: n, me, chunk, nbuf, degree, then calls / peer actions ---- */

/* The input's head, as fuzz_coll.c reads it (each byte modulo its
 * range). */
static void c_head(seed_t *s, unsigned n, unsigned me, unsigned chunk, unsigned nbuf,
                   unsigned degree)
{
    u8(s, n);
    u8(s, me);
    u8(s, chunk);
    u8(s, nbuf);
    u8(s, degree);
}

/* Operations: k times, every peer catches up with our step. */
static void c_catch_up(seed_t *s, int k)
{
    for (int i = 0; i < k; i++) {
        u8(s, 8);
        u8(s, 0);
        u8(s, 0);
    }
}

/* Operation: a collective call of ours (code, first byte, then u16 len). */
static void c_call(seed_t *s, unsigned code, unsigned a, unsigned len)
{
    u8(s, code);
    u8(s, a);
    u16(s, len);
}

/* Synchronisations whose peers keep up, and a peer leaving mid-chunk. */
static void coll_sync_seeds(void)
{
    seed_t s = {.n = 0};
    c_head(&s, 1, 0, 0, 0, 0); /* 3 members, I am 0 */
    for (int i = 0; i < 4; i++) {
        u8(&s, 0);
        u8(&s, 16); /* small exchange of 16 bytes */
        c_catch_up(&s, 2);
    }
    emit("coll", "small-exchange", &s);

    s.n = 0;
    c_head(&s, 3, 2, 1, 1, 1); /* 5 members, I am 2 */
    for (int i = 0; i < 3; i++) {
        u8(&s, 1);
        u8(&s, 0); /* tree barrier */
        c_catch_up(&s, 2);
    }
    emit("coll", "tree-barrier", &s);

    s.n = 0;
    c_head(&s, 0, 1, 0, 0, 0); /* 2 members, I am 1 */
    u8(&s, 5);
    u8(&s, 0);
    u8(&s, 0); /* a channel chunk, waiting on member 0 */
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 1); /* member 0 publishes ready[0] = tok(seq, 0) */
    u8(&s, 6);
    u8(&s, 0);
    u8(&s, 0); /* then leaves */
    emit("coll", "channel-peer-leaves", &s);
}

/* Data collectives (bcast, gather, scatter) whose peers keep up. */
static void coll_data_seeds(void)
{
    seed_t s = {.n = 0};
    c_head(&s, 2, 1, 2, 3, 0); /* 4 members, chunk 256, 4 buffers */
    c_call(&s, 2, 0, 1000);    /* bcast from member 0 */
    c_catch_up(&s, 8);
    c_call(&s, 2, 1, 700); /* bcast from us */
    c_catch_up(&s, 8);
    emit("coll", "bcast", &s);

    s.n = 0;
    c_head(&s, 1, 0, 1, 1, 0);
    c_call(&s, 3, 0, 300); /* gather at us */
    c_catch_up(&s, 8);
    c_call(&s, 4, 0, 200); /* scatter from us */
    c_catch_up(&s, 8);
    emit("coll", "gather-scatter", &s);
}

int main(int argc, char **argv)
{
    if (2 != argc) {
        fprintf(stderr, "usage: gen_seeds CORPUS-DIR\n");
        return 2;
    }
    outdir = argv[1];
    if (0 != mkdir(outdir, 0755) && EEXIST != errno) {
        perror(outdir);
        return 1;
    }
    region_seeds();
    ivmctl_seeds();
    ring_seeds();
    fbox_seeds();
    heap_class_seeds();
    heap_edge_seeds();
    btl_upper_seeds();
    btl_send_seeds();
    btl_emu_seeds();
    btl_emu_peer_seeds();
    coll_sync_seeds();
    coll_data_seeds();
    return 0;
}
