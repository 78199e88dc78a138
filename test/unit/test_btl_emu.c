/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* btl/ivm's emulated RMA without Open MPI running (btl_ivm_emu_exec.c):
 * a request from a peer is carried out only inside a live registration of
 * ours, whatever its address, length and type say, and leaves our memory
 * untouched when refused; atomics compute what Open MPI's operations
 * mean; an operation is cut into the chunks the initiator and the owner
 * agree on; and only the reply that is due is accepted.  Open MPI's
 * headers give the atomic operation codes; nothing of libopen-pal is
 * linked. */

#include "opal_config.h"

#include "opal/mca/btl/btl.h"

#include "btl_ivm_emu_exec.h"
#include "ivm_test.h"

#define CHUNK_MAX 1000u /* a small message size, so that chunking shows */

static _Alignas(64) uint8_t mem[4096];
static mca_btl_ivm_emu_range_t regs[3];
static const mca_btl_ivm_emu_target_t target = {.regs = regs, .nregs = 3, .chunk_max = CHUNK_MAX};

static uint64_t addr_of(const void *p)
{
    return (uint64_t) (uintptr_t) p;
}

/* regs[0]: mem[64..64+2048), regs[1]: mem[3000..3016), regs[2]: dead */
static void setup(void)
{
    memset(mem, 0x11, sizeof(mem));
    regs[0] = (mca_btl_ivm_emu_range_t){.base = addr_of(mem + 64), .len = 2048, .live = true};
    regs[1] = (mca_btl_ivm_emu_range_t){.base = addr_of(mem + 3000), .len = 16, .live = true};
    regs[2] = (mca_btl_ivm_emu_range_t){.base = addr_of(mem), .len = sizeof(mem), .live = false};
}

static void test_owned(void)
{
    const uint64_t b = regs[0].base;
    CHECK(mca_btl_ivm_emu_owned(&target, 0, b, 2048) == mem + 64);
    CHECK(mca_btl_ivm_emu_owned(&target, 0, b + 2047, 1) == mem + 64 + 2047);
    CHECK(mca_btl_ivm_emu_owned(&target, 0, b + 2048, 0) == mem + 64 + 2048); /* empty, at end */
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, b, 2049));
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, b + 2048, 1));
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, b + 2049, 0));
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, b - 1, 2));
    /* sums that would wrap around must not pass for small ones */
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, b + 8, UINT64_MAX - 4));
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 0, UINT64_MAX, 2));
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 2, addr_of(mem + 100), 8)); /* deregistered */
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, 3, b, 8));                  /* no such entry */
    CHECK(NULL == mca_btl_ivm_emu_owned(&target, UINT32_MAX, b, 8));
}

static struct ivm_emu_req req(uint8_t type, uint32_t reg, const void *at, uint64_t len)
{
    return (struct ivm_emu_req){.type = type,
                                .reg = reg,
                                .addr = addr_of(at),
                                .len = len,
                                .req = 7,
                                .gen = 9,
                                .offset = 4000};
}

/* @r is refused, the reply still names it, and mem is as setup() left it. */
static void check_refused(const struct ivm_emu_req *r, const void *in, size_t in_len)
{
    struct ivm_emu_reply a;
    const void *data = mem;
    CHECK(!mca_btl_ivm_emu_execute(&target, r, in, in_len, &a, &data));
    CHECK(NULL == data && 0 == a.len && 7 == a.req && 9 == a.gen && 4000 == a.offset);
    for (size_t i = 0; i < sizeof(mem); i++) {
        if (0x11 != mem[i]) {
            CHECK(0x11 == mem[i]);
            break;
        }
    }
}

static void test_refused(void)
{
    uint8_t in[CHUNK_MAX + 8];
    memset(in, 0xee, sizeof(in));
    struct ivm_emu_req r = req(IVM_EMU_PUT, 0, mem + 64 + 2000, 49); /* one past the end */
    check_refused(&r, in, sizeof(in));
    r = req(IVM_EMU_PUT, 0, mem + 64, 100);
    check_refused(&r, in, 99); /* less data than announced */
    r = req(IVM_EMU_PUT, 0, mem + 64, CHUNK_MAX + 1);
    check_refused(&r, in, sizeof(in)); /* more than one message carries */
    r = req(IVM_EMU_GET, 2, mem + 100, 8);
    check_refused(&r, NULL, 0);
    r = req(IVM_EMU_GET, 1, mem + 64, 8); /* lies in regs[0], not in the one named */
    check_refused(&r, NULL, 0);
    r = req(0, 0, mem + 64, 8);
    check_refused(&r, NULL, 0);
    r = req(IVM_EMU_CSWAP + 1, 0, mem + 64, 8);
    check_refused(&r, NULL, 0);
    r = req(IVM_EMU_AOP, 1, mem + 3012, 8); /* 64-bit operand past the end */
    check_refused(&r, NULL, 0);
    r = req(IVM_EMU_AOP, 0, mem + 68, 8); /* misaligned */
    check_refused(&r, NULL, 0);
    r.is32 = 1;
    r.addr = addr_of(mem + 66);
    check_refused(&r, NULL, 0);
}

