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
 * Every OPAL-level difference between the Open MPI series ivm builds
 * against (4.1 and 5.0), in one place: headers that moved, the PMIx scope
 * names of the modex, the mpool interface version, the visibility macro of
 * a component's symbols, a peer's host name, and the token and random word
 * that identify this process's job in every VM.  The rest of the ivm code uses the names
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
#include "opal/mca/pmix/pmix-internal.h"
#include "opal/mca/threads/mutex.h"

#define IVM_OMPI_MODEX_SCOPE_GLOBAL PMIX_GLOBAL
/* A peer's ivm blob.  PRRTE's modex fence does not hand every node's data
 * to every node (an "immediate" or "optional" get finds the local ranks'
 * and mpirun's node's only), so the get must be allowed to ask the peer's
 * node (direct modex); every rank publishes a blob, empty without a
 * device, so that answer comes.  The timeout bounds the wait for a rank
 * whose ivm components are all disabled and that publishes nothing. */
#define IVM_OMPI_MODEX_RECV_BLOB(r, key, proc, data, size) \
    ((r) = ivm_ompi_modex_recv_blob((key), (proc), (data), (size)))
#define IVM_OMPI_MODEX_GET_TIMEOUT_S 10
/* Data published after MPI_Init's fence reaches peers only once committed */
#define IVM_OMPI_MODEX_COMMIT() ((void) PMIx_Commit())
/* the mpool interface is the same; only its version number went up */
#define IVM_OMPI_MPOOL_BASE_VERSION MCA_MPOOL_BASE_VERSION_3_1_0
/* The component structure must stay visible in the DSO (Open MPI finds it
 * by name); 5.0 dropped the separate module macro for the library one. */
#define IVM_OMPI_MODULE_DECLSPEC OPAL_DECLSPEC

#else /* Open MPI 4.1 */
#include "opal/mca/pmix/pmix.h"
#include "opal/threads/mutex.h"

#define IVM_OMPI_MODEX_SCOPE_GLOBAL OPAL_PMIX_GLOBAL
/* ORTE's fence delivers every rank's data to every rank: a blob that is not
 * there after it was never published, and the receive says so at once */
#define IVM_OMPI_MODEX_RECV_BLOB(r, key, proc, data, size) \
    OPAL_MODEX_RECV_STRING(r, key, proc, data, size)
#define IVM_OMPI_MODEX_COMMIT() ((void) opal_pmix.commit())
#define IVM_OMPI_MPOOL_BASE_VERSION MCA_MPOOL_BASE_VERSION_3_0_0
#define IVM_OMPI_MODULE_DECLSPEC OPAL_MODULE_DECLSPEC
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

/**
 * The job's random word: 5.0's token above is made of a host name and a
 * pid, and both collide across VMs (cloned VMs, same boot sequence), so
 * there rank 0 draws a random word that every rank of the job adds to the
 * key.  Rank 0 publishes it (put) as soon as an ivm component starts and
 * commits it at once, so that the other ranks' gets, which ask rank 0's
 * node directly (before MPI_Init's fence), find it; a get waits at most
 * IVM_OMPI_MODEX_GET_TIMEOUT_S.  4.1's token holds mpirun's address and
 * port, which no two live launchers share: there is no word (put does
 * nothing, get says so).
 */
#define IVM_OMPI_JOB_NONCE_KEY "ivm.job.nonce"
#if OPAL_MAJOR_VERSION >= 5
static inline int ivm_ompi_job_nonce_put(uint64_t nonce)
{
    pmix_value_t v;
    PMIX_VALUE_LOAD(&v, &nonce, PMIX_UINT64);
    pmix_status_t rc = PMIx_Put(PMIX_GLOBAL, IVM_OMPI_JOB_NONCE_KEY, &v);
    PMIX_VALUE_DESTRUCT(&v);
    if (PMIX_SUCCESS == rc) {
        rc = PMIx_Commit();
    }
    return PMIX_SUCCESS == rc ? OPAL_SUCCESS : OPAL_ERROR;
}

static inline int ivm_ompi_job_nonce_get(uint64_t *nonce)
{
    pmix_proc_t rank0;
    pmix_value_t *kv = NULL;
    pmix_info_t info;
    int timeout = IVM_OMPI_MODEX_GET_TIMEOUT_S, rc = OPAL_ERR_NOT_FOUND;

    PMIX_LOAD_PROCID(&rank0, opal_process_info.myprocid.nspace, 0);
    PMIX_INFO_LOAD(&info, PMIX_TIMEOUT, &timeout, PMIX_INT);
    if (PMIX_SUCCESS == PMIx_Get(&rank0, IVM_OMPI_JOB_NONCE_KEY, &info, 1, &kv) && NULL != kv
        && PMIX_UINT64 == kv->type) {
        *nonce = kv->data.uint64;
        rc = OPAL_SUCCESS;
    }
    PMIX_INFO_DESTRUCT(&info);
    if (NULL != kv) {
        PMIX_VALUE_RELEASE(kv);
    }
    return rc;
}
#else
static inline int ivm_ompi_job_nonce_put(uint64_t nonce)
{
    (void) nonce;
    return OPAL_SUCCESS;
}

static inline int ivm_ompi_job_nonce_get(uint64_t *nonce)
{
    (void) nonce;
    return OPAL_ERR_NOT_SUPPORTED;
}
#endif

#if OPAL_MAJOR_VERSION >= 5
/** A peer's modex blob under @key, waiting at most
 * IVM_OMPI_MODEX_GET_TIMEOUT_S for it; OPAL_SUCCESS and a malloc'ed copy
 * in @data, else an error and NULL. */
static inline int ivm_ompi_modex_recv_blob(const char *key, const opal_process_name_t *proc,
                                           void **data, size_t *size)
{
    pmix_proc_t p;
    pmix_value_t *kv = NULL;
    pmix_info_t info;
    int timeout = IVM_OMPI_MODEX_GET_TIMEOUT_S;

    *data = NULL;
    *size = 0;
    OPAL_PMIX_CONVERT_NAME(&p, proc);
    PMIX_INFO_LOAD(&info, PMIX_TIMEOUT, &timeout, PMIX_INT);
    pmix_status_t rc = PMIx_Get(&p, key, &info, 1, &kv);
    PMIX_INFO_DESTRUCT(&info);
    if (PMIX_SUCCESS == rc && NULL != kv && PMIX_BYTE_OBJECT == kv->type) {
        *data = kv->data.bo.bytes;
        *size = kv->data.bo.size;
        kv->data.bo.bytes = NULL; /* ours now */
    }
    if (NULL != kv) {
        PMIX_VALUE_RELEASE(kv);
    }
    return NULL != *data ? OPAL_SUCCESS : OPAL_ERR_NOT_FOUND;
}
#endif

END_C_DECLS

#endif /* MCA_COMMON_IVM_OMPI_VERSION_H */
