/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Shared helpers of the libFuzzer harnesses (test/fuzz, doc/fuzzing.md):
 * reading the fuzzer's bytes, region images in a memfd mapped through the
 * real mapper, AddressSanitizer poisoning of the bytes a piece of code must
 * never touch, and the "patch" encoding with which every harness lets the
 * fuzzer overwrite a validly formatted region.
 *
 * Patch encoding (one patch; a harness applies them until its input ends):
 *   u8 sel, u16 off, u8 len, then (len % 32) + 1 bytes
 * sel % 6 names the area the offset is taken in, modulo its size:
 *   0 superblock (4096 bytes), 1 job table, 2 slot table, 3 the first job's
 *   partition (first 64 KiB of it: header, bitmap, chunk info), 4 anywhere
 *   (off * 16), 5 the superblock's static part (the CRC-covered bytes). */

#ifndef IVM_FUZZ_COMMON_H
#define IVM_FUZZ_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <sanitizer/asan_interface.h>

#include "common_ivm_core.h"

/* ---- the fuzzer's bytes ---- */

typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz_t;

static inline size_t fz_left(const fz_t *f)
{
    return f->n;
}

static inline uint64_t fz_uint(fz_t *f, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes; i++) {
        if (0 == f->n) {
            break;
        }
        v |= (uint64_t) *f->p << (8 * i);
        f->p++;
        f->n--;
    }
    return v;
}

#define fz_u8(f) ((uint8_t) fz_uint((f), 1))
#define fz_u16(f) ((uint16_t) fz_uint((f), 2))
#define fz_u32(f) ((uint32_t) fz_uint((f), 4))
#define fz_u64(f) fz_uint((f), 8)

/* Copy up to @len bytes (zero-padded when the input ends). */
static inline void fz_bytes(fz_t *f, void *dst, size_t len)
{
    size_t k = len < f->n ? len : f->n;
    memcpy(dst, f->p, k);
    memset((uint8_t *) dst + k, 0, len - k);
    f->p += k;
    f->n -= k;
}

/* A harness found something the ivm code promises cannot happen: abort
 * with a message (libFuzzer saves the input as a crash). */
#define FZ_CHECK(cond, ...)                                                                      \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "ivm-fuzz: check failed at %s:%d: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                                        \
            fputc('\n', stderr);                                                                 \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

/* ---- region images ---- */

#define FZ_REGION_SIZE ((size_t) IVM_REGION_MIN_SIZE)

/* A memfd of @size bytes, opened and mapped by the real mapper (ivm_map,
 * "file" back end through /proc/self/fd/N).  Exits on failure: the
 * harness cannot run at all. */
