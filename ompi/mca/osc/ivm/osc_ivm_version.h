/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 *
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * Every OMPI-level difference between the Open MPI series osc/ivm builds
 * against (4.1 and 5.0), in one place.  The osc interface itself (component
 * 2.0.0, module 3.0.0) is the same in both; what differs is the visibility
 * macro of the component's symbols and how a communicator's id is printed.
 * The OPAL-level differences are in
 * opal/mca/common/ivm/common_ivm_ompi_version.h.
 */

#ifndef MCA_OSC_IVM_VERSION_H
#define MCA_OSC_IVM_VERSION_H

#include "ompi_config.h"

#include "ompi/communicator/communicator.h"
#include "ompi/mca/osc/osc.h"

typedef ompi_osc_base_component_2_0_0_t osc_ivm_base_component_t;
#define OSC_IVM_BASE_VERSION OMPI_OSC_BASE_VERSION_3_0_0

#if OMPI_MAJOR_VERSION >= 5
/* 5.0's window selection asks every osc component and takes the best. */
#define OSC_IVM_SM_BLOCKS_SHARED 0
/* 5.0 dropped the separate module macro for the library one; the
 * component structure must stay visible in the DSO (found by name). */
#define OSC_IVM_MODULE_DECLSPEC OMPI_DECLSPEC
/* The context id became a structure; the local index is what Open MPI's
 * own messages print. */
#define OSC_IVM_COMM_CID(comm) ((int) ompi_comm_get_local_cid(comm))
#else /* Open MPI 4.1 */
/* 4.1's ompi_osc_base_select returns MPI_ERR_RMA_SHARED as soon as one
 * component's query does for an MPI_Win_allocate_shared window, which
 * osc/sm's does when the ranks are not all on one node (in Open MPI's
 * view): osc/sm has to be excluded (--mca osc ^sm) for shared windows
 * across VMs. */
#define OSC_IVM_SM_BLOCKS_SHARED 1
#define OSC_IVM_MODULE_DECLSPEC OMPI_MODULE_DECLSPEC
#define OSC_IVM_COMM_CID(comm) ((int) ompi_comm_get_cid(comm))
#endif

#endif /* MCA_OSC_IVM_VERSION_H */
