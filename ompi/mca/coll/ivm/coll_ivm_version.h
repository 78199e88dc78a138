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
 * Every OMPI-level difference between the Open MPI series coll/ivm builds
 * against (4.1 and 5.0), in one place: the coll framework's interface
 * version, a communicator's id for messages, and the visibility macro of
 * the component's symbols.  The OPAL-level ones
 * (moved headers, PMIx names, the job token) are in
 * opal/mca/common/ivm/common_ivm_ompi_version.h.
 */

#ifndef MCA_COLL_IVM_VERSION_H
#define MCA_COLL_IVM_VERSION_H

#include "ompi_config.h"

#include "ompi/communicator/communicator.h"
#include "ompi/mca/coll/coll.h"

#if OMPI_MAJOR_VERSION >= 5
/* The selector accepts exactly one interface version and declines the
 * component otherwise: 2.4.0 in 5.0, 2.0.0 in 4.1.  The component struct's
 * members are the same. */
typedef mca_coll_base_component_2_4_0_t coll_ivm_base_component_t;
#define COLL_IVM_BASE_VERSION MCA_COLL_BASE_VERSION_2_4_0

/* The context id became a structure (an extended id agreed between the
 * processes); the local index is what Open MPI's own messages print. */
#define COLL_IVM_COMM_CID(comm) ((int) ompi_comm_get_local_cid(comm))

/* The component structure must stay visible in the DSO (Open MPI finds it
 * by name); 5.0 dropped the separate module macro for the library one. */
#define COLL_IVM_MODULE_DECLSPEC OMPI_DECLSPEC

#else /* Open MPI 4.1 */
typedef mca_coll_base_component_2_0_0_t coll_ivm_base_component_t;
#define COLL_IVM_BASE_VERSION MCA_COLL_BASE_VERSION_2_0_0

#define COLL_IVM_COMM_CID(comm) ((int) ompi_comm_get_cid(comm))
#define COLL_IVM_MODULE_DECLSPEC OMPI_MODULE_DECLSPEC
#endif

#endif /* MCA_COLL_IVM_VERSION_H */
