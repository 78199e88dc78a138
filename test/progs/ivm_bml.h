/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The btl/ivm module and endpoint that ob1's BML holds for a peer, for the
 * test programs that call the BTL interface directly (ivm_btl_rdma,
 * ivm_hostile).  Needs "ompi_config.h" and <mpi.h> first. */

#ifndef IVM_BML_H
#define IVM_BML_H

#include <string.h>

#include "ompi/communicator/communicator.h"
#include "ompi/mca/bml/base/base.h"
#include "ompi/mca/bml/bml.h"
#include "ompi/proc/proc.h"
#include "opal/mca/btl/btl.h"

/* 0 and *btl, *ep set if btl/ivm is among world rank @peer's RDMA BTLs. */
static inline int ivm_bml_find(int peer, mca_btl_base_module_t **btl,
                               struct mca_btl_base_endpoint_t **ep)
{
    ompi_proc_t *proc = ompi_comm_peer_lookup(MPI_COMM_WORLD, peer);
    if (NULL == proc) {
        return -1;
    }
    /* adds the peer first if ob1 has not yet (procs are added lazily) */
    mca_bml_base_endpoint_t *bep = mca_bml_base_get_endpoint(proc);
    if (NULL == bep) {
        return -1;
    }
    for (size_t i = 0; i < mca_bml_base_btl_array_get_size(&bep->btl_rdma); i++) {
        mca_bml_base_btl_t *b = mca_bml_base_btl_array_get_index(&bep->btl_rdma, i);
        if (0 == strcmp(b->btl->btl_component->btl_version.mca_component_name, "ivm")) {
            *btl = b->btl;
            *ep = b->btl_endpoint;
            return 0;
        }
    }
    return -1;
}

#endif /* IVM_BML_H */
