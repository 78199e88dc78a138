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

static void region_seeds(void)
{
    static const struct {
        const char *name;
        unsigned t, flags, remove, chunks;
    } r[] = {
        {"zero-format", 0, 0x02, 0, 0}, /* first attacher formats */
        {"zero-format-join", 0, 0x0a, 0, 2},
        {"empty-attach", 1, 0x00, 0, 0},
        {"empty-join", 1, 0x08, 0, 3},
        {"jobs-reclaim-lease", 2, 0x04, 0, 0}, /* foreign slots, 1 ms leases */
        {"jobs-join-a", 2, 0x18, 0, 0},
        {"jobs-join-new", 2, 0x08, 0, 5},
        {"jobs-remove-force", 2, 0x60, 0, 0},
        {"jobs-remove-b", 2, 0x64, 1, 0},
        {"jobs-break-lock", 2, 0x80, 0, 0},
        {"one-slot-join", 3, 0x08, 0, 0}, /* table full */
        {"big-tables", 4, 0x1c, 0, 1},
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
        seed_t s = {.n = 0};
        u8(&s, r[i].t);
        u8(&s, r[i].flags);
        u8(&s, r[i].remove);
        u8(&s, r[i].chunks);
        u8(&s, 0);
        u8(&s, 0);
        emit("region", r[i].name, &s);
    }
    /* behind the checksum: re-signed patches of the layout and the state */
    seed_t s = {.n = 0};
    const uint32_t formatting = 0x464d5447u, two = 2;
    const uint64_t small = 1u << 19;
    u8(&s, 1);
    u8(&s, 0x01);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    patch(&s, 5, 16, &small, 8); /* region_size */
    emit("region", "resign-size", &s);
    s.n = 0;
    u8(&s, 2);
    u8(&s, 0x09);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    patch(&s, 5, 48 + 32, &two, 4); /* layout.job_count */
    emit("region", "resign-job-count", &s);
    s.n = 0;
    u8(&s, 2);
    u8(&s, 0x00);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    patch(&s, 0, 12, &formatting, 4); /* stuck mid-format */
    emit("region", "state-formatting", &s);
    s.n = 0;
    u8(&s, 2);
    u8(&s, 0x08);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    const uint64_t part = 0x50000;
    patch(&s, 1, 24, &part, 8); /* job 0's partition offset */
    emit("region", "job-part-moved", &s);
    s.n = 0; /* job B's partition moved onto job A's, then a new job is made */
    u8(&s, 2);
    u8(&s, 0x08);
    u8(&s, 0);
    u8(&s, 2);
    u8(&s, 0);
    u8(&s, 0);
    const uint64_t a_part = 0x10000;
    patch(&s, 1, 128 + 24, &a_part, 8);
    emit("region", "jobs-overlap-new-job", &s);
    s.n = 0; /* a new job wants more than the heap has */
    u8(&s, 2);
    u8(&s, 0x08);
    u8(&s, 0);
    u8(&s, 19);
    u8(&s, 0);
    u8(&s, 0);
    emit("region", "jobs-new-job-too-big", &s);

    /* ivmctl: u8 template, u8 flags (low 3 bits: command), u8 job */
    static const struct {
        const char *name;
        unsigned t, flags, job;
    } c[] = {
        {"info-json-zero", 0, 0x00, 0},   {"info-json-empty", 1, 0x00, 0},
        {"info-json-jobs", 2, 0x00, 0},   {"info-text-jobs", 2, 0x80, 0},
        {"info-json-lease0", 2, 0x10, 0}, {"clean-json", 2, 0x03, 0},
        {"clean-job-force", 2, 0x63, 0},  {"clean-text-lease0", 2, 0x93, 1},
        {"format-busy", 2, 0x06, 0},      {"format-force", 2, 0x46, 0},
    };
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        s.n = 0;
        u8(&s, c[i].t);
        u8(&s, c[i].flags);
        u8(&s, c[i].job);
        emit("ivmctl", c[i].name, &s);
    }
    /* a time no calendar shows, re-signed, in the JSON */
    s.n = 0;
    u8(&s, 2);
    u8(&s, 0x08);
    u8(&s, 0);
    const uint64_t bad_time = 0x7fffffffffffffffULL;
    patch(&s, 5, 40, &bad_time, 8); /* format_time */
    emit("ivmctl", "info-json-bad-time", &s);
}

/* ---- ring: mode, geometry, place, flags, then operations ---- */

