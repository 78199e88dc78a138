/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Contiguous views of user buffers.  The engines move bytes; a buffer
 * described by a derived (non-contiguous) datatype is packed into a
 * temporary copy first, or received into one and unpacked afterwards.
 * Contiguous layouts are used in place. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "ompi/datatype/ompi_datatype.h"
#include "opal/datatype/opal_convertor.h"

#include "coll_ivm.h"

int coll_ivm_bytes(size_t count, struct ompi_datatype_t *dtype, size_t *bytes)
{
    size_t size;
    ompi_datatype_type_size(dtype, &size);
    if (0 != size && count > SIZE_MAX / 2 / size) {
        return OMPI_ERR_BAD_PARAM;
    }
    *bytes = count * size;
    return OMPI_SUCCESS;
}

static bool contiguous(size_t count, struct ompi_datatype_t *dtype)
{
    return count <= INT32_MAX && ompi_datatype_is_contiguous_memory_layout(dtype, (int32_t) count);
}

static uint8_t *first_byte(const void *buf, struct ompi_datatype_t *dtype)
{
    ptrdiff_t lb, extent;
    ompi_datatype_get_true_extent(dtype, &lb, &extent);
    return (uint8_t *) buf + lb;
}

static int convert(bool pack, void *user, size_t count, struct ompi_datatype_t *dtype, void *packed,
                   size_t len)
{
    opal_convertor_t conv;
    struct iovec iov = {.iov_base = packed, .iov_len = len};
    uint32_t iov_count = 1;
    size_t max = len;
    int rc;

    OBJ_CONSTRUCT(&conv, opal_convertor_t);
    if (pack) {
        rc = opal_convertor_copy_and_prepare_for_send(ompi_mpi_local_convertor, &dtype->super,
                                                      count, user, 0, &conv);
        if (OPAL_SUCCESS == rc) {
            rc = opal_convertor_pack(&conv, &iov, &iov_count, &max) < 0 ? OMPI_ERROR : OMPI_SUCCESS;
        }
    } else {
        rc = opal_convertor_copy_and_prepare_for_recv(ompi_mpi_local_convertor, &dtype->super,
                                                      count, user, 0, &conv);
        if (OPAL_SUCCESS == rc) {
            rc = opal_convertor_unpack(&conv, &iov, &iov_count, &max) < 0 ? OMPI_ERROR
                                                                          : OMPI_SUCCESS;
        }
    }
    OBJ_DESTRUCT(&conv);
    return rc;
}

int coll_ivm_span_in(const void *buf, size_t count, struct ompi_datatype_t *dtype,
                     coll_ivm_span_t *s)
{
    int rc = coll_ivm_bytes(count, dtype, &s->len);
    s->tmp = NULL;
    s->ptr = NULL;
    if (OMPI_SUCCESS != rc || 0 == s->len) {
        return rc;
    }
    if (contiguous(count, dtype)) {
        s->ptr = first_byte(buf, dtype);
        return OMPI_SUCCESS;
    }
    s->tmp = malloc(s->len);
    if (NULL == s->tmp) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    s->ptr = s->tmp;
    rc = convert(true, (void *) buf, count, dtype, s->tmp, s->len);
    if (OMPI_SUCCESS != rc) {
        coll_ivm_span_free(s);
    }
    return rc;
}

int coll_ivm_span_out(void *buf, size_t count, struct ompi_datatype_t *dtype, coll_ivm_span_t *s)
{
    int rc = coll_ivm_bytes(count, dtype, &s->len);
    s->tmp = NULL;
    s->ptr = NULL;
    if (OMPI_SUCCESS != rc || 0 == s->len) {
        return rc;
    }
    if (contiguous(count, dtype)) {
        s->ptr = first_byte(buf, dtype);
        return OMPI_SUCCESS;
    }
    s->tmp = malloc(s->len);
    if (NULL == s->tmp) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    s->ptr = s->tmp;
    return OMPI_SUCCESS;
}

