/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
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