static void ring_seeds(void)
{
    seed_t s = {.n = 0};
    /* ring of 16: fill it, drain it, go round */
    u8(&s, 0x02);
    u8(&s, 4);
    u16(&s, 3);
    u8(&s, 0);
    for (int lap = 0; lap < 3; lap++) {
        for (int i = 0; i < 17; i++) {
            u8(&s, 0);
            u64(&s, 0x1000u + 64u * (unsigned) (lap * 17 + i));
        }
        u8(&s, 1);
        u8(&s, 20);
    }
    u8(&s, 3); /* consumer re-attaches */
    u8(&s, 0);
    u64(&s, 0x4040);
    u8(&s, 1);
    u8(&s, 4);
    emit("ring", "ring-16-laps", &s);

    s.n = 0;
    u8(&s, 0x00);
    u8(&s, 10);
    u16(&s, 0);
    u8(&s, 0x10); /* 1024 cells, tight */
    for (int i = 0; i < 40; i++) {
        u8(&s, 0);
        u64(&s, (uint64_t) i << 6);
    }
    u8(&s, 1);
    u8(&s, 255);
    emit("ring", "ring-1024-tight", &s);

    s.n = 0;
    u8(&s, 0x02);
    u8(&s, 2);
    u16(&s, 1);
    u8(&s, 0x08);
    u64(&s, 2); /* head from the peer */
    u8(&s, 0);
    u64(&s, 0x80);
    u8(&s, 1);
    u8(&s, 4);
    emit("ring", "ring-raw-head", &s);

    /* fast box of 1024 bytes: messages of every size, round and round */
    s.n = 0;
    u8(&s, 0x03);
    u8(&s, 2);
    u16(&s, 2);
    u8(&s, 0);
    for (int i = 0; i < 40; i++) {
        u8(&s, 0);
        u16(&s, (unsigned) (i * 37) % 500);
        u8(&s, (unsigned) i);
        u8(&s, (i % 5) ? 0 : 0x20);
        if (i % 3 == 2) {
            u8(&s, 1);
            u8(&s, 3);
        }
    }
    u8(&s, 1);
    u8(&s, 255);
    emit("ring", "fbox-1k-wrap", &s);

    s.n = 0;
    u8(&s, 0x05);
    u8(&s, 0);
    u16(&s, 7);
    u8(&s, 0x10); /* 256 bytes, tight */
    for (int i = 0; i < 30; i++) {
        u8(&s, 0);
        u16(&s, 8);
        u8(&s, 0x2d);
        u8(&s, 0);
        u8(&s, 1);
        u8(&s, 1);
    }
    emit("ring", "fbox-256-tight", &s);

    s.n = 0;
    u8(&s, 0x03);
    u8(&s, 7);
    u16(&s, 0);
    u8(&s, 0x04);
    u32(&s, 1u << 24); /* size too big */
    emit("ring", "fbox-raw-size", &s);

    s.n = 0;
    u8(&s, 0x03);
    u8(&s, 1);
    u16(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u16(&s, 100);
    u8(&s, 7);
    u8(&s, 0);
    u8(&s, 3);
    u64(&s, 0xffffffffffffULL); /* the receiver's head, corrupted */
    u8(&s, 0);
    u16(&s, 100);
    u8(&s, 8);
    u8(&s, 0);
    u8(&s, 1);
    u8(&s, 8);
    emit("ring", "fbox-bad-head", &s);
}

/* ---- heap: chunks, place, then operations ---- */

static void heap_seeds(void)
{
    seed_t s = {.n = 0};
    u8(&s, 38);
    u8(&s, 0);
    for (unsigned c = 0; c < 11; c++) { /* every class, then large */
        if (c <= 6) {
            u8(&s, 0);
            u16(&s, (64u << c) - 1);
            u8(&s, 0x80);
            u8(&s, 0);
            u16(&s, (64u << c) / 2 + 1);
            u8(&s, (uint8_t) (c % 7));
        } else {
            u8(&s, 1);
            u32(&s, (64u << c) - 1);
            u8(&s, 0x80);
            u8(&s, 1);
            u32(&s, (64u << c) / 2 + 1);
            u8(&s, (uint8_t) (c % 7));
        }
    }
    u8(&s, 1);
    u32(&s, 3 * 65536 + 5);
    u8(&s, 12);
    u8(&s, 8);
    for (int i = 0; i < 10; i++) {
        u8(&s, 2);
        u16(&s, (unsigned) i * 7);
    }
    u8(&s, 8);
    u8(&s, 7);
    u8(&s, 0); /* reopen */
    u8(&s, 0);
    u16(&s, 100);
    u8(&s, 0x86);
    u8(&s, 8);
    emit("heap", "classes-large-free", &s);

    s.n = 0;
    u8(&s, 0);
    u8(&s, 3); /* two chunks: one data chunk */
    for (int i = 0; i < 6; i++) {
        u8(&s, 1);
        u32(&s, 65536);
        u8(&s, 0);
    }
    u8(&s, 0);
    u16(&s, 64);
    u8(&s, 0x80);
    u8(&s, 8);
    emit("heap", "tiny-full", &s);

    s.n = 0;
    u8(&s, 20);
    u8(&s, 1);
    for (int i = 0; i < 40; i++) {
        u8(&s, 0);
        u16(&s, 200);
        u8(&s, 0x80);
    }
    for (int i = 0; i < 20; i++) {
        u8(&s, 2);
        u16(&s, (unsigned) i * 3);
    }
    u8(&s, 6);
    u8(&s, 2);
    u64(&s, (5ULL << 32) | 0x30); /* a list head from a peer */
    u8(&s, 0);
    u16(&s, 200);
    u8(&s, 0x80);
    u8(&s, 7);
    u8(&s, 1);
    emit("heap", "stack-head-corrupt", &s);

    s.n = 0;
    u8(&s, 6);
    u8(&s, 0);
    u8(&s, 4);
    u16(&s, 12);
    u8(&s, 3);
    u32(&s, 1000); /* nchunks, then re-sign */
    u8(&s, 7);
    u8(&s, 1);
    u8(&s, 1);
    u32(&s, 200000);
    u8(&s, 0);
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

static void btl_seeds(void)
{
    seed_t s = {.n = 0};
    u8(&s, B_UPPER);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0x41);
    u16(&s, 100);
    for (int i = 0; i < 100; i++) {
        u8(&s, (unsigned) i);
    }
    b_progress(&s);
    u8(&s, B_UPPER);
    u8(&s, 1);
    u8(&s, 0);
    u8(&s, 0x42);
    u16(&s, 0);
    b_progress(&s);
    emit("btl", "upper-messages", &s);

    /* emulated GET, PUT and atomics to B, answered honestly */
    s.n = 0;
    b_start(&s, 0, 2, 0, 0x1000, 2500); /* GET, three chunks */
    b_progress(&s);
    u8(&s, B_DRAIN);
    u8(&s, 0);
    u8(&s, 0);
    b_progress(&s);
    u8(&s, B_DRAIN);
    u8(&s, 0);
    u8(&s, 0);
    b_progress(&s);
    b_start(&s, 0, 1, 0, 0x2000, 700); /* PUT */
    b_start(&s, 0, 3, 0, 0x3000, 0);   /* fetching atomic */
    b_start(&s, 0, 3, 2, 0x3008, 0);   /* non-fetching atomic */
    b_start(&s, 0, 4, 1, 0x3010, 0);   /* 32-bit compare and swap */
    for (int i = 0; i < 4; i++) {
        b_progress(&s);
        u8(&s, B_DRAIN);
        u8(&s, 0);
        u8(&s, 0);
    }
    b_progress(&s);
    emit("btl", "emu-honest-peer", &s);

    /* the peer asks us: register, then requests of every type */
    s.n = 0;
    u8(&s, B_REG);
    u16(&s, 2048);
    for (unsigned type = 1; type <= 4; type++) {
        u8(&s, B_REQ);
        u8(&s, 0);
        u8(&s, 0);
        u8(&s, type);
        u8(&s, 0);
        u8(&s, 0);
        u16(&s, 64);
        u16(&s, type <= 2 ? 512 : 8);
        u64(&s, 1);
        u64(&s, 2);
        u32(&s, 0);
        u32(&s, 1);
        u64(&s, 0);
        for (int i = 0; i < (type == 1 ? 512 : 0); i++) {
            u8(&s, 0xab);
        }
        b_progress(&s);
    }
    u8(&s, B_DRAIN);
    u8(&s, 0);
    u8(&s, 0);
    emit("btl", "emu-requests", &s);

    /* B announces its fast box, then sends through it (also by reference) */
    s.n = 0;
    u8(&s, B_UPPER);
    u8(&s, 0);
    u8(&s, 4);
    u8(&s, 0x43);
    u16(&s, 10);
    for (int i = 0; i < 10; i++) {
        u8(&s, 1);
    }
    b_progress(&s);
    u8(&s, B_FBOX);
    u16(&s, 40);
    u8(&s, 0x44);
    u8(&s, 0);
    for (int i = 0; i < 40; i++) {
        u8(&s, 2);
    }
    u8(&s, B_UPPER);
    u8(&s, 0);
    u8(&s, 32);
    u8(&s, 0x45);
    u16(&s, 300);
    for (int i = 0; i < 300; i++) {
        u8(&s, 3);
    }
    b_progress(&s);
    emit("btl", "fbox-announce-ref", &s);

    /* our sends: fast box towards B after the threshold; returns */
    s.n = 0;
    for (int i = 0; i < 6; i++) {
        u8(&s, B_SEND);
        u8(&s, 0);
        u16(&s, 100u * (unsigned) i);
        u8(&s, (unsigned) i);
        u8(&s, B_DRAIN);
        u8(&s, 0);
        u8(&s, 0);
        b_progress(&s);
    }
    u8(&s, B_SEND);
    u8(&s, 1);
    u16(&s, 900);
    u8(&s, 1);
    u8(&s, B_DRAIN);
    u8(&s, 1);
    u8(&s, 4); /* C returns twice */
    b_progress(&s);
    u8(&s, B_RETURN);
    u16(&s, 0);
    u8(&s, 0); /* a fragment that is not out */
    b_progress(&s);
    emit("btl", "sends-returns", &s);

    /* emulated RMA on ourselves (osc/rdma's own rank) */
    s.n = 0;
    u8(&s, B_REG);
    u16(&s, 256);
    b_start(&s, 0x80, 2, 0, 16, 100);
    b_start(&s, 0x80, 1, 0, 0, 64);
    b_start(&s, 0x80, 3, 0, 8, 0);
    b_start(&s, 0x80, 4, 0, 24, 0);
    emit("btl", "emu-self", &s);

    /* replies nobody asked for, out of turn, too long */
    s.n = 0;
    b_start(&s, 0, 2, 0, 0x1000, 2000);
    b_progress(&s);
    u8(&s, B_REPLY);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u64(&s, 0); /* in turn */
    u16(&s, 0);
    b_progress(&s);
    u8(&s, B_REPLY);
    u8(&s, 0);
    u8(&s, 2);
    u8(&s, 0);
    u32(&s, 968);
    u64(&s, 0);
    b_progress(&s);
    u8(&s, B_REPLY);
    u8(&s, 0);
    u8(&s, 4);
    u8(&s, 0);
    u64(&s, 5000);
    u64(&s, 0);
    b_progress(&s);
    emit("btl", "emu-bad-replies", &s);
}

/* ---- coll: n, me, chunk, nbuf, degree, then calls / peer actions ---- */

static void c_catch_up(seed_t *s)
{
    u8(s, 8);
    u8(s, 0);
    u8(s, 0);
}

static void coll_seeds(void)
{
    seed_t s = {.n = 0};
    u8(&s, 1);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0); /* 3 members, I am 0 */
    for (int i = 0; i < 4; i++) {
        u8(&s, 0);
        u8(&s, 16); /* small exchange of 16 bytes */
        c_catch_up(&s);
        c_catch_up(&s);
    }
    emit("coll", "small-exchange", &s);

    s.n = 0;
    u8(&s, 3);
    u8(&s, 2);
    u8(&s, 1);
    u8(&s, 1);
    u8(&s, 1); /* 5 members, I am 2 */
    for (int i = 0; i < 3; i++) {
        u8(&s, 1);
        u8(&s, 0); /* tree barrier */
        c_catch_up(&s);
        c_catch_up(&s);
    }
    emit("coll", "tree-barrier", &s);

    s.n = 0;
    u8(&s, 2);
    u8(&s, 1);
    u8(&s, 2);
    u8(&s, 3);
    u8(&s, 0); /* 4 members, chunk 256, 4 buffers */
    u8(&s, 2);
    u8(&s, 0);
    u16(&s, 1000); /* bcast from member 0 */
    for (int i = 0; i < 8; i++) {
        c_catch_up(&s);
    }
    u8(&s, 2);
    u8(&s, 1);
    u16(&s, 700); /* bcast from us */
    for (int i = 0; i < 8; i++) {
        c_catch_up(&s);
    }
    emit("coll", "bcast", &s);

    s.n = 0;
    u8(&s, 1);
    u8(&s, 0);
    u8(&s, 1);
    u8(&s, 1);
    u8(&s, 0);
    u8(&s, 3);
    u8(&s, 0);
    u16(&s, 300); /* gather at us */
    for (int i = 0; i < 8; i++) {
        c_catch_up(&s);
    }
    u8(&s, 4);
    u8(&s, 0);
    u16(&s, 200); /* scatter from us */
    for (int i = 0; i < 8; i++) {
        c_catch_up(&s);
    }
    emit("coll", "gather-scatter", &s);

    s.n = 0;
    u8(&s, 0);
    u8(&s, 1);
    u8(&s, 0);
    u8(&s, 0);
    u8(&s, 0); /* 2 members, I am 1 */
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
    ring_seeds();
    heap_seeds();
    btl_seeds();
    coll_seeds();
    return 0;
}