int coll_ivm_span_commit(coll_ivm_span_t *s, void *buf, size_t count, struct ompi_datatype_t *dtype)
{
    int rc = OMPI_SUCCESS;
    if (NULL != s->tmp) {
        rc = convert(false, buf, count, dtype, s->tmp, s->len);
    }
    coll_ivm_span_free(s);
    return rc;
}

void coll_ivm_span_free(coll_ivm_span_t *s)
{
    free(s->tmp);
    s->tmp = NULL;
    s->ptr = NULL;
}

int coll_ivm_local_copy(const void *src, size_t scount, struct ompi_datatype_t *sdtype, void *dst,
                        size_t rcount, struct ompi_datatype_t *rdtype)
{
    coll_ivm_span_t in, out;
    int rc = coll_ivm_span_in(src, scount, sdtype, &in);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    rc = coll_ivm_span_out(dst, rcount, rdtype, &out);
    if (OMPI_SUCCESS == rc && in.len != out.len) {
        rc = OMPI_ERR_BAD_PARAM;
    }
    if (OMPI_SUCCESS == rc) {
        if (in.len > 0) {
            memmove(out.ptr, in.ptr, in.len);
        }
        rc = coll_ivm_span_commit(&out, dst, rcount, rdtype);
    } else {
        coll_ivm_span_free(&out);
    }
    coll_ivm_span_free(&in);
    return rc;
}

int coll_ivm_blocks_init(coll_ivm_blocks_t *b, int n)
{
    b->n = n;
    b->nrange = 0;
    if (n <= COLL_IVM_SMALL_N) {
        b->span = b->span_small;
        b->range = b->range_small;
        memset(b->span, 0, n * sizeof(*b->span));
        return OMPI_SUCCESS;
    }
    b->span = calloc(n, sizeof(*b->span));
    b->range = calloc(n, sizeof(*b->range));
    if (NULL == b->span || NULL == b->range) {
        free(b->span);
        free(b->range);
        b->span = NULL;
        b->range = NULL;
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    return OMPI_SUCCESS;
}

int coll_ivm_blocks_finish(coll_ivm_blocks_t *b, bool commit, void *rbuf, const int *rcounts,
                           int rcount, const int *displs, struct ompi_datatype_t *rdtype)
{
    int rc = OMPI_SUCCESS;
    for (int i = 0; i < b->n && NULL != b->span; i++) {
        if (NULL == b->span[i].tmp) {
            continue;
        }
        if (commit && OMPI_SUCCESS == rc) {
            int cnt = NULL != rcounts ? rcounts[i] : rcount;
            ptrdiff_t disp = NULL != displs ? displs[i] : (ptrdiff_t) i * rcount;
            rc = coll_ivm_span_commit(&b->span[i], coll_ivm_block(rbuf, rdtype, disp), (size_t) cnt,
                                      rdtype);
        } else {
            coll_ivm_span_free(&b->span[i]);
        }
    }
    if (b->span != b->span_small) {
        free(b->span);
        free(b->range);
    }
    b->span = NULL;
    b->range = NULL;
    return rc;
}

int coll_ivm_blocks_add(coll_ivm_blocks_t *b, int i, void *rbuf, int cnt, ptrdiff_t disp,
                        struct ompi_datatype_t *rdtype, int writer, uint64_t off)
{
    coll_ivm_span_t *s = &b->span[i];
    int rc = coll_ivm_span_out(coll_ivm_block(rbuf, rdtype, disp), (size_t) cnt, rdtype, s);
    if (OMPI_SUCCESS == rc && s->len > 0) {
        b->range[b->nrange++] = (coll_ivm_range_t){writer, off, s->len, s->ptr};
    }
    return rc;
}

int coll_ivm_span_mine(const void *sbuf, int scount, struct ompi_datatype_t *sdtype, void *rbuf,
                       int rcount, struct ompi_datatype_t *rdtype, int me, coll_ivm_span_t *s)
{
    if (MPI_IN_PLACE == sbuf) {
        return coll_ivm_span_in(coll_ivm_block(rbuf, rdtype, (ptrdiff_t) me * rcount),
                                (size_t) rcount, rdtype, s);
    }
    return coll_ivm_span_in(sbuf, (size_t) scount, sdtype, s);
}