static void test_put_get(void)
{
    uint8_t in[CHUNK_MAX];
    struct ivm_emu_reply a;
    const void *data;
    for (size_t i = 0; i < sizeof(in); i++) {
        in[i] = (uint8_t) (i * 7 + 3);
    }
    struct ivm_emu_req r = req(IVM_EMU_PUT, 0, mem + 64 + 2048 - CHUNK_MAX, CHUNK_MAX);
    CHECK(mca_btl_ivm_emu_execute(&target, &r, in, sizeof(in), &a, &data));
    CHECK(0 == memcmp(mem + 64 + 2048 - CHUNK_MAX, in, CHUNK_MAX));
    CHECK(0x11 == mem[64 + 2048] && 0x11 == mem[64 + 2047 - CHUNK_MAX]);
    CHECK(NULL == data && 0 == a.len && 7 == a.req && 9 == a.gen && 4000 == a.offset);

    r = req(IVM_EMU_GET, 0, mem + 64 + 2048 - CHUNK_MAX + 10, 100);
    CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data));
    CHECK(data == mem + 64 + 2048 - CHUNK_MAX + 10 && 100 == a.len);
    CHECK(0 == a.status && 0 == a.result);
}

static uint64_t aop(uint16_t op, uint64_t *word, uint64_t operand, bool is32)
{
    struct ivm_emu_req r = req(IVM_EMU_AOP, 0, word, is32 ? 4 : 8);
    struct ivm_emu_reply a;
    const void *data;
    r.op = op;
    r.is32 = is32;
    r.operand[0] = operand;
    CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data));
    CHECK(NULL == data && 0 == a.len);
    return a.result;
}

static void test_atomics(void)
{
    uint64_t *w = (uint64_t *) (mem + 128); /* in regs[0], 8-byte aligned */
    uint32_t *h = (uint32_t *) w;
    *w = 40;
    CHECK(40 == aop(MCA_BTL_ATOMIC_ADD, w, 2, false) && 42 == *w);
    CHECK(42 == aop(MCA_BTL_ATOMIC_SWAP, w, UINT64_MAX, false) && UINT64_MAX == *w);
    /* MIN and MAX are signed: -1 is the smaller */
    CHECK(UINT64_MAX == aop(MCA_BTL_ATOMIC_MIN, w, 5, false) && UINT64_MAX == *w);
    CHECK(UINT64_MAX == aop(MCA_BTL_ATOMIC_MAX, w, 5, false) && 5 == *w);
    CHECK(5 == aop(MCA_BTL_ATOMIC_LAND, w, 2, false) && 1 == *w);
    CHECK(1 == aop(MCA_BTL_ATOMIC_LXOR, w, 3, false) && 0 == *w);
    CHECK(0 == aop(MCA_BTL_ATOMIC_OR, w, 0xf0, false) && 0xf0 == *w);
    CHECK(0xf0 == aop(MCA_BTL_ATOMIC_XOR, w, 0xff, false) && 0x0f == *w);
    /* 32-bit: only the addressed half changes, and signs are 32-bit ones */
    *w = 0;
    h[1] = 0xabcdef01u;
    CHECK(0 == aop(MCA_BTL_ATOMIC_ADD, w, 0xffffffffu, true) && 0xffffffffu == h[0]);
    CHECK(0xffffffffu == aop(MCA_BTL_ATOMIC_MIN, w, 3, true) && 0xffffffffu == h[0]);
    CHECK(0xffffffffu == aop(MCA_BTL_ATOMIC_ADD, w, 1, true) && 0 == h[0]);
    CHECK(0xabcdef01u == h[1]);

    struct ivm_emu_req r = req(IVM_EMU_CSWAP, 1, mem + 3008, 8); /* last word of regs[1] */
    struct ivm_emu_reply a;
    const void *data;
    memcpy(mem + 3008, &(uint64_t){77}, 8);
    r.operand[0] = 76;
    r.operand[1] = 1;
    CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data) && 77 == a.result);
    r.operand[0] = 77;
    CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data) && 77 == a.result);
    CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data) && 1 == a.result);
}

