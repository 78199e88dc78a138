/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Receive rings and fast boxes: fullness and wrap-around arithmetic, order
 * per producer with several producer processes, variable-size messages
 * through a fast box across processes, and attach-time validation of
 * corrupted headers.  Message counts from IVM_RING_ITERS (default 200000). */

#include <sys/wait.h>

#include "ivm_test.h"
#include "common_ivm_ring.h"

#define NPROD 3

static ivm_region_t r;
static ivm_member_t member;
static ivm_heap_t heap;
static uint64_t lo, hi;

static void ring_arithmetic(void)
{
    uint64_t off, v;
    ivm_ring_handle_t c, p;
    CHECK_RC(ivm_ring_create(&heap, 8, 0, &off), IVM_OK);
    CHECK_RC(ivm_ring_attach(&r, off, lo, hi, &c), IVM_OK);
    CHECK_RC(ivm_ring_attach(&r, off, lo, hi, &p), IVM_OK);
    CHECK(ivm_ring_empty(&c) && !ivm_ring_pop(&c, &v));
    /* many laps, every fill level */
    for (uint64_t lap = 0; lap < 100; lap++) {
        uint64_t n = 1 + lap % 8;
        for (uint64_t i = 0; i < n; i++) {
            CHECK_RC(ivm_ring_push(&p, lap * 100 + i), IVM_OK);
        }
        if (8 == n) {
            CHECK_RC(ivm_ring_push(&p, 999), IVM_ERR_NO_SPACE);
        }
        for (uint64_t i = 0; i < n; i++) {
            CHECK(ivm_ring_pop(&c, &v) && v == lap * 100 + i);
        }
        CHECK(!ivm_ring_pop(&c, &v));
    }
    CHECK_RC(ivm_ring_create(&heap, 12, 0, &off), IVM_ERR_INVALID);
    /* one cell cannot tell "published" from "free": a second push would
     * overwrite the first (fuzz_ring's finding) */
    CHECK_RC(ivm_ring_create(&heap, 1, 0, &off), IVM_ERR_INVALID);
}

static int producer(uint64_t off, int me, uint64_t n)
{
    ivm_ring_handle_t p;
    if (IVM_OK != ivm_ring_attach(&r, off, lo, hi, &p)) {
        return 1;
    }
    for (uint64_t i = 0; i < n;) {
        if (IVM_OK == ivm_ring_push(&p, (uint64_t) me << 32 | i)) {
            i++;
        }
    }
    return 0;
}

static void ring_many_producers(uint64_t n)
{
    uint64_t off, v, next[NPROD] = {0}, got = 0;
    ivm_ring_handle_t c;
    CHECK_RC(ivm_ring_create(&heap, 64, 0, &off), IVM_OK);
    CHECK_RC(ivm_ring_attach(&r, off, lo, hi, &c), IVM_OK);
    for (int p = 0; p < NPROD; p++) {
        if (0 == fork()) {
            _exit(producer(off, p, n));
        }
    }
    while (got < NPROD * n) {
        if (!ivm_ring_pop(&c, &v)) {
            continue;
        }
        uint32_t who = (uint32_t) (v >> 32);
        if (who >= NPROD || (uint32_t) v != next[who]) {
            fprintf(stderr, "ring: got %llx, expected seq %llu from %u\n", (unsigned long long) v,
                    (unsigned long long) next[who % NPROD], who);
            ivm_test_failures++;
            break;
        }
        next[who]++;
        got++;
    }
    for (int p = 0; p < NPROD; p++) {
        int status;
        wait(&status);
        CHECK(WIFEXITED(status) && 0 == WEXITSTATUS(status));
    }
    CHECK(!ivm_ring_pop(&c, &v));
}

static uint8_t pattern(uint64_t msg, uint32_t i)
{
    return (uint8_t) (msg * 31 + i);
}

