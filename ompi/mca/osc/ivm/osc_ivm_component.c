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

/* osc/ivm component: parameters, MPI_T counters, and this process's
 * reference on its ivm device.
 *
 * osc_init always succeeds, with or without a device: every rank must call
 * osc/ivm's query for every window, because the query is where the ranks
 * agree (collectively) whether osc/ivm takes the window.  A rank without a
 * device simply votes no.  The device blob that proves co-location is
 * published by btl/ivm or coll/ivm during MPI_Init; osc/ivm only reads
 * the peers' blobs. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/mca/base/mca_base_pvar.h"
#include "opal/mca/base/mca_base_var.h"
#include "opal/util/show_help.h"
#include "opal/util/proc.h"

#include "osc_ivm.h"

/* The defaults, in one place. */
#define OSC_IVM_DEFAULT_PRIORITY 110 /* above osc/sm (100) and osc/rdma (20) */
#define OSC_IVM_DEFAULT_LIVENESS_MS 200
#define OSC_IVM_DEFAULT_HEAP_FRACTION 0.5
#define OSC_IVM_DEFAULT_TIMEOUT 0 /* no limit of its own: liveness ends waits */

static int ivm_register(void);
static int ivm_open(void);
static int ivm_close(void);
static int ivm_init(bool enable_progress_threads, bool enable_mpi_threads);
static int ivm_finalize(void);

mca_osc_ivm_component_t mca_osc_ivm_component = {
    .super =
        {
            .osc_version =
                {
                    OSC_IVM_BASE_VERSION,
                    .mca_component_name = "ivm",
                    /* ivm's own version (common/ivm/VERSION), as ompi_info shows it */
                    MCA_BASE_MAKE_VERSION(component, IVM_MAJOR_VERSION, IVM_MINOR_VERSION,
                                          IVM_RELEASE_VERSION),
                    .mca_open_component = ivm_open,
                    .mca_close_component = ivm_close,
                    .mca_register_component_params = ivm_register,
                },
            .osc_data = {MCA_BASE_METADATA_PARAM_NONE},
            .osc_init = ivm_init,
            .osc_query = mca_osc_ivm_query,
            .osc_select = mca_osc_ivm_select,
            .osc_finalize = ivm_finalize,
        },
    .output = -1,
};

static const char *const op_names[OSC_IVM_NOPS] = {
    [OSC_IVM_PUT] = "put",          [OSC_IVM_GET] = "get",
    [OSC_IVM_ACC] = "accumulate",   [OSC_IVM_GET_ACC] = "get_accumulate",
    [OSC_IVM_FOP] = "fetch_and_op", [OSC_IVM_CAS] = "compare_and_swap",
};

static void reg(const char *name, const char *help, mca_base_var_type_t type, int level,
                void *storage)
{
    (void) mca_base_component_var_register(&mca_osc_ivm_component.super.osc_version, name, help,
                                           type, NULL, 0, MCA_BASE_VAR_FLAG_SETTABLE, level,
                                           MCA_BASE_VAR_SCOPE_ALL_EQ, storage);
}

static void reg_counter(const char *name, const char *desc, unsigned long long *storage)
{
    (void) mca_base_component_pvar_register(
        &mca_osc_ivm_component.super.osc_version, name, desc, OPAL_INFO_LVL_4,
        MCA_BASE_PVAR_CLASS_COUNTER, MCA_BASE_VAR_TYPE_UNSIGNED_LONG_LONG, NULL,
        MCA_BASE_VAR_BIND_NO_OBJECT, MCA_BASE_PVAR_FLAG_READONLY | MCA_BASE_PVAR_FLAG_CONTINUOUS,
        NULL, NULL, NULL, storage);
}

static void register_pvars(void)
{
    static osc_ivm_counters_t *storage = NULL;
    char name[64], desc[200];

    /* never freed: MPI_T may read it after the component is unloaded */
    if (NULL == storage) {
        storage = calloc(1, sizeof(*storage));
        if (NULL == storage) {
            static osc_ivm_counters_t fallback_storage;
            storage = &fallback_storage;
        }
    }
    mca_osc_ivm_component.counters = storage;
    for (int i = 0; i < OSC_IVM_NOPS; i++) {
        snprintf(name, sizeof(name), "%s_operations", op_names[i]);
        snprintf(desc, sizeof(desc),
                 "One-sided %s operations done by osc/ivm with loads, "
                 "stores and CPU atomics on the ivm region (request forms included)",
                 op_names[i]);
        reg_counter(name, desc, &storage->ops[i]);
        snprintf(name, sizeof(name), "%s_bytes", op_names[i]);
        snprintf(desc, sizeof(desc),
                 "Bytes of target memory accessed by osc/ivm's %s "
                 "operations",
                 op_names[i]);
        reg_counter(name, desc, &storage->bytes[i]);
    }
    reg_counter("windows", "Windows created by osc/ivm", &storage->windows);
    reg_counter("windows_declined", "Windows osc/ivm declined (osc_ivm_verbose says why)",
                &storage->declined);
    reg_counter("locks", "Passive-target locks taken by osc/ivm (lock_all counts one per target)",
                &storage->locks);
    reg_counter("sync_epochs", "Fences and post/start epochs run by osc/ivm", &storage->syncs);
}

