/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* btl/ivm's fast-box reference path without MPI (btl_ivm_fbox_ref.h on a
 * fast box in a region file): the header word keeps every field apart;
 * fragment references and inline messages come out of the box in the
 * order they went in, lap after lap, each recognised for what it is; a
 * full box refuses a reference without losing or reordering anything; and
 * a reference a peer wrote with the wrong length yields an offset no
 * fragment can have.  test/progs/ivm_fbox_hdr does the same path under
 * MPI, through ob1. */

#include "ivm_test.h"
#include "btl_ivm_fbox_ref.h"

static ivm_region_t r;
static ivm_member_t member;
static ivm_heap_t heap;
static uint64_t lo, hi;

static void test_header(void)
{
    uint64_t h = IVM_FBOX_HDR(0xfffffffeu, 0xa5, IVM_FBOX_F_VALID | IVM_FBOX_F_REF, 0xfedc);
    CHECK(0xfffffffeu == IVM_FBOX_HDR_LEN(h) && 0xa5 == IVM_FBOX_HDR_TAG(h));
    CHECK((IVM_FBOX_F_VALID | IVM_FBOX_F_REF) == IVM_FBOX_HDR_FLAGS(h));
    CHECK(0xfedc == IVM_FBOX_HDR_SEQ(h));
    h = IVM_FBOX_HDR(8, 0xff, IVM_FBOX_F_VALID, 0xffff);
    CHECK(8 == IVM_FBOX_HDR_LEN(h) && 0xff == IVM_FBOX_HDR_TAG(h) && 0xffff == IVM_FBOX_HDR_SEQ(h));
    CHECK(IVM_FBOX_F_VALID == IVM_FBOX_HDR_FLAGS(h));
    CHECK(0 == (IVM_FBOX_F_REF & (IVM_FBOX_F_VALID | IVM_FBOX_F_WRAP)));

    uint64_t word = 0x12340, off = 0;
    CHECK(!mca_btl_ivm_fbox_ref_take(h, &word, &off) && 0 == off); /* inline: not a reference */
    h = IVM_FBOX_HDR(8, 0, IVM_FBOX_F_VALID | IVM_FBOX_F_REF, 3);
    CHECK(mca_btl_ivm_fbox_ref_take(h, &word, &off) && 0x12340 == off);
}

static void open_box(uint32_t size, ivm_fbox_tx_t *tx, ivm_fbox_rx_t *rx)
{
    uint64_t off;
    CHECK_RC(ivm_fbox_create(&heap, size, 1, &off), IVM_OK);
    CHECK_RC(ivm_fbox_attach_tx(&r, off, lo, hi, tx), IVM_OK);
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, rx), IVM_OK);
}

/* Message @i of the stream: a reference (offset (i + 1) * 64) every third
 * message, else @i's tag and length with bytes derived from @i. */
static bool is_ref(uint32_t i)
{
    return 0 == i % 3;
}

static uint32_t len_of(uint32_t i)
{
    return (i * 37) % 200;
}

static bool send_one(ivm_fbox_tx_t *tx, uint32_t i)
{
    if (is_ref(i)) {
        return mca_btl_ivm_fbox_ref_post(tx, (uint64_t) (i + 1) * IVM_CACHELINE);
    }
    uint8_t *p = ivm_fbox_reserve(tx, len_of(i));
    if (NULL == p) {
        return false;
    }
    memset(p, (int) (i & 0xff), len_of(i));
    ivm_fbox_commit(tx, len_of(i), (uint8_t) (i % 251), 0);
    return true;
}

/* Take the next message and check that it is message @i.  False when
 * there is none (a broken box: the caller stops instead of spinning). */
