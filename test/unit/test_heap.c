/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The job heap: any size, alignment, no overlap between blocks even when
 * several processes allocate and free at once, free space coalesces, and
 * exhaustion or corruption are clean errors.  Iterations from
 * IVM_HEAP_ITERS (default 100000 per process). */

#include <sys/mman.h>
#include <sys/wait.h>

#include "ivm_test.h"

#define NPROC 4
#define LIVE 64

static ivm_region_t r;
static ivm_member_t member;

static void open_heap(ivm_heap_t *h)
{
    CHECK_RC(ivm_heap_open(h, &r, member.part_off, member.part_size, 2000), IVM_OK);
}

static void fill(ivm_heap_t *h, uint64_t off, uint64_t len, uint8_t v)
{
    memset(r.map.base + off, v, len);
    (void) h;
}

static bool intact(uint64_t off, uint64_t len, uint8_t v)
{
    for (uint64_t i = 0; i < len; i += 61) {
        if (r.map.base[off + i] != v) {
            return false;
        }
    }
    return r.map.base[off + len - 1] == v;
}

static void single_process(void)
{
    static const uint64_t sizes[] = {0, 1, 63, 64, 65, 100, 4096, 32768, 32769, 1u << 20};
    static const uint64_t aligns[] = {1, 8, 64, 4096};
    uint64_t offs[40], lens[40];
    ivm_heap_t h;
    int n = 0;
    open_heap(&h);
    CHECK(0 == ivm_heap_in_use(&h));
    for (size_t s = 0; s < 10; s++) {
        for (size_t a = 0; a < 4; a++) {
            uint64_t off;
            CHECK_RC(ivm_heap_alloc(&h, sizes[s], aligns[a], &off), IVM_OK);
            CHECK(0 == off % aligns[a]);
            CHECK(off >= member.part_off && off + sizes[s] <= member.part_off + member.part_size);
            offs[n] = off;
            lens[n] = sizes[s] ? sizes[s] : 1;
            fill(&h, off, lens[n], (uint8_t) n);
            n++;
        }
    }
    for (int i = 0; i < n; i++) {
        CHECK(intact(offs[i], lens[i], (uint8_t) i)); /* nobody overlapped us */
        CHECK_RC(ivm_heap_free(&h, offs[i]), IVM_OK);
    }
    CHECK(0 == ivm_heap_in_use(&h));
    /* bad frees are refused */
    CHECK_RC(ivm_heap_free(&h, 0), IVM_ERR_INVALID);
    CHECK_RC(ivm_heap_free(&h, h.data_off + 3 * IVM_CHUNK_SIZE + 7), IVM_ERR_INVALID);
    uint64_t big;
    CHECK_RC(ivm_heap_alloc(&h, 64, 8192, &big), IVM_ERR_INVALID);
    CHECK_RC(ivm_heap_alloc(&h, member.part_size * 2, 8, &big), IVM_ERR_INVALID);
}

/* Fill the heap with large blocks, free every other one, then all: the
 * whole free space is one block again. */
static void exhaustion_and_coalescing(void)
{
    ivm_heap_t h;
    uint64_t offs[512], off;
    int n = 0, rc;
    open_heap(&h);
    /* the largest block available now (slabs of small blocks stay put) */
    uint64_t total = (uint64_t) h.nchunks * IVM_CHUNK_SIZE;
    while (IVM_OK != ivm_heap_alloc(&h, total, 64, &off)) {
        total -= IVM_CHUNK_SIZE;
    }
    CHECK(total >= (uint64_t) (h.nchunks - IVM_HEAP_NCLASS) * IVM_CHUNK_SIZE);
    CHECK_RC(ivm_heap_free(&h, off), IVM_OK);
    while (IVM_OK == (rc = ivm_heap_alloc(&h, 2 * IVM_CHUNK_SIZE, 64, &offs[n])) && n < 511) {
        n++;
    }
    CHECK_RC(rc, IVM_ERR_NO_SPACE);
    CHECK(NULL != strstr(r.errmsg, "no"));
    for (int i = 0; i < n; i += 2) {
        CHECK_RC(ivm_heap_free(&h, offs[i]), IVM_OK);
    }
    CHECK_RC(ivm_heap_alloc(&h, 3 * IVM_CHUNK_SIZE, 64, &off), IVM_ERR_NO_SPACE);
    for (int i = 1; i < n; i += 2) {
        CHECK_RC(ivm_heap_free(&h, offs[i]), IVM_OK);
    }
    CHECK_RC(ivm_heap_alloc(&h, total, 64, &off), IVM_OK);
    CHECK_RC(ivm_heap_free(&h, off), IVM_OK);
    CHECK(0 == ivm_heap_in_use(&h));
}