static void test_chunks(void)
{
    CHECK(CHUNK_MAX == mca_btl_ivm_emu_chunk(IVM_EMU_PUT, 5, CHUNK_MAX));
    CHECK(CHUNK_MAX == mca_btl_ivm_emu_chunk(IVM_EMU_GET, 1u << 20, CHUNK_MAX));
    CHECK(8 == mca_btl_ivm_emu_chunk(IVM_EMU_AOP, 8, CHUNK_MAX));
    CHECK(4 == mca_btl_ivm_emu_chunk(IVM_EMU_CSWAP, 4, CHUNK_MAX));
    CHECK(1 == mca_btl_ivm_emu_nchunks(0, CHUNK_MAX)); /* a zero-byte put still completes */
    CHECK(1 == mca_btl_ivm_emu_nchunks(1, CHUNK_MAX));
    CHECK(1 == mca_btl_ivm_emu_nchunks(CHUNK_MAX, CHUNK_MAX));
    CHECK(2 == mca_btl_ivm_emu_nchunks(CHUNK_MAX + 1, CHUNK_MAX));
    CHECK(1 == mca_btl_ivm_emu_nchunks(8, 8));
    CHECK(4097 == mca_btl_ivm_emu_nchunks(4096ull * 65504 + 1, 65504));
}

static void test_replies(void)
{
    mca_btl_ivm_emu_track_t o = {.type = IVM_EMU_GET, .size = 2500, .chunk = CHUNK_MAX};
    struct ivm_emu_reply a = {.offset = 0, .len = CHUNK_MAX};
    CHECK(CHUNK_MAX == mca_btl_ivm_emu_reply_len(&o, 1000));
    CHECK(500 == mca_btl_ivm_emu_reply_len(&o, 2000));
    CHECK(mca_btl_ivm_emu_reply_expected(&o, &a, true, CHUNK_MAX));
    CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, true, CHUNK_MAX - 1)); /* data cut short */
    a.offset = CHUNK_MAX;
    CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, true, CHUNK_MAX)); /* out of turn */
    o.next_offset = 2000;
    a.offset = 2000;
    CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, true, CHUNK_MAX)); /* more than is left */
    a.len = 500;
    CHECK(mca_btl_ivm_emu_reply_expected(&o, &a, true, 500));
    CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, false, 500)); /* a failure carries no data */
    a.len = 0;
    CHECK(mca_btl_ivm_emu_reply_expected(&o, &a, false, 0));
    o.next_offset = a.offset = 3000; /* past the operation: there is no such chunk */
    CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, false, 0));

    mca_btl_ivm_emu_track_t put = {.type = IVM_EMU_PUT, .size = 0, .chunk = CHUNK_MAX};
    struct ivm_emu_reply p = {.offset = 0, .len = 0};
    CHECK(0 == mca_btl_ivm_emu_reply_len(&put, 0));
    CHECK(mca_btl_ivm_emu_reply_expected(&put, &p, true, 0)); /* the one chunk of 0 bytes */
    p.len = 1;
    CHECK(!mca_btl_ivm_emu_reply_expected(&put, &p, true, 1)); /* a put's reply has no data */
}

/* A GET of regs[0] as initiator and owner run it: chunked requests, each
 * executed by the owner, each reply accepted once and in turn. */
static void test_round_trip(void)
{
    uint8_t dst[2048];
    for (size_t i = 0; i < 2048; i++) {
        mem[64 + i] = (uint8_t) (i ^ (i >> 8));
    }
    mca_btl_ivm_emu_track_t o = {.type = IVM_EMU_GET, .size = sizeof(dst)};
    o.chunk = mca_btl_ivm_emu_chunk(o.type, o.size, CHUNK_MAX);
    uint32_t n = mca_btl_ivm_emu_nchunks(o.size, o.chunk);
    CHECK(3 == n);
    for (uint32_t k = 0; k < n; k++) {
        uint64_t off = k * o.chunk, len = o.size - off < o.chunk ? o.size - off : o.chunk;
        struct ivm_emu_req r = req(IVM_EMU_GET, 0, mem + 64 + off, len);
        struct ivm_emu_reply a;
        const void *data;
        r.offset = off;
        CHECK(mca_btl_ivm_emu_execute(&target, &r, NULL, 0, &a, &data));
        CHECK(mca_btl_ivm_emu_reply_expected(&o, &a, true, a.len));
        memcpy(dst + a.offset, data, a.len);
        o.next_offset += o.chunk;
        CHECK(!mca_btl_ivm_emu_reply_expected(&o, &a, true, a.len)); /* not twice */
    }
    CHECK(0 == memcmp(dst, mem + 64, sizeof(dst)));
}

int main(void)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {
        {"owned", test_owned},           {"refused", test_refused}, {"put_get", test_put_get},
        {"atomics", test_atomics},       {"chunks", test_chunks},   {"replies", test_replies},
        {"round_trip", test_round_trip},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = ivm_test_failures;
        setup();
        cases[i].run();
        printf("  %s: %s\n", cases[i].name, before == ivm_test_failures ? "ok" : "FAIL");
    }
    return ivm_test_done("test_btl_emu");
}
