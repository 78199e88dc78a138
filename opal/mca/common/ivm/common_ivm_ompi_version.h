/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/**
 * @file
 *
 * Every OPAL-level difference between the Open MPI series ivm builds
 * against (4.1 and 5.0), in one place: headers that moved, the PMIx scope
 * names of the modex, the mpool interface version, the visibility macro of
 * a component's symbols, a peer's host name, and the token that identifies
 * this process's job in every VM.  The rest of the ivm code uses the names
 * defined here and never tests a version itself; a new series should only
 * need a new branch below.  (btl/ivm's receive path is bridged in
 * btl_ivm_compat.h, coll/ivm's differences are in coll_ivm_version.h.)
 */

#ifndef MCA_COMMON_IVM_OMPI_VERSION_H
#define MCA_COMMON_IVM_OMPI_VERSION_H

#include "opal_config.h"

#include <stdlib.h>

#include "opal/util/proc.h"

#if OPAL_MAJOR_VERSION >= 5
/* 5.0 moved the thread primitives under the threads framework and dropped
 * its PMIx abstraction: the modex macros now call PMIx directly and take
 * PMIx's own scope constants. */
#    include "opal/mca/pmix/pmix-internal.h"
#    include "opal/mca/threads/mutex.h"

#    define IVM_OMPI_MODEX_SCOPE_GLOBAL PMIX_GLOBAL
/* the mpool interface is the same; only its version number went up */
#    define IVM_OMPI_MPOOL_BASE_VERSION MCA_MPOOL_BASE_VERSION_3_1_0
/* The component structure must stay visible in the DSO (Open MPI finds it
 * by name); 5.0 dropped the separate module macro for the library one. */
#    define IVM_OMPI_MODULE_DECLSPEC OPAL_DECLSPEC

#else /* Open MPI 4.1 */
#    include "opal/mca/pmix/pmix.h"
#    include "opal/threads/mutex.h"

#    define IVM_OMPI_MODEX_SCOPE_GLOBAL OPAL_PMIX_GLOBAL
#    define IVM_OMPI_MPOOL_BASE_VERSION MCA_MPOOL_BASE_VERSION_3_0_0
#    define IVM_OMPI_MODULE_DECLSPEC OPAL_MODULE_DECLSPEC
#endif

BEGIN_C_DECLS

/**
 * A peer's host name, for messages only.  4.1 caches it in the proc (and
 * fetches it on first use); 5.0 asks PMIx and may hand back a fresh copy or
 * PMIx's own string, so the caller must not free it either way: the few
 * bytes a 5.0 copy costs are spent only on verbose output.
 */
static inline const char *ivm_ompi_proc_hostname(const opal_proc_t *proc)
{
    const char *name = NULL != proc ? opal_get_proc_hostname(proc) : NULL;
    return NULL != name ? name : "?";
}

/**
 * A string that is the same in every process of this job, in every VM,
 * and differs between jobs that might share a region; the job key
 * (ivm_job_key_make) hashes it together with the job id.  It must be
 * available before the modex fence, when btl/ivm attaches.
 *
 * 4.1: the contact URI of mpirun (orterun), which every process inherits
 * and which holds mpirun's addresses and port, so no two live launchers
 * share it whichever VMs they run in.  Without it (a direct launch through
 * a PMIx server) the server's URI is the best there is.
 *
 * 5.0: PRRTE passes no launcher URI to the processes, and its
 * PMIX_SERVER_URI* variables name the *local* daemon, which differs in
 * each VM.  The PMIx namespace is the same in every process of the job;
 * PRRTE builds it from the launcher's tool name, host name and pid
 * ("prterun-<host>-<pid>@<n>"), so jobs started from different VMs differ
 * as long as the VMs have different host names or the launchers different
 * pids.
 */
static inline const char *ivm_ompi_job_token(void)
{
#if OPAL_MAJOR_VERSION >= 5
    return opal_process_info.myprocid.nspace;
#else
    const char *token = getenv("OMPI_MCA_orte_hnp_uri");
    if (NULL == token) {
        token = getenv("PMIX_SERVER_URI41");
    }
    return NULL != token ? token : "";
#endif
}

END_C_DECLS

#endif /* MCA_COMMON_IVM_OMPI_VERSION_H */
