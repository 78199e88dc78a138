/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The data movement engine.  Bcast, gather(v), scatter(v), allgather(v)
 * and alltoall(v) are all one shape: every member has an outgoing stream
 * (possibly empty) and wants some byte ranges of other members' streams.
 *
 * The streams move through channel 0 in chunks, in rounds: in round c a
 * member first publishes chunk c of its own stream, then copies whatever
 * it needs from chunk c of the others' streams and declares round c done.
 * With nbuf buffers per member, a writer runs at most nbuf chunks ahead
 * of the slowest reader, so large messages are pipelined through a
 * bounded area.  Readers copy in parallel from the writer's buffers (no
 * member forwards data for another).
 *
 * No deadlock: a member in the lowest round can always proceed.  If it is
 * publishing, every other member has declared at least the previous round
 * done, which is all a buffer of nbuf >= 1 rounds back needs; if it is
 * reading, its writers have published that round or are about to.
 *
 * A member that needs nothing before round f declares rounds < f done up
 * front, so writers are not held up by members not interested in early
 * chunks (scatter, gather).
 *
 * Broadcasts of a chunk or more whose root's buffer is in the region
 * (MPI_Alloc_mem with the ivm hint) skip the streams: the readers copy
 * straight from the root's buffer (bcast_describe). */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

/* Copy the next @len bytes of the segment list into @dst. */
static void fill(uint8_t *dst, size_t len, const coll_ivm_seg_t *seg, int nseg, int *si,
                 size_t *soff)
{
    while (len > 0 && *si < nseg) {
        size_t n = seg[*si].len - *soff;
        if (n > len) {
            n = len;
        }
        memcpy(dst, seg[*si].ptr + *soff, n);
        dst += n;
        len -= n;
        *soff += n;
        if (*soff == seg[*si].len) {
            (*si)++;
            *soff = 0;
        }
    }
}

static int read_round(coll_ivm_group_t *g, uint64_t seq, uint64_t c, const coll_ivm_range_t *range,
                      int nrange)
{
    const uint64_t C = g->geom.chunk, lo = c * C, hi = lo + C;
    for (int k = 0; k < nrange; k++) {
        const coll_ivm_range_t *r = &range[k];
        uint64_t a = r->off > lo ? r->off : lo;
        uint64_t b = r->off + r->len < hi ? r->off + r->len : hi;
        if (0 == r->len || a >= b) {
            continue;
        }
        int rc = coll_ivm_chan_wait(g, 0, r->writer, seq, (uint32_t) c);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
        memcpy(r->dst + (a - r->off), coll_ivm_buf(g, 0, r->writer, seq, c) + (a - lo), b - a);
    }
    return OMPI_SUCCESS;
}

static int xfer(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, int nseg,
                const coll_ivm_range_t *range, int nrange)
{
    const uint64_t C = g->geom.chunk;
    const uint64_t seq = ++g->seq;
    uint64_t total = 0, first = UINT64_MAX, last = 0, rounds;
    int si = 0;
    size_t soff = 0;

    for (int k = 0; k < nseg; k++) {
        total += seg[k].len;
    }
    for (int k = 0; k < nrange; k++) {
        const coll_ivm_range_t *r = &range[k];
        if (0 == r->len) {
            continue;
        }
        if (r->writer < 0 || r->writer >= g->n || r->writer == g->me || r->off > UINT64_MAX / 2
            || r->len > UINT64_MAX / 2) {
            return OMPI_ERR_BAD_PARAM;
        }
        uint64_t f = r->off / C, l = (r->off + r->len - 1) / C;
        first = f < first ? f : first;
        last = l > last ? l : last;
    }
    rounds = (total + C - 1) / C;
    if (UINT64_MAX != first && last + 1 > rounds) {
        rounds = last + 1;
    }
    if (rounds > COLL_IVM_MAX_CHUNKS) {
        return OMPI_ERR_NOT_SUPPORTED;
    }
    /* nothing wanted before round @first */
    coll_ivm_chan_done(g, 0,
                       UINT64_MAX == first ? coll_ivm_tok(seq, COLL_IVM_TOK_ALL)
                                           : coll_ivm_tok(seq, (uint32_t) first) - 1);
    for (uint64_t c = 0; c < rounds; c++) {
        if (c * C < total) {
            uint64_t n = total - c * C < C ? total - c * C : C;
            int rc = coll_ivm_chan_acquire(g, 0, seq, c);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
            fill(coll_ivm_buf(g, 0, g->me, seq, c), n, seg, nseg, &si, &soff);
            coll_ivm_chan_publish(g, 0, seq, (uint32_t) c);
        }
        if (UINT64_MAX != first && c >= first && c <= last) {
            int rc = read_round(g, seq, c, range, nrange);
            if (OMPI_SUCCESS != rc) {
                return rc;
            }
            /* after the last wanted round, say so at once: we may still
             * publish for a long time, and others must not wait on us */
            coll_ivm_chan_done(g, 0,
                               coll_ivm_tok(seq, c == last ? COLL_IVM_TOK_ALL : (uint32_t) c));
        }
    }
    coll_ivm_chan_done(g, 0, coll_ivm_tok(seq, COLL_IVM_TOK_ALL));
    return OMPI_SUCCESS;
}

