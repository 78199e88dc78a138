/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * mpool/ivm hands out memory of the ivm device's job partition: every
 * co-located peer can address it, so buffers from MPI_Alloc_mem with the
 * hint "ivm" let btl/ivm move data with a single copy.  It answers only
 * when asked for by name, so it never takes over MPI_Alloc_mem otherwise.
 */

#ifndef MCA_MPOOL_IVM_H
#define MCA_MPOOL_IVM_H

#include "opal_config.h"

#include "opal/mca/common/ivm/common_ivm_ompi_version.h"
#include "opal/mca/mpool/mpool.h"

BEGIN_C_DECLS

typedef struct mca_mpool_ivm_component_t {
    mca_mpool_base_component_t super;
    int priority;  /**< priority when selected by hint */
    bool attached; /**< holds a reference on the device layer */
    bool warned;   /**< told the user once that the device is unusable */
} mca_mpool_ivm_component_t;

IVM_OMPI_MODULE_DECLSPEC extern mca_mpool_ivm_component_t mca_mpool_ivm_component;

END_C_DECLS

#endif /* MCA_MPOOL_IVM_H */
