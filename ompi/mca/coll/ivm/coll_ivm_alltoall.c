/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Alltoall and MPI_Alltoallv (flat mode): every rank streams its
 * blocks for the other ranks in destination order (its own block is
 * copied locally and never enters the region) and copies, from every
 * other rank's stream, the range meant for it; all ranks read in parallel
 * and the streams are pipelined through the channel buffers.  For alltoallv a
 * reader cannot compute where its block starts in another rank's stream,
 * so every rank first publishes its block offsets (a step of their own).
 * MPI_IN_PLACE: the send data is copied out of the receive buffer first.
 * In the hierarchical mode both go to the previous component. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "coll_ivm.h"

typedef struct a2a_args {
    const void *sbuf;
    const int *scounts, *sdispls;
    int scount;
    struct ompi_datatype_t *sdtype;
    void *rbuf;
    const int *rcounts, *rdispls;
    int rcount;
    struct ompi_datatype_t *rdtype;
} a2a_args_t;

static int a2a_count(const int *counts, int count, int i)
{
    return NULL != counts ? counts[i] : count;
}

static ptrdiff_t a2a_disp(const int *displs, int count, int i)
{
    return NULL != displs ? displs[i] : (ptrdiff_t) i * count;
}

/* My outgoing stream from the send buffer: one span per destination. */
static int build_stream(const a2a_args_t *a, int n, coll_ivm_span_t *span, coll_ivm_seg_t *seg)
{
    for (int j = 0; j < n; j++) {
        ptrdiff_t disp = a2a_disp(a->sdispls, a->scount, j);
        int rc =
            coll_ivm_span_in(coll_ivm_block(a->sbuf, a->sdtype, disp),
                             (size_t) a2a_count(a->scounts, a->scount, j), a->sdtype, &span[j]);
        if (OMPI_SUCCESS != rc) {
            return rc;
        }
        seg[j] = (coll_ivm_seg_t){span[j].ptr, span[j].len};
    }
    return OMPI_SUCCESS;
}

/* alltoallv: where my block starts in every other rank's stream. */
static int exchange_offsets(coll_ivm_group_t *g, int n, const coll_ivm_seg_t *seg, uint64_t *theirs)
{
    coll_ivm_range_t *r = malloc(n * sizeof(*r));
    uint64_t *mine = malloc(n * sizeof(uint64_t)), off = 0;
    int k = 0, rc = OMPI_ERR_OUT_OF_RESOURCE;
    if (NULL != r && NULL != mine) {
        for (int i = 0; i < n; i++) {
            mine[i] = off;
            off += seg[i].len;
            if (i != g->me) {
                r[k++] = (coll_ivm_range_t){i, (uint64_t) g->me * sizeof(uint64_t),
                                            sizeof(uint64_t), (uint8_t *) &theirs[i]};
            }
        }
        coll_ivm_seg_t head = {(const uint8_t *) mine, n * sizeof(uint64_t)};
        rc = coll_ivm_xfer(g, &head, 1, r, k);
    }
    free(r);
    free(mine);
    return rc; /* the offsets are untrusted: the engine range-checks them */
}

/* Uniform alltoall from region buffers: the readers take their blocks
 * straight out of the writers' send buffers (coll_ivm_direct), which must
 * then be equally spaced blocks of one buffer. */
static int direct(coll_ivm_group_t *g, const coll_ivm_seg_t *seg, coll_ivm_seg_t self,
                  const coll_ivm_blocks_t *b, bool *done)
{
    const int n = g->n;
    const uint8_t *base = 0 == g->me ? self.ptr : seg[0].ptr;
    const uint8_t *second = 1 == g->me ? self.ptr : seg[1].ptr;
    uint64_t stride = second > base ? (uint64_t) (second - base) : 0;
    for (int j = 0; j < n && NULL != base; j++) {
        const uint8_t *p = j == g->me ? self.ptr : seg[j].ptr;
        if (0 == stride || p != base + (uint64_t) j * stride) {
            base = NULL; /* packed copies, or blocks out of order: stream */
        }
    }
    return coll_ivm_direct(g, base, stride, stride * (uint64_t) (n - 1) + self.len, b->range,
                           b->nrange, true, done);
}

/* The exchange, given my outgoing blocks @seg (one segment per rank; my
 * own is taken out of the stream here). */