static inline void fz_region_memfd(ivm_region_t *r, size_t size, char path[64])
{
    int fd = memfd_create("ivm-fuzz", MFD_CLOEXEC);
    if (fd < 0 || 0 != ftruncate(fd, (off_t) size)) {
        perror("ivm-fuzz: memfd");
        exit(2);
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    if (IVM_OK != ivm_region_open(r, path, false)) {
        fprintf(stderr, "ivm-fuzz: cannot map %s: %s\n", path, r->errmsg);
        exit(2);
    }
}

/* Forget what a previous attach validated; keep the mapping. */
/* An anonymous shared mapping of @size bytes as @r's region (no file, no
 * format): for the harnesses that lay out their objects themselves. */
static inline uint8_t *fz_region_anon(ivm_region_t *r, size_t size, const char *name)
{
    uint8_t *base = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (MAP_FAILED == base) {
        exit(2);
    }
    r->map.base = base;
    r->map.size = size;
    r->map.fd = -1;
    r->size = size;
    snprintf(r->map.spec, sizeof(r->map.spec), "%s", name);
    return base;
}

/* Keep a copy of region @r as template @t and the layout its patch areas
 * use: template 0 is a zeroed region, so it gets the geometry a default
 * format would give; the others their own. */
static inline void fz_keep_template(ivm_region_t *r, unsigned t, uint8_t **templates,
                                    struct ivm_layout *tlayout)
{
    templates[t] = malloc(r->map.size);
    if (NULL == templates[t]) {
        exit(2);
    }
    memcpy(templates[t], r->map.base, r->map.size);
    if (0 == t) {
        ivm_layout_compute(r->map.size, 16, 32, &tlayout[t]);
    } else {
        tlayout[t] = r->layout;
    }
}

static inline void fz_region_reset(ivm_region_t *r)
{
    r->size = 0;
    memset(&r->layout, 0, sizeof(r->layout));
    memset(r->region_id, 0, sizeof(r->region_id));
    r->lease_ms = 0;
    r->uncached = false;
    r->errmsg[0] = '\0';
}

/* Fail loudly while building a template: a harness bug, not a finding. */
static inline void fz_must(int rc, ivm_region_t *r, const char *what)
{
    if (IVM_OK != rc) {
        fprintf(stderr, "ivm-fuzz: building a template: %s: %s (%s)\n", what, ivm_strerror(rc),
                r->errmsg);
        exit(2);
    }
}

/* A slot as a process of another VM leaves it: foreign vm id, a pid, a
 * lease renewed @lease_age_ms ago (0: no lease word).  The caller holds
 * nothing: templates are built single-threaded. */
static inline void fz_foreign_slot(ivm_region_t *r, uint32_t slot, uint32_t job, uint32_t rank,
                                   uint64_t lease_age_ms)
{
    struct ivm_slot_entry *s =
        (struct ivm_slot_entry *) (r->map.base + r->layout.slot_table_off) + slot;
    struct ivm_job_entry *j =
        (struct ivm_job_entry *) (r->map.base + r->layout.job_table_off) + job;
    s->gen++;
    s->job = job;
    s->job_gen = j->gen;
    memset(s->owner.vm_id, 0xa5, IVM_ID_LEN);
    s->owner.pid = 4242 + rank;
    s->owner.start_time = 123456;
    s->claim_time = 1700000000;
    s->rank = rank;
    snprintf(s->host, sizeof(s->host), "vm%u", rank);
    atomic_store(&s->user[0], 0);
    atomic_store(&s->user[1], 0);
    atomic_store(&s->lease_ms, lease_age_ms ? ivm_wall_ms() - lease_age_ms : 0);
    atomic_store(&s->nonce, 0x1122334455667788ULL + slot);
    atomic_store(&s->state, IVM_SLOT_CLAIMED);
}

/* Apply one patch (see the top of this file) to a region laid out as @l
 * (the template's own, trusted geometry).  False when the input is used
 * up. */
static inline bool fz_patch(fz_t *f, uint8_t *base, size_t map_size, const struct ivm_layout *l,
                            uint64_t part_off)
{
    if (fz_left(f) < 4) {
        return false;
    }
    uint8_t sel = fz_u8(f) % 6;
    uint64_t off = fz_u16(f);
    size_t len = (size_t) (fz_u8(f) % 32) + 1;
    uint64_t at, span;
    switch (sel) {
    case 0:
        at = 0;
        span = IVM_SB_SIZE;
        break;
    case 1:
        at = l->job_table_off;
        span = (uint64_t) l->job_count * l->job_entry_size;
        break;
    case 2:
        at = l->slot_table_off;
        span = (uint64_t) l->slot_count * l->slot_entry_size;
        break;
    case 3:
        at = part_off;
        span = IVM_CHUNK_SIZE;
        break;
    case 4:
        at = 0;
        span = map_size;
        off *= 16;
        break;
    default:
        at = 0;
        span = offsetof(struct ivm_superblock, header_crc) + 4;
        break;
    }
    if (0 == span) {
        span = IVM_SB_SIZE;
    }
    at += off % span;
    if (at >= map_size) {
        at = map_size - 1;
    }
    if (len > map_size - at) {
        len = map_size - at;
    }
    fz_bytes(f, base + at, len);
    return true;
}

/* ---- AddressSanitizer fences ---- */

/* Make every byte of [base, base+size) outside [lo, hi) unaddressable:
 * code that must stay inside a job partition (rings, fast boxes, the heap,
 * btl/ivm's receive path) then trips ASan the moment it steps out, even
 * though the bytes are mapped. */
static inline void fz_fence(uint8_t *base, size_t size, uint64_t lo, uint64_t hi)
{
    ASAN_UNPOISON_MEMORY_REGION(base, size);
    if (lo > 0) {
        ASAN_POISON_MEMORY_REGION(base, lo);
    }
    if (hi < size) {
        ASAN_POISON_MEMORY_REGION(base + hi, size - hi);
    }
}

static inline void fz_unfence(uint8_t *base, size_t size)
{
    ASAN_UNPOISON_MEMORY_REGION(base, size);
}

/* Touch every byte of [p, p+len): ASan then checks the whole range a
 * consumer was handed. */
static inline uint8_t fz_touch(const void *p, size_t len)
{
    const volatile uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < len; i++) {
        x ^= b[i];
    }
    return x;
}

#endif /* IVM_FUZZ_COMMON_H */