static int stress_child(int me, int iters)
{
    ivm_heap_t h;
    uint64_t offs[LIVE] = {0}, lens[LIVE] = {0};
    unsigned seed = (unsigned) (me * 7919 + 1);
    if (IVM_OK != ivm_heap_open(&h, &r, member.part_off, member.part_size, 5000)) {
        return 1;
    }
    for (int it = 0; it < iters; it++) {
        int k = rand_r(&seed) % LIVE;
        uint8_t tag = (uint8_t) (me * LIVE + k);
        if (0 != lens[k]) {
            if (!intact(offs[k], lens[k], tag)) {
                fprintf(stderr, "child %d: block %d overwritten\n", me, k);
                return 1;
            }
            if (IVM_OK != ivm_heap_free(&h, offs[k])) {
                fprintf(stderr, "child %d free: %s\n", me, r.errmsg);
                return 1;
            }
            lens[k] = 0;
            continue;
        }
        uint64_t len =
            1
            + (uint64_t) (rand_r(&seed) % 100 < 90 ? rand_r(&seed) % 4000 : rand_r(&seed) % 200000);
        int rc = ivm_heap_alloc(&h, len, 8, &offs[k]);
        if (IVM_ERR_NO_SPACE == rc) {
            continue; /* legitimate under pressure */
        }
        if (IVM_OK != rc) {
            fprintf(stderr, "child %d alloc: %s\n", me, r.errmsg);
            return 1;
        }
        lens[k] = len;
        memset(r.map.base + offs[k], tag, len);
    }
    for (int k = 0; k < LIVE; k++) {
        if (0 != lens[k]
            && (!intact(offs[k], lens[k], (uint8_t) (me * LIVE + k))
                || IVM_OK != ivm_heap_free(&h, offs[k]))) {
            return 1;
        }
    }
    return 0;
}

static void multi_process(int iters)
{
    ivm_heap_t h;
    for (int p = 0; p < NPROC; p++) {
        if (0 == fork()) {
            _exit(stress_child(p, iters));
        }
    }
    for (int p = 0; p < NPROC; p++) {
        int status;
        wait(&status);
        CHECK(WIFEXITED(status) && 0 == WEXITSTATUS(status));
    }
    open_heap(&h);
    CHECK(0 == ivm_heap_in_use(&h));
}

static void corruption(void)
{
    ivm_heap_t h;
    uint64_t off;
    open_heap(&h);
    CHECK_RC(ivm_heap_alloc(&h, 100, 8, &off), IVM_OK);
    CHECK_RC(ivm_heap_free(&h, off), IVM_OK);
    uint64_t saved = atomic_load(&h.hdr->class_head[1]);
    atomic_store(&h.hdr->class_head[1], 0x00000001ffffff00ull); /* index far out of range */
    CHECK_RC(ivm_heap_alloc(&h, 100, 8, &off), IVM_ERR_CORRUPT);
    atomic_store(&h.hdr->class_head[1], saved);
    /* a corrupted link inside a free block */
    uint64_t top = h.data_off + (((uint32_t) saved - 1ull) << IVM_HEAP_MIN_CLASS_SHIFT);
    uint64_t link = atomic_load((_Atomic uint64_t *) (r.map.base + top));
    atomic_store((_Atomic uint64_t *) (r.map.base + top), 0x7fffffffull);
    CHECK_RC(ivm_heap_alloc(&h, 100, 8, &off), IVM_ERR_CORRUPT);
    atomic_store((_Atomic uint64_t *) (r.map.base + top), link);
    CHECK_RC(ivm_heap_alloc(&h, 100, 8, &off), IVM_OK);
    CHECK_RC(ivm_heap_free(&h, off), IVM_OK);
    /* a corrupted header is refused at open */
    h.hdr->nchunks ^= 4;
    ivm_heap_t h2;
    CHECK_RC(ivm_heap_open(&h2, &r, member.part_off, member.part_size, 100), IVM_ERR_CORRUPT);
    h.hdr->nchunks ^= 4;
    CHECK_RC(ivm_heap_open(&h2, &r, member.part_off, member.part_size, 100), IVM_OK);
}

int main(void)
{
    char path[256];
    const char *env = getenv("IVM_HEAP_ITERS");
    int iters = env ? atoi(env) : 100000;
    ivm_join_opts_t jo = {.part_size = 8u << 20, .lock_timeout_ms = 2000};

    ivm_test_device(path, 16u << 20);
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, NULL), IVM_OK);
    ivm_job_key_make(jo.key, "heap-test", "");
    CHECK_RC(ivm_job_join(&r, &jo, &member), IVM_OK);
    single_process();
    exhaustion_and_coalescing();
    multi_process(iters);
    corruption();
    CHECK_RC(ivm_job_leave(&r, &member, 2000), IVM_OK);
    ivm_region_close(&r);
    unlink(path);
    return ivm_test_done("test_heap");
}