int coll_ivm_xfer_tiny(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, int nseg,
                       const coll_ivm_range_t *range, int nrange)
{
    uint8_t mine[COLL_IVM_SMALL_BYTES];
    size_t len = 0;
    uint64_t step;
    for (int k = 0; k < nseg; k++) {
        if (seg[k].len > COLL_IVM_SMALL_BYTES - len) {
            return OMPI_ERR_BAD_PARAM;
        }
        memcpy(mine + len, seg[k].ptr, seg[k].len);
        len += seg[k].len;
    }
    for (int k = 0; k < nrange; k++) {
        const coll_ivm_range_t *r = &range[k];
        if (r->len > 0
            && (r->writer < 0 || r->writer >= g->n || r->writer == g->me
                || r->off > COLL_IVM_SMALL_BYTES || r->len > COLL_IVM_SMALL_BYTES - r->off)) {
            return OMPI_ERR_BAD_PARAM;
        }
    }
    int rc = coll_ivm_small_exchange(g, mine, len, &step);
    for (int k = 0; OMPI_SUCCESS == rc && k < nrange; k++) {
        const coll_ivm_range_t *r = &range[k];
        if (r->len > 0) {
            memcpy(r->dst, coll_ivm_small(g, r->writer, step)->data + r->off, r->len);
        }
    }
    return rc;
}

int coll_ivm_xfer(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, int nseg,
                  const coll_ivm_range_t *range, int nrange)
{
    int rc = xfer(g, seg, nseg, range, nrange);
    if (OMPI_SUCCESS != rc) {
        g->broken = true; /* the members' steps no longer match */
    }
    return rc;
}

/* A large broadcast's first step (common_ivm_layout_coll.h): the root
 * says where the data comes from.  *done: the whole broadcast happened
 * (single copy out of the root's region buffer). */
static int bcast_describe(coll_ivm_group_t *g, uint8_t *buf, size_t len, int root, bool *done)
{
    struct coll_ivm_bcast_desc d = {0, len, COLL_IVM_BDESC_STREAM, 0};
    uint64_t b;
    int dev, rc;

    *done = false;
    if (g->me == root) {
        if (OPAL_SUCCESS == mca_common_ivm_find(buf, len, &dev, &d.off)
            && mca_common_ivm_device_get(dev) == g->dev) {
            d.mode = COLL_IVM_BDESC_REGION;
        }
        rc = coll_ivm_ring_post(g, &d, sizeof(d), &b);
        coll_ivm_ring_done(g, b);
        if (OMPI_SUCCESS == rc && COLL_IVM_BDESC_REGION == d.mode) {
            /* the others read our buffer: it must stay until they have */
            rc = coll_ivm_ring_wait_read(g, b);
            mca_coll_ivm_component.counters->single_copy++;
            *done = true;
        }
        return rc;
    }
    rc = coll_ivm_ring_read(g, root, &d, sizeof(d), &b); /* d: private copy */
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (COLL_IVM_BDESC_REGION == d.mode && d.len == len) {
        const uint8_t *src = mca_common_ivm_job_ptr(g->dev, d.off, len);
        if (NULL != src) {
            memcpy(buf, src, len);
            *done = true;
        }
    }
    coll_ivm_ring_done(g, b);
    if (!*done && COLL_IVM_BDESC_STREAM != d.mode) {
        g->broken = true; /* garbage in the root's slot: out of step */
        return OMPI_ERR_BAD_PARAM;
    }
    return OMPI_SUCCESS;
}

int coll_ivm_bcast_group(coll_ivm_group_t *g, uint8_t *buf, size_t len, int root)
{
    if (len <= COLL_IVM_SMALL_BYTES) {
        return coll_ivm_bcast_small(g, buf, len, root);
    }
    if (len >= g->geom.chunk) {
        bool done;
        int rc = bcast_describe(g, buf, len, root, &done);
        if (OMPI_SUCCESS != rc || done) {
            return rc;
        }
    }
    if (g->me == root) {
        coll_ivm_seg_t seg = {buf, len};
        return coll_ivm_xfer(g, &seg, 1, NULL, 0);
    }
    coll_ivm_range_t range = {root, 0, len, buf};
    return coll_ivm_xfer(g, NULL, 0, &range, 1);
}

int coll_ivm_gather_group(coll_ivm_group_t *g, const uint8_t *mine, size_t blk, uint8_t *dst)
{
    if (0 != g->me) {
        coll_ivm_seg_t seg = {mine, blk};
        return coll_ivm_xfer(g, &seg, 1, NULL, 0);
    }
    coll_ivm_range_t *r = malloc((g->n - 1) * sizeof(*r));
    if (NULL == r) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    for (int i = 1; i < g->n; i++) {
        r[i - 1] = (coll_ivm_range_t){i, 0, blk, dst + i * blk};
    }
    memmove(dst, mine, blk);
    int rc = coll_ivm_xfer(g, NULL, 0, r, g->n - 1);
    free(r);
    return rc;
}

int coll_ivm_scatter_group(coll_ivm_group_t *g, const uint8_t *src, size_t blk, uint8_t *mine)
{
    if (0 == g->me) {
        coll_ivm_seg_t seg = {src, (size_t) g->n * blk};
        memmove(mine, src, blk);
        return coll_ivm_xfer(g, &seg, 1, NULL, 0);
    }
    coll_ivm_range_t r = {0, (uint64_t) g->me * blk, blk, mine};
    return coll_ivm_xfer(g, NULL, 0, &r, 1);
}