static int fbox_sender(uint64_t off, uint64_t n)
{
    ivm_fbox_tx_t tx;
    unsigned seed = 7;
    if (IVM_OK != ivm_fbox_attach_tx(&r, off, lo, hi, &tx)) {
        return 1;
    }
    for (uint64_t m = 0; m < n;) {
        uint32_t len = (uint32_t) (rand_r(&seed) % 1025); /* up to a quarter box */
        uint8_t *p;
        while (NULL == (p = ivm_fbox_reserve(&tx, len))) {
        }
        for (uint32_t i = 0; i < len; i++) {
            p[i] = pattern(m, i);
        }
        ivm_fbox_commit(&tx, len, (uint8_t) m, 0);
        m++;
    }
    return 0;
}

static void fbox_stream(uint64_t n)
{
    uint64_t off, hdr;
    ivm_fbox_rx_t rx;
    const void *payload;
    unsigned seed = 7;
    CHECK_RC(ivm_fbox_create(&heap, 4096, 1, &off), IVM_OK);
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, &rx), IVM_OK);
    if (0 == fork()) {
        _exit(fbox_sender(off, n));
    }
    for (uint64_t m = 0; m < n && 0 == ivm_test_failures;) {
        int rc = ivm_fbox_peek(&rx, &hdr, &payload);
        if (0 == rc) {
            continue;
        }
        uint32_t len = (uint32_t) (rand_r(&seed) % 1025);
        CHECK(1 == rc && IVM_FBOX_HDR_LEN(hdr) == len && IVM_FBOX_HDR_TAG(hdr) == (uint8_t) m);
        for (uint32_t i = 0; i < len && 0 == ivm_test_failures; i++) {
            CHECK(((const uint8_t *) payload)[i] == pattern(m, i));
        }
        ivm_fbox_consume(&rx, hdr);
        m++;
    }
    int status;
    wait(&status);
    CHECK(WIFEXITED(status) && 0 == WEXITSTATUS(status));
    CHECK(0 == ivm_fbox_peek(&rx, &hdr, &payload));
}

/* Payload words that look like the headers the receiver will expect next
 * (valid flag, sequence numbers just ahead): as message boundaries move
 * from lap to lap, the receiver's read position often lands on such stale
 * payload.  It must never take it for a message. */
static void fbox_stale_payload(uint64_t n)
{
    uint64_t off, hdr;
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    const void *payload;
    unsigned seed = 11;
    uint64_t sent = 0, got = 0;
    uint32_t lens[64];
    CHECK_RC(ivm_fbox_create(&heap, 1024, 1, &off), IVM_OK);
    CHECK_RC(ivm_fbox_attach_tx(&r, off, lo, hi, &tx), IVM_OK);
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, &rx), IVM_OK);
    while (got < n && 0 == ivm_test_failures) {
        /* a few messages in, then drain some: the box stays partly full */
        for (int k = rand_r(&seed) % 4; k >= 0 && sent - got < 64; k--) {
            uint32_t len = 8 * (uint32_t) (rand_r(&seed) % 30);
            uint64_t *p = ivm_fbox_reserve(&tx, len);
            if (NULL == p) {
                break;
            }
            for (uint32_t w = 0; w < len / 8; w++) {
                p[w] = IVM_FBOX_HDR(8, 0x5a, IVM_FBOX_F_VALID,
                                    (uint16_t) (tx.seq + 1 + rand_r(&seed) % 6));
            }
            lens[sent % 64] = len;
            ivm_fbox_commit(&tx, len, 1, 0);
            sent++;
        }
        for (int k = rand_r(&seed) % 4; k >= 0; k--) {
            int rc = ivm_fbox_peek(&rx, &hdr, &payload);
            if (got == sent) {
                CHECK(0 == rc); /* nothing published: nothing seen */
                break;
            }
            CHECK(1 == rc && 1 == IVM_FBOX_HDR_TAG(hdr) && IVM_FBOX_HDR_LEN(hdr) == lens[got % 64]);
            if (1 != rc) {
                break;
            }
            ivm_fbox_consume(&rx, hdr);
            got++;
        }
    }
}