static int alltoall_run(mca_coll_ivm_module_t *m, const a2a_args_t *a, bool v, coll_ivm_seg_t *seg)
{
    coll_ivm_group_t *g = &m->grp;
    const int n = m->size, me = g->me;
    const coll_ivm_seg_t self = seg[me];
    uint64_t theirs_small[COLL_IVM_SMALL_N];
    uint64_t *theirs = n <= COLL_IVM_SMALL_N ? theirs_small : calloc(n, sizeof(uint64_t));
    coll_ivm_blocks_t b;
    int rc = NULL == theirs ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_SUCCESS;
    b.span = NULL;

    seg[me].len = 0; /* the stream holds the other ranks' blocks only */
    if (OMPI_SUCCESS == rc && v) {
        rc = exchange_offsets(g, n, seg, theirs);
    }
    if (OMPI_SUCCESS == rc) {
        rc = coll_ivm_blocks_init(&b, n);
    }
    for (int i = 0; i < n && OMPI_SUCCESS == rc; i++) {
        int cnt = a2a_count(a->rcounts, a->rcount, i);
        ptrdiff_t disp = a2a_disp(a->rdispls, a->rcount, i);
        rc = coll_ivm_blocks_add(&b, i, a->rbuf, cnt, disp, a->rdtype, i, 0);
        if (OMPI_SUCCESS != rc || 0 == b.nrange || b.range[b.nrange - 1].writer != i) {
            continue; /* nothing to receive from i */
        }
        coll_ivm_range_t *r = &b.range[b.nrange - 1];
        if (i == me) {
            /* my own block: a local copy, not through the region */
            rc = r->len == self.len ? OMPI_SUCCESS : OMPI_ERR_BAD_PARAM;
            if (OMPI_SUCCESS == rc) {
                memcpy(r->dst, self.ptr, r->len);
            }
            b.nrange--;
        } else {
            /* uniform: every block has my receive size, and i's stream
             * skips its own block i, so mine is block me or me - 1 */
            r->off = v ? theirs[i] : (uint64_t) (me < i ? me : me - 1) * r->len;
        }
    }
    bool done = false;
    if (OMPI_SUCCESS == rc && !v && self.len >= g->geom.chunk) {
        /* every block has this size: all members ask alike */
        rc = direct(g, seg, self, &b, &done);
    }
    if (OMPI_SUCCESS == rc && !done) {
        /* uniform: every member's stream is n - 1 blocks of self.len */
        rc = !v && (uint64_t) (n - 1) * self.len <= COLL_IVM_SMALL_BYTES
                 ? coll_ivm_xfer_tiny(g, seg, n, b.range, b.nrange)
                 : coll_ivm_xfer(g, seg, n, b.range, b.nrange);
    }
    int rc2 = NULL != b.span ? coll_ivm_blocks_finish(&b, OMPI_SUCCESS == rc, a->rbuf, a->rcounts,
                                                      a->rcount, a->rdispls, a->rdtype)
                             : OMPI_SUCCESS;
    if (theirs != theirs_small) {
        free(theirs);
    }
    return OMPI_SUCCESS != rc ? rc : rc2;
}

static int alltoall_flat(mca_coll_ivm_module_t *m, const a2a_args_t *a, bool v)
{
    const int n = m->size;
    const bool small = n <= COLL_IVM_SMALL_N;
    coll_ivm_span_t span_small[COLL_IVM_SMALL_N];
    coll_ivm_seg_t seg_small[COLL_IVM_SMALL_N];
    coll_ivm_span_t *span = small ? span_small : calloc(n, sizeof(*span));
    coll_ivm_seg_t *seg = small ? seg_small : calloc(n, sizeof(*seg));
    int rc = (NULL == span || NULL == seg) ? OMPI_ERR_OUT_OF_RESOURCE : OMPI_SUCCESS;

    if (small) {
        memset(span, 0, n * sizeof(*span));
    }

    if (OMPI_SUCCESS == rc) {
        rc = build_stream(a, n, span, seg);
    }
    if (OMPI_SUCCESS == rc) {
        rc = alltoall_run(m, a, v, seg);
    }
    for (int j = 0; NULL != span && j < n; j++) {
        coll_ivm_span_free(&span[j]);
    }
    if (!small) {
        free(span);
        free(seg);
    }
    return rc;
}

