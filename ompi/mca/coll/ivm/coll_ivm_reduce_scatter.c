/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* MPI_Reduce_scatter and MPI_Reduce_scatter_block (flat mode): every rank
 * reduces its own block of all contributions straight into its receive
 * buffer (coll_ivm_reduce_scatter_group).  Other modes, derived datatypes
 * and non-contiguous layouts go to the previous component. */

#include "ompi_config.h"

#include <stdlib.h>

#include "coll_ivm.h"

static int reduce_scatter_flat(mca_coll_ivm_module_t *m, const void *sbuf, void *rbuf,
                               const int *rcounts, int rcount, struct ompi_datatype_t *dtype,
                               struct ompi_op_t *op)
{
    const int n = m->size;
    size_t *cnt = malloc(2 * n * sizeof(size_t)), *displ = cnt + n, off = 0;
    if (NULL == cnt) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    for (int j = 0; j < n; j++) {
        cnt[j] = (size_t) (NULL != rcounts ? rcounts[j] : rcount);
        displ[j] = off;
        off += cnt[j];
    }
    int rc = coll_ivm_reduce_scatter_group(&m->grp, MPI_IN_PLACE == sbuf ? rbuf : sbuf, rbuf, cnt,
                                           displ, dtype, op);
    free(cnt);
    return rc;
}

/* Every rank sees the same counts, datatype and op: the same decision.
 * *mean: the bytes each rank receives, on average (the hand-over size). */
static bool servable(mca_coll_ivm_module_t *m, const int *rcounts, int rcount,
                     struct ompi_datatype_t *dtype, struct ompi_op_t *op, size_t *mean)
{
    size_t total = 0, bytes;
    if (COLL_IVM_MODE_FLAT != m->mode || !coll_ivm_reducible(dtype, op)) {
        return false;
    }
    for (int j = 0; j < m->size; j++) {
        int c = NULL != rcounts ? rcounts[j] : rcount;
        if (c < 0) {
            return false;
        }
        total += (size_t) c;
    }
    if (OMPI_SUCCESS != coll_ivm_bytes(total, dtype, &bytes)) {
        return false;
    }
    *mean = bytes / (size_t) m->size;
    return true;
}

int mca_coll_ivm_reduce_scatter(const void *sbuf, void *rbuf, const int *rcounts,
                                struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                                struct ompi_communicator_t *comm, mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    size_t mean;
    if (coll_ivm_use(m, COLL_IVM_REDUCE_SCATTER)) {
        if (!servable(m, rcounts, 0, dtype, op, &mean)) {
            coll_ivm_count_fallback(COLL_IVM_REDUCE_SCATTER);
        } else if (!coll_ivm_hand_over(COLL_IVM_REDUCE_SCATTER, mean, m->size)) {
            return reduce_scatter_flat(m, sbuf, rbuf, rcounts, 0, dtype, op);
        }
    }
    return m->prev.reduce_scatter(sbuf, rbuf, rcounts, dtype, op, comm,
                                  m->prev.reduce_scatter_module);
}

int mca_coll_ivm_reduce_scatter_block(const void *sbuf, void *rbuf, int rcount,
                                      struct ompi_datatype_t *dtype, struct ompi_op_t *op,
                                      struct ompi_communicator_t *comm,
                                      mca_coll_base_module_t *module)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;
    size_t mean;
    if (coll_ivm_use(m, COLL_IVM_REDUCE_SCATTER_BLOCK)) {
        if (!servable(m, NULL, rcount, dtype, op, &mean)) {
            coll_ivm_count_fallback(COLL_IVM_REDUCE_SCATTER_BLOCK);
        } else if (!coll_ivm_hand_over(COLL_IVM_REDUCE_SCATTER_BLOCK, mean, m->size)) {
            return reduce_scatter_flat(m, sbuf, rbuf, NULL, rcount, dtype, op);
        }
    }
    return m->prev.reduce_scatter_block(sbuf, rbuf, rcount, dtype, op, comm,
                                        m->prev.reduce_scatter_block_module);
}