static void fbox_full_and_corrupt(void)
{
    uint64_t off, hdr;
    ivm_fbox_tx_t tx;
    ivm_fbox_rx_t rx;
    const void *payload;
    int sent = 0;
    CHECK_RC(ivm_fbox_create(&heap, 1024, 1, &off), IVM_OK);
    CHECK_RC(ivm_fbox_attach_tx(&r, off, lo, hi, &tx), IVM_OK);
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, &rx), IVM_OK);
    while (NULL != ivm_fbox_reserve(&tx, 100)) {
        ivm_fbox_commit(&tx, 100, 1, 0);
        sent++;
    }
    CHECK(1024 / 112 == sent); /* 8-byte header + 100, padded to 112 */
    for (int i = 0; i < sent; i++) {
        CHECK(1 == ivm_fbox_peek(&rx, &hdr, &payload));
        ivm_fbox_consume(&rx, hdr);
    }
    CHECK(0 == ivm_fbox_peek(&rx, &hdr, &payload));
    /* a header claiming more bytes than the box has */
    uint8_t *p = ivm_fbox_reserve(&tx, 8);
    CHECK(NULL != p);
    atomic_store((_Atomic uint64_t *) (p - 8), IVM_FBOX_HDR(100000, 1, IVM_FBOX_F_VALID, tx.seq));
    CHECK(IVM_ERR_CORRUPT == ivm_fbox_peek(&rx, &hdr, &payload));
    /* a corrupted size is refused at attach */
    struct ivm_fbox *fb = (struct ivm_fbox *) ivm_ptr(&r, off, 128);
    fb->size = 3000;
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, &rx), IVM_ERR_CORRUPT);
    fb->size = 1u << 24; /* larger than the job */
    CHECK_RC(ivm_fbox_attach_rx(&r, off, lo, hi, &rx), IVM_ERR_CORRUPT);
    CHECK_RC(ivm_fbox_attach_rx(&r, hi - 64, lo, hi, &rx), IVM_ERR_CORRUPT);
    uint64_t roff;
    CHECK_RC(ivm_ring_create(&heap, 16, 0, &roff), IVM_OK);
    struct ivm_ring *ring = (struct ivm_ring *) ivm_ptr(&r, roff, 192);
    ring->capacity = 1u << 19; /* cells would run past the job */
    ivm_ring_handle_t h;
    CHECK_RC(ivm_ring_attach(&r, roff, lo, hi, &h), IVM_ERR_CORRUPT);
    ring->capacity = 1; /* written by a peer: refused as well */
    CHECK_RC(ivm_ring_attach(&r, roff, lo, hi, &h), IVM_ERR_CORRUPT);
    CHECK_RC(ivm_ring_attach(&r, 12345, lo, hi, &h), IVM_ERR_CORRUPT);
}

int main(void)
{
    char path[256];
    const char *env = getenv("IVM_RING_ITERS");
    uint64_t n = env ? strtoull(env, NULL, 10) : 200000;
    ivm_join_opts_t jo = {.part_size = 4u << 20, .lock_timeout_ms = 2000};

    ivm_test_device(path, 8u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, NULL), IVM_OK);
    ivm_job_key_make(jo.key, "ring-test", "");
    CHECK_RC(ivm_job_join(&r, &jo, &member), IVM_OK);
    CHECK_RC(ivm_heap_open(&heap, &r, member.part_off, member.part_size, 2000), IVM_OK);
    lo = member.part_off;
    hi = member.part_off + member.part_size;
    ring_arithmetic();
    ring_many_producers(n);
    fbox_stream(n);
    fbox_stale_payload(n);
    fbox_full_and_corrupt();
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_ring");
}
