/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "heap": the job heap (common_ivm_heap.c), shared by every
 * process of a job in every VM: partition header, chunk bitmap, chunk info
 * words, the per-class free-list heads and the links inside free blocks
 * are all writable by peers.
 *
 * A partition is formatted with ivm_heap_init and opened; then the input
 * drives allocations, frees, reopens and raw overwrites of the header,
 * bitmap, info words, list heads and any other byte of the partition
 * (optionally re-signing the header's CRC so the fuzzer gets behind it).
 * Everything outside the partition is poisoned (ASan).  Checked promises:
 *  - every block handed out lies in the data area, is aligned as asked,
 *    and fits; whatever the partition says;
 *  - while nothing was overwritten and only blocks we hold are freed: no
 *    two live blocks overlap, every free of a live block succeeds, and the
 *    header's bytes_in_use is the sum of the live blocks' sizes.
 *
 * Input: u8 partition chunks (2..47), u8 partition place, then operations
 * (see LLVMFuzzerTestOneInput). */

#include "fuzz_common.h"

#define REG_SIZE (4u * 1024u * 1024u)
#define MAX_LIVE 512
#define MAX_OPS 1024

static uint8_t *base;
static ivm_region_t region;

static struct {
    uint64_t off, size;
} live[MAX_LIVE];
static unsigned nlive;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    base = fz_region_anon(&region, REG_SIZE, "fuzz-heap");
    return 0;
}

/* What the allocator hands out for @size/@align (its class or chunk
 * rounding), for the model. */
static uint64_t rounded(uint64_t size, uint64_t align)
{
    uint64_t need = size > align ? size : align;
    if (0 == need) {
        need = 1;
    }
    uint64_t c = 64;
    while (c < need) {
        c <<= 1;
    }
    if (c <= 32768) {
        return c;
    }
    return (need + IVM_CHUNK_SIZE - 1) / IVM_CHUNK_SIZE * IVM_CHUNK_SIZE;
}

static void resign(uint64_t part_off)
{
    struct ivm_part_header *h = (struct ivm_part_header *) (base + part_off);
    h->crc = ivm_crc32c(0, h, offsetof(struct ivm_part_header, crc));
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t size)
{
    fz_t f = {d, size};
    ivm_region_t *r = &region;
    const uint64_t part_size = (uint64_t) (2 + fz_u8(&f) % 46) * IVM_CHUNK_SIZE;
    const uint64_t part_off = (uint64_t) (1 + fz_u8(&f) % 8) * IVM_CHUNK_SIZE;
    const uint64_t part_end = part_off + part_size;
    bool clean = true;
    ivm_heap_t h;

    fz_unfence(base, REG_SIZE);
    memset(base + part_off, 0xdb, part_size);
    fz_fence(base, REG_SIZE, part_off, part_end);
    r->errmsg[0] = '\0';
    r->lease_ms = 0;
    FZ_CHECK(IVM_OK == ivm_heap_init(r, part_off, part_size), "init: %s", r->errmsg);
    FZ_CHECK(IVM_OK == ivm_heap_open(&h, r, part_off, part_size, 0), "open: %s", r->errmsg);
    const uint64_t data_off = h.data_off, meta = h.data_off - part_off;
    nlive = 0;

    for (int n = 0; n < MAX_OPS && fz_left(&f) > 0; n++) {
        uint8_t op = fz_u8(&f);
        switch (op % 9) {
        case 0:
        case 1: { /* allocate: small sizes are the common case */
            uint64_t sz = (0 == op % 9) ? fz_u16(&f) % 4096 : fz_u32(&f) % (4 * IVM_CHUNK_SIZE);
            uint8_t a = fz_u8(&f);
            uint64_t align = (a & 0x80) ? 0 : (uint64_t) 1 << (a % 14);
            uint64_t off;
            int rc = ivm_heap_alloc(&h, sz, align, &off);
            if (IVM_OK != rc) {
                break;
            }
            uint64_t rs = rounded(sz, align);
            FZ_CHECK(off >= data_off && off < part_end && rs <= part_end - off,
                     "block %llu+%llu outside the data area [%llu, %llu)", (unsigned long long) off,
                     (unsigned long long) rs, (unsigned long long) data_off,
                     (unsigned long long) part_end);
            FZ_CHECK(0 == align || 0 == off % align, "block %llu not aligned to %llu",
                     (unsigned long long) off, (unsigned long long) align);
            if (clean) {
                for (unsigned i = 0; i < nlive; i++) {
                    FZ_CHECK(off + rs <= live[i].off || live[i].off + live[i].size <= off,
                             "block %llu+%llu overlaps live block %llu+%llu",
                             (unsigned long long) off, (unsigned long long) rs,
                             (unsigned long long) live[i].off, (unsigned long long) live[i].size);
                }
            }
            /* the owner writes its block (a peer may read it, nothing else) */
            memset(base + off, 0x5c, rs < 4096 ? rs : 4096);
            if (nlive < MAX_LIVE) {
                live[nlive].off = off;
                live[nlive++].size = rs;
            } else {
                clean = false; /* lost track */
            }
            break;
        }
        case 2: { /* free a block we hold */
            if (0 == nlive) {
                break;
            }
            unsigned i = fz_u16(&f) % nlive;
            int rc = ivm_heap_free(&h, live[i].off);
            FZ_CHECK(!clean || IVM_OK == rc, "freeing live block %llu failed: %s",
                     (unsigned long long) live[i].off, r->errmsg);
            live[i] = live[--nlive];
            break;
        }
        case 3: /* free whatever offset (a confused caller): must not crash */
            (void) ivm_heap_free(&h, part_off + fz_u32(&f) % (part_size + 4096));
            clean = false;
            break;
        case 4: { /* a peer writes into the metadata */
            uint64_t at = part_off + fz_u16(&f) % meta;
            size_t len = (size_t) (fz_u8(&f) % 16) + 1;
            if (len > part_end - at) {
                len = part_end - at;
            }
            fz_bytes(&f, base + at, len);
            clean = false;
            break;
        }
        case 5: { /* ... into the data chunks (free-list links) */
            uint64_t at = data_off + (uint64_t) fz_u32(&f) % (part_end - data_off);
            at &= ~(uint64_t) 7;
            uint64_t v = fz_u64(&f);
            memcpy(base + at, &v, sizeof(v));
            clean = false;
            break;
        }
        case 6: { /* ... into a free-list head */
            struct ivm_part_header *ph = (struct ivm_part_header *) (base + part_off);
            atomic_store(&ph->class_head[fz_u8(&f) % IVM_HEAP_NCLASS], fz_u64(&f));
            clean = false;
            break;
        }
        case 7: /* reopen, maybe after re-signing the header */
            if (fz_u8(&f) & 1) {
                resign(part_off);
            }
            if (IVM_OK != ivm_heap_open(&h, r, part_off, part_size, 0)) {
                return 0;
            }
            FZ_CHECK(h.data_off == data_off, "reopen moved the data area");
            break;
        default: { /* check the books */
            if (clean) {
                uint64_t sum = 0;
                for (unsigned i = 0; i < nlive; i++) {
                    sum += live[i].size;
                }
                FZ_CHECK(ivm_heap_in_use(&h) == sum, "bytes_in_use %llu, live blocks %llu",
                         (unsigned long long) ivm_heap_in_use(&h), (unsigned long long) sum);
            }
            break;
        }
        }
    }
    return 0;
}