static bool receive_one(ivm_fbox_rx_t *rx, uint32_t i)
{
    const void *payload;
    uint64_t hdr, off = 0;
    if (1 != ivm_fbox_peek(rx, &hdr, &payload)) {
        CHECK(!"message expected");
        return false;
    }
    bool ref = mca_btl_ivm_fbox_ref_take(hdr, payload, &off);
    CHECK(ref == is_ref(i));
    if (ref) {
        CHECK((uint64_t) (i + 1) * IVM_CACHELINE == off);
    } else {
        const uint8_t *b = payload;
        CHECK(len_of(i) == IVM_FBOX_HDR_LEN(hdr) && i % 251 == IVM_FBOX_HDR_TAG(hdr));
        CHECK(0 == len_of(i) || ((i & 0xff) == b[0] && (i & 0xff) == b[len_of(i) - 1]));
    }
    ivm_fbox_consume(rx, hdr);
    return true;
}

static void test_in_order(void)
{
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    uint32_t sent = 0, got = 0;
    open_box(1024, &tx, &rx); /* small: many laps, wrap markers included */
    while (got < 20000) {
        while (sent < 20000 && send_one(&tx, sent)) {
            sent++;
        }
        uint32_t burst = 1 + got % 7; /* the receiver lags by varying amounts */
        for (uint32_t k = 0; k < burst && got < sent; k++) {
            if (!receive_one(&rx, got++)) {
                return;
            }
        }
    }
    const void *payload;
    uint64_t hdr;
    CHECK(0 == ivm_fbox_peek(&rx, &hdr, &payload));
}

static void test_full(void)
{
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    const void *payload;
    uint64_t hdr = 0, off;
    uint32_t n = 0;
    open_box(1024, &tx, &rx);
    while (mca_btl_ivm_fbox_ref_post(&tx, (uint64_t) (n + 1) * IVM_CACHELINE)) {
        n++;
    }
    CHECK((1024 - 8) / 16 == n);                    /* 16 bytes each, and the guard word */
    CHECK(!mca_btl_ivm_fbox_ref_post(&tx, 0x4000)); /* still full: nothing written */
    for (uint32_t i = 0; i < n; i++) {
        CHECK(1 == ivm_fbox_peek(&rx, &hdr, &payload));
        CHECK(mca_btl_ivm_fbox_ref_take(hdr, payload, &off)
              && (uint64_t) (i + 1) * IVM_CACHELINE == off);
        ivm_fbox_consume(&rx, hdr);
    }
    CHECK(0 == ivm_fbox_peek(&rx, &hdr, &payload));
}

/* A peer flags a message as a reference but gives it another length. */
static void test_bad_length(void)
{
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    const void *payload;
    uint64_t hdr, off;
    const uint32_t lens[] = {0, 4, 16};
    open_box(1024, &tx, &rx);
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        uint64_t *p = ivm_fbox_reserve(&tx, lens[i]);
        CHECK(NULL != p);
        memset(p, 0, lens[i]); /* an aligned, plausible offset (0) where it would be */
        ivm_fbox_commit(&tx, lens[i], 0, IVM_FBOX_F_REF);
        CHECK(1 == ivm_fbox_peek(&rx, &hdr, &payload));
        off = 0;
        CHECK(mca_btl_ivm_fbox_ref_take(hdr, payload, &off));
        CHECK(0 != off % IVM_CACHELINE); /* refused by the receiver, never followed */
        ivm_fbox_consume(&rx, hdr);
    }
}

int main(void)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } cases[] = {
        {"header", test_header},
        {"in_order", test_in_order},
        {"full", test_full},
        {"bad_length", test_bad_length},
    };
    char path[256];
    ivm_join_opts_t jo = {.part_size = 4u << 20, .lock_timeout_ms = 2000};

    ivm_test_device(path, 8u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, NULL), IVM_OK);
    ivm_job_key_make(jo.key, "fbox-ref-test", "");
    CHECK_RC(ivm_job_join(&r, &jo, &member), IVM_OK);
    CHECK_RC(ivm_heap_open(&heap, &r, member.part_off, member.part_size, 2000), IVM_OK);
    lo = member.part_off;
    hi = member.part_off + member.part_size;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int before = ivm_test_failures;
        cases[i].run();
        printf("  %s: %s\n", cases[i].name, before == ivm_test_failures ? "ok" : "FAIL");
    }
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_btl_fbox_ref");
}