/* MPI_IN_PLACE: the data to send is in the receive buffer, which the
 * exchange overwrites; take a packed copy of the part the blocks cover
 * first (element k of it at k * size bytes). */
static int alltoall_in_place(mca_coll_ivm_module_t *m, const a2a_args_t *a, bool v)
{
    const int n = m->size;
    coll_ivm_span_t whole;
    size_t esz, hi = 0;
    uint8_t *copy = NULL;
    coll_ivm_seg_t *seg = calloc(n, sizeof(*seg));

    ompi_datatype_type_size(a->rdtype, &esz);
    for (int i = 0; i < n; i++) {
        size_t end = (size_t) a2a_disp(a->rdispls, a->rcount, i)
                     + (size_t) a2a_count(a->rcounts, a->rcount, i);
        hi = end > hi ? end : hi;
    }
    int rc =
        NULL == seg ? OMPI_ERR_OUT_OF_RESOURCE : coll_ivm_span_in(a->rbuf, hi, a->rdtype, &whole);
    if (OMPI_SUCCESS != rc) {
        free(seg);
        return rc;
    }
    if (NULL != whole.tmp) {
        copy = whole.tmp; /* already a packed copy */
        whole.tmp = NULL;
    } else if (whole.len > 0 && NULL != (copy = malloc(whole.len))) {
        memcpy(copy, whole.ptr, whole.len);
    } else if (whole.len > 0) {
        rc = OMPI_ERR_OUT_OF_RESOURCE;
    }
    for (int j = 0; OMPI_SUCCESS == rc && j < n; j++) {
        size_t d = (size_t) a2a_disp(a->rdispls, a->rcount, j);
        seg[j] =
            (coll_ivm_seg_t){copy + d * esz, (size_t) a2a_count(a->rcounts, a->rcount, j) * esz};
    }
    if (OMPI_SUCCESS == rc) {
        rc = alltoall_run(m, a, v, seg);
    }
    free(copy);
    free(seg);
    return rc;
}

int mca_coll_ivm_alltoall(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                          int rcount, struct ompi_datatype_t *rdtype,
                          struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    size_t blk;
    if (coll_ivm_use(m, COLL_IVM_ALLTOALL)) {
        /* rcount and rdtype give the same byte counts on every rank */
        if (rcount >= 0 && OMPI_SUCCESS == coll_ivm_bytes((size_t) rcount, rdtype, &blk)
            && coll_ivm_hand_over(COLL_IVM_ALLTOALL, blk, m->size)) {
            return m->prev.alltoall(sbuf, scount, sdtype, rbuf, rcount, rdtype, comm,
                                    m->prev.alltoall_module);
        }
        if (COLL_IVM_MODE_FLAT == m->mode) {
            a2a_args_t a = {sbuf, NULL, NULL, scount, sdtype, rbuf, NULL, NULL, rcount, rdtype};
            return MPI_IN_PLACE == sbuf ? alltoall_in_place(m, &a, false)
                                        : alltoall_flat(m, &a, false);
        }
        coll_ivm_count_fallback(COLL_IVM_ALLTOALL);
    }
    return m->prev.alltoall(sbuf, scount, sdtype, rbuf, rcount, rdtype, comm,
                            m->prev.alltoall_module);
}

int mca_coll_ivm_alltoallv(const void *sbuf, const int *scounts, const int *sdispls,
                           struct ompi_datatype_t *sdtype, void *rbuf, const int *rcounts,
                           const int *rdispls, struct ompi_datatype_t *rdtype,
                           struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    if (coll_ivm_use(m, COLL_IVM_ALLTOALLV)) {
        if (COLL_IVM_MODE_FLAT == m->mode) {
            a2a_args_t a = {sbuf, scounts, sdispls, 0, sdtype, rbuf, rcounts, rdispls, 0, rdtype};
            return MPI_IN_PLACE == sbuf ? alltoall_in_place(m, &a, true)
                                        : alltoall_flat(m, &a, true);
        }
        coll_ivm_count_fallback(COLL_IVM_ALLTOALLV);
    }
    return m->prev.alltoallv(sbuf, scounts, sdispls, sdtype, rbuf, rcounts, rdispls, rdtype, comm,
                             m->prev.alltoallv_module);
}