static int ivm_register(void)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;

    c->priority = OSC_IVM_DEFAULT_PRIORITY;
    c->verbose = 0;
    c->liveness_interval_ms = OSC_IVM_DEFAULT_LIVENESS_MS;
    c->timeout = OSC_IVM_DEFAULT_TIMEOUT;
    c->heap_fraction = OSC_IVM_DEFAULT_HEAP_FRACTION;

    reg("priority",
        "Priority of osc/ivm for the windows it can serve (all ranks in one ivm region; "
        "MPI_Win_allocate, MPI_Win_allocate_shared, or MPI_Win_create on region memory); "
        "negative: never used",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_6, &c->priority);
    reg("verbose", "Verbosity: 1 whether each window is taken (with its area) and why not",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_5, &c->verbose);
    reg("liveness_interval",
        "Milliseconds between liveness checks of the window's ranks during a wait",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_9, &c->liveness_interval_ms);
    reg("timeout",
        "Seconds a wait may last before failing (0: no limit of its own; waits fail anyway "
        "as soon as a rank of the window is gone or has not renewed its lease for "
        "opal_common_ivm_lease seconds)",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_6, &c->timeout);
    reg("heap_fraction",
        "Share (0 to 1] of the job's partition of the region that may be in use once a window "
        "is placed there (everything in the job heap counts: btl/ivm's fragments, coll/ivm's "
        "areas, other windows); a window that would exceed it is declined with a message "
        "(grow the partition with opal_common_ivm_partition_size)",
        MCA_BASE_VAR_TYPE_DOUBLE, OPAL_INFO_LVL_5, &c->heap_fraction);

    mca_common_ivm_register(&c->super.osc_version);
    /* the waits' pacing is common/ivm's, shared with btl/ivm and coll/ivm
     * (no osc_ivm_ synonyms: osc/ivm never had names of its own released) */
    mca_common_ivm_register_pacing(NULL);
    register_pvars();
    return OMPI_SUCCESS;
}

static int ivm_open(void)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    if (c->verbose > 0) {
        c->output = opal_output_open(NULL);
        opal_output_set_verbosity(c->output, c->verbose);
    }
    return OMPI_SUCCESS;
}

static int ivm_close(void)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    if (c->output >= 0) {
        opal_output_close(c->output);
        c->output = -1;
    }
    return OMPI_SUCCESS;
}

static bool params_valid(void)
{
    const mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    const char *bad = NULL;
    if (!(c->heap_fraction > 0.0 && c->heap_fraction <= 1.0)) {
        bad = "osc_ivm_heap_fraction must be in (0, 1]";
    } else if (c->timeout < 0 || c->liveness_interval_ms < 1) {
        bad = "osc_ivm_timeout must be >= 0 and osc_ivm_liveness_interval >= 1";
    } else if (mca_common_ivm_params.sleep_time_us > 999999) {
        bad = "opal_common_ivm_sleep_time must be less than 1000000";
    }
    if (NULL != bad) {
        opal_show_help("help-mpi-osc-ivm.txt", "bad-parameter", true, opal_process_info.nodename,
                       bad);
    }
    return NULL == bad;
}

/* Succeeds whenever osc/ivm is enabled, so that every rank takes part in
 * the agreement of every window (see the file comment). */
static int ivm_init(bool enable_progress_threads, bool enable_mpi_threads)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    (void) enable_progress_threads;
    (void) enable_mpi_threads;

    c->attached = false;
    if (c->priority < 0) {
        return OMPI_ERR_NOT_AVAILABLE;
    }
    c->params_ok = params_valid();
    if (!c->params_ok) {
        return OMPI_SUCCESS; /* votes no in every window's agreement */
    }
    if (OPAL_SUCCESS == mca_common_ivm_init(false)) {
        c->attached = true;
    } else {
        mca_common_ivm_fini();
        OSC_IVM_VERBOSE(1, "osc:ivm: no usable ivm device in this process; its windows use "
                           "the other osc components");
    }
    return OMPI_SUCCESS;
}

static int ivm_finalize(void)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    mca_osc_ivm_pending_release();
    if (c->attached) {
        mca_common_ivm_fini();
        c->attached = false;
    }
    return OMPI_SUCCESS;
}
