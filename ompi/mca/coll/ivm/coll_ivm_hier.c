/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Helpers of the hierarchical mode: the group-major layout in which the
 * leaders exchange the blocks of their groups (group k's blocks, in member
 * order, at offset dsp[k]). */

#include "ompi_config.h"

#include <limits.h>
#include <stdlib.h>

#include "coll_ivm.h"

int coll_ivm_glayout(mca_coll_ivm_module_t *m, size_t blk, coll_ivm_glayout_t *l)
{
    const int G = m->ngroups;
    l->cnt = malloc(2 * (size_t) G * sizeof(int));
    l->dsp = NULL == l->cnt ? NULL : l->cnt + G;
    l->total = 0;
    if (NULL == l->cnt) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    if (blk > (size_t) INT_MAX / (size_t) m->size) {
        coll_ivm_glayout_free(l);
        return OMPI_ERR_NOT_SUPPORTED;
    }
    for (int k = 0; k < G; k++) {
        l->cnt[k] = (int) ((size_t) m->group_size[k] * blk);
        l->dsp[k] = (int) l->total;
        l->total += (size_t) l->cnt[k];
    }
    return OMPI_SUCCESS;
}

void coll_ivm_glayout_free(coll_ivm_glayout_t *l)
{
    free(l->cnt);
    l->cnt = l->dsp = NULL;
}

int coll_ivm_hier_buffers(mca_coll_ivm_module_t *m, size_t blk, int root, coll_ivm_glayout_t *l,
                          uint8_t **vec, uint8_t **part)
{
    const int me = ompi_comm_rank(m->comm), rg = m->group_of[root];
    const bool leader = 0 == m->grp.me, root_group = m->my_group == rg;
    int rc = coll_ivm_glayout(m, blk, l);

    *vec = *part = NULL;
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    /* the root's group works straight in the whole vector */
    if (root_group && (leader || me == root)) {
        *vec = malloc(l->total);
        *part = NULL == *vec ? NULL : *vec + l->dsp[rg];
    } else if (leader) {
        *part = malloc((size_t) m->grp.n * blk);
    }
    if ((root_group && (leader || me == root) && NULL == *vec) || (leader && NULL == *part)) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    return OMPI_SUCCESS;
}

void coll_ivm_hier_buffers_free(coll_ivm_glayout_t *l, uint8_t *vec, uint8_t *part)
{
    free(NULL != vec ? vec : part); /* part lies inside vec when there is one */
    coll_ivm_glayout_free(l);
}
