/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* coll/ivm component: parameters, MPI_T counters, and the attachment of
 * this process to its ivm device.
 *
 * Why the attachment happens in open: coll's init_query runs after the
 * modex fence of MPI_Init (mca_coll_base_find_available comes after the
 * fence: 4.1 ompi_mpi_init.c, 5.0 ompi/instance/instance.c), so data
 * published there never reaches the other processes.  btl/ivm publishes
 * the device layer's blob during BTL initialisation, but only when it is
 * selected (not with "--mca btl self,tcp", for instance).  The coll
 * framework is opened before the fence, so coll/ivm attaches and publishes
 * the same blob there; when btl/ivm already did, this only adds a
 * reference and re-puts an identical value. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/mca/base/mca_base_pvar.h"
#include "opal/mca/base/mca_base_var.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"
#include "ompi/runtime/mpiruntime.h"

#include "coll_ivm.h"

/* The defaults, in one place. */
#define COLL_IVM_DEFAULT_PRIORITY 40         /* above tuned (30) and 5.0's han (35) */
#define COLL_IVM_DEFAULT_CHUNK (64u * 1024u) /* see bench/README-coll.md */
#define COLL_IVM_DEFAULT_NBUF 2u
#define COLL_IVM_DEFAULT_DEGREE 4u
#define COLL_IVM_DEFAULT_BARRIER_ALL_MAX 8u
#define COLL_IVM_DEFAULT_REDUCE_SMALL 2048u
#define COLL_IVM_DEFAULT_HEAP_FRACTION 0.5
#define COLL_IVM_DEFAULT_TIMEOUT 0
#define COLL_IVM_DEFAULT_LIVENESS_MS 1000

static int ivm_register(void);
static int ivm_open(void);
static int ivm_close(void);

mca_coll_ivm_component_t mca_coll_ivm_component = {
    .super =
        {
            .collm_version =
                {
                    COLL_IVM_BASE_VERSION,
                    .mca_component_name = "ivm",
                    /* ivm's own version (common/ivm/VERSION), as ompi_info shows it */
                    MCA_BASE_MAKE_VERSION(component, IVM_MAJOR_VERSION, IVM_MINOR_VERSION,
                                          IVM_RELEASE_VERSION),
                    .mca_open_component = ivm_open,
                    .mca_close_component = ivm_close,
                    .mca_register_component_params = ivm_register,
                },
            .collm_data = {MCA_BASE_METADATA_PARAM_CHECKPOINT},
            .collm_init_query = mca_coll_ivm_init_query,
            .collm_comm_query = mca_coll_ivm_comm_query,
        },
    .output = -1,
};

static const char *const op_names[COLL_IVM_NOPS] = {
    [COLL_IVM_BARRIER] = "barrier",
    [COLL_IVM_BCAST] = "bcast",
    [COLL_IVM_REDUCE] = "reduce",
    [COLL_IVM_ALLREDUCE] = "allreduce",
    [COLL_IVM_ALLGATHER] = "allgather",
    [COLL_IVM_ALLGATHERV] = "allgatherv",
    [COLL_IVM_GATHER] = "gather",
    [COLL_IVM_GATHERV] = "gatherv",
    [COLL_IVM_SCATTER] = "scatter",
    [COLL_IVM_SCATTERV] = "scatterv",
    [COLL_IVM_ALLTOALL] = "alltoall",
    [COLL_IVM_ALLTOALLV] = "alltoallv",
    [COLL_IVM_REDUCE_SCATTER] = "reduce_scatter",
    [COLL_IVM_REDUCE_SCATTER_BLOCK] = "reduce_scatter_block",
};

/* as in the MPI standard, for messages */
static const char *const op_titles[COLL_IVM_NOPS] = {
    [COLL_IVM_BARRIER] = "MPI_Barrier",
    [COLL_IVM_BCAST] = "MPI_Bcast",
    [COLL_IVM_REDUCE] = "MPI_Reduce",
    [COLL_IVM_ALLREDUCE] = "MPI_Allreduce",
    [COLL_IVM_ALLGATHER] = "MPI_Allgather",
    [COLL_IVM_ALLGATHERV] = "MPI_Allgatherv",
    [COLL_IVM_GATHER] = "MPI_Gather",
    [COLL_IVM_GATHERV] = "MPI_Gatherv",
    [COLL_IVM_SCATTER] = "MPI_Scatter",
    [COLL_IVM_SCATTERV] = "MPI_Scatterv",
    [COLL_IVM_ALLTOALL] = "MPI_Alltoall",
    [COLL_IVM_ALLTOALLV] = "MPI_Alltoallv",
    [COLL_IVM_REDUCE_SCATTER] = "MPI_Reduce_scatter",
    [COLL_IVM_REDUCE_SCATTER_BLOCK] = "MPI_Reduce_scatter_block",
};

/* Defaults of coll_ivm_<op>_handover (NULL: no such parameter; the call
 * has no size every rank agrees on).  Measured with contrib/ivm-bench-coll,
 * see bench/README-coll.md. */
static const char *const handover_default[COLL_IVM_NOPS] = {
    /* Measured at 64 KiB, 256 KiB, 1, 4 and 16 MiB; each range starts and
     * ends halfway (geometrically) between a size where coll/ivm was
     * faster and one where tuned over btl/ivm was.  On 2 ranks tuned took
     * 0.7-0.95x coll/ivm's time in these ranges; on 4 ranks (2 VMs x 2 on
     * 2 CPUs) coll/ivm took 0.05-0.3x tuned's, hence ":2". */
    [COLL_IVM_BCAST] = "512K-:2",
    [COLL_IVM_REDUCE] = "128K-:2",
    [COLL_IVM_ALLGATHER] = "128K-:2",
    [COLL_IVM_ALLTOALL] = "128K-:2",
    [COLL_IVM_ALLREDUCE] = "128K-2M:2",
    [COLL_IVM_REDUCE_SCATTER] = "128K-512K:2",
    [COLL_IVM_REDUCE_SCATTER_BLOCK] = "128K-512K:2",
};

static const char *const handover_size_text[COLL_IVM_NOPS] = {
    [COLL_IVM_BCAST] = "the bytes broadcast",
    [COLL_IVM_REDUCE] = "the bytes of the vector",
    [COLL_IVM_ALLREDUCE] = "the bytes of the vector",
    [COLL_IVM_ALLGATHER] = "the bytes of each rank's block",
    [COLL_IVM_ALLTOALL] = "the bytes each rank sends to each rank",
    [COLL_IVM_REDUCE_SCATTER] = "the bytes each rank receives (their mean over the ranks)",
    [COLL_IVM_REDUCE_SCATTER_BLOCK] = "the bytes each rank receives",
};

static void reg(const char *name, const char *help, mca_base_var_type_t type, int level,
                void *storage)
{
    (void) mca_base_component_var_register(&mca_coll_ivm_component.super.collm_version, name, help,
                                           type, NULL, 0, MCA_BASE_VAR_FLAG_SETTABLE, level,
                                           MCA_BASE_VAR_SCOPE_ALL_EQ, storage);
}

static void reg_counter(const char *name, const char *desc, unsigned long long *storage,
                        int var_class)
{
    (void) mca_base_component_pvar_register(
        &mca_coll_ivm_component.super.collm_version, name, desc, OPAL_INFO_LVL_4, var_class,
        MCA_BASE_VAR_TYPE_UNSIGNED_LONG_LONG, NULL, MCA_BASE_VAR_BIND_NO_OBJECT,
        MCA_BASE_PVAR_FLAG_READONLY | MCA_BASE_PVAR_FLAG_CONTINUOUS, NULL, NULL, NULL, storage);
}

static void register_pvars(void)
{
    static coll_ivm_counters_t *storage = NULL;
    char name[64], desc[160];

    /* never freed, see coll_ivm_counters_t */
    if (NULL == storage) {
        storage = calloc(1, sizeof(*storage));
        if (NULL == storage) {
            static coll_ivm_counters_t fallback_storage;
            storage = &fallback_storage;
        }
    }
    mca_coll_ivm_component.counters = storage;
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        snprintf(name, sizeof(name), "%s_calls", op_names[i]);
        snprintf(desc, sizeof(desc),
                 "%s calls run by coll/ivm (in the region, or "
                 "hierarchically with the region inside each group)",
                 op_titles[i]);
        reg_counter(name, desc, &storage->calls[i], MCA_BASE_PVAR_CLASS_COUNTER);
        snprintf(name, sizeof(name), "%s_fallbacks", op_names[i]);
        snprintf(desc, sizeof(desc),
                 "%s calls on coll/ivm communicators handed to the next component", op_titles[i]);
        reg_counter(name, desc, &storage->fallback[i], MCA_BASE_PVAR_CLASS_COUNTER);
        snprintf(name, sizeof(name), "%s_handovers", op_names[i]);
        snprintf(desc, sizeof(desc),
                 "%s calls handed to the next component because it is faster at their size "
                 "(coll_ivm_%s_handover)",
                 op_titles[i], op_names[i]);
        reg_counter(name, desc, &storage->handover[i], MCA_BASE_PVAR_CLASS_COUNTER);
    }
    reg_counter("single_copy_calls",
                "Bcast, allgather, alltoall, reduce and allreduce steps (of a pipeline chunk or "
                "more) whose data the ranks copied or reduced straight out of the senders' "
                "buffers, which were in the ivm region (MPI_Alloc_mem with mpool_hints=ivm): one "
                "copy instead of two (a bcast is counted by its root, a reduce by its root, an "
                "allgather, alltoall or allreduce by every rank)",
                &storage->single_copy, MCA_BASE_PVAR_CLASS_COUNTER);
    reg_counter("comms_flat", "Communicators served flat (all ranks in one region)",
                &storage->comms_flat, MCA_BASE_PVAR_CLASS_COUNTER);
    reg_counter("comms_hierarchical",
                "Communicators served hierarchically (several regions or ranks without one)",
                &storage->comms_hier, MCA_BASE_PVAR_CLASS_COUNTER);
    reg_counter("comms_fallback", "Communicators that fell back to the next component at setup",
                &storage->comms_fallback, MCA_BASE_PVAR_CLASS_COUNTER);
    reg_counter("areas_attached", "Shared areas of communicators this process is attached to",
                &storage->areas_attached, MCA_BASE_PVAR_CLASS_LEVEL);
    reg_counter("heap_in_use",
                "Bytes in use in this job's heap of the ivm region, sampled at communicator "
                "setup and teardown and at every MPI_Barrier run by coll/ivm",
                &storage->heap_in_use, MCA_BASE_PVAR_CLASS_LEVEL);
}

/* coll_ivm_<op>_handover for the collectives whose size every rank knows
 * (coll_ivm_handover.c); the defaults are measured, see
 * bench/README-coll.md. */
static void register_handover(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    char name[64], help[400];
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        c->handover_spec[i] = NULL;
        if (NULL == handover_default[i]) {
            continue;
        }
        c->handover_spec[i] = (char *) handover_default[i];
        snprintf(name, sizeof(name), "%s_handover", op_names[i]);
        snprintf(help, sizeof(help),
                 "Byte ranges (A-B, B included, or A- for A and above; K, M, G suffixes; :N "
                 "after a range: only on communicators of up to N ranks; up to 4, "
                 "comma-separated; empty: none) in which %s calls go to the next component "
                 "(tuned) because it is faster there.  Size: %s",
                 op_titles[i], handover_size_text[i]);
        reg(name, help, MCA_BASE_VAR_TYPE_STRING, OPAL_INFO_LVL_5, &c->handover_spec[i]);
    }
}

static int ivm_register(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    char name[64], help[200];

    c->priority = COLL_IVM_DEFAULT_PRIORITY;
    c->verbose = 0;
    c->chunk_size = COLL_IVM_DEFAULT_CHUNK;
    c->nbuf = COLL_IVM_DEFAULT_NBUF;
    c->tree_degree = COLL_IVM_DEFAULT_DEGREE;
    c->barrier_all_max = COLL_IVM_DEFAULT_BARRIER_ALL_MAX;
    c->reduce_small = COLL_IVM_DEFAULT_REDUCE_SMALL;
    c->heap_fraction = COLL_IVM_DEFAULT_HEAP_FRACTION;
    c->timeout = COLL_IVM_DEFAULT_TIMEOUT;
    c->liveness_interval_ms = COLL_IVM_DEFAULT_LIVENESS_MS;

    reg("priority",
        "Priority of coll/ivm for the communicators it can serve (negative: never used)",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_6, &c->priority);
    reg("verbose",
        "Verbosity: 1 whether each communicator is served and why not, 5 setup details, "
        "10 every call",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_5, &c->verbose);
    reg("chunk_size",
        "Bytes per pipeline chunk (multiple of 64, 256 to 16777216); each member of a "
        "communicator holds 2 x nbuf chunks in the region",
        MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_5, &c->chunk_size);
    reg("nbuf", "Chunks in flight per member and channel (pipeline depth, 1 to 64)",
        MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_5, &c->nbuf);
    reg("tree_degree", "Fan-in degree of the barrier tree (2 to 64)",
        MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_6, &c->tree_degree);
    reg("barrier_all_max",
        "Largest group (ranks of a communicator in one region, all of it in one region) "
        "whose MPI_Barrier is one step in which every rank polls every other rank; larger "
        "groups use the fan-in tree (coll_ivm_tree_degree).  0: always the tree",
        MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_6, &c->barrier_all_max);
    reg("reduce_small",
        "Reductions up to this many bytes are computed by every member from all "
        "contributions in one step; larger ones are split in slices, one per member",
        MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_6, &c->reduce_small);
    reg("heap_fraction",
        "Share (0 to 1) of the job's partition of the region that coll/ivm may fill; a "
        "communicator whose area would exceed it uses the next component",
        MCA_BASE_VAR_TYPE_DOUBLE, OPAL_INFO_LVL_5, &c->heap_fraction);
    reg("timeout",
        "Seconds a collective may wait for another rank before failing (0: no limit of its "
        "own; waits fail anyway as soon as the awaited rank's process is gone, or has not "
        "renewed its lease for opal_common_ivm_lease seconds)",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_6, &c->timeout);
    reg("liveness_interval", "Milliseconds between liveness checks of a rank being waited for",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_9, &c->liveness_interval_ms);
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        c->enable[i] = true;
        snprintf(name, sizeof(name), "%s_enable", op_names[i]);
        snprintf(help, sizeof(help), "Run %s in coll/ivm (false: the next component)",
                 op_titles[i]);
        reg(name, help, MCA_BASE_VAR_TYPE_BOOL, OPAL_INFO_LVL_6, &c->enable[i]);
    }
    register_handover();

    mca_common_ivm_register(&c->super.collm_version);
    mca_common_ivm_register_pacing(&c->super.collm_version);
    register_pvars();
    return OMPI_SUCCESS;
}

static bool params_valid(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    struct coll_ivm_geom g;
    const char *bad = NULL;
    if (!coll_ivm_area_geometry(2, c->chunk_size, c->nbuf, &g) || c->chunk_size < 256) {
        bad = "coll_ivm_chunk_size must be a multiple of 64 between 256 and 16777216, and "
              "coll_ivm_nbuf between 1 and 64";
    } else if (c->tree_degree < 2 || c->tree_degree > 64) {
        bad = "coll_ivm_tree_degree must be between 2 and 64";
    } else if (!(c->heap_fraction > 0.0 && c->heap_fraction <= 1.0)) {
        bad = "coll_ivm_heap_fraction must be in (0, 1]";
    } else if (c->timeout < 0 || c->liveness_interval_ms < 1) {
        bad = "coll_ivm_timeout must be >= 0 and coll_ivm_liveness_interval >= 1";
    } else if (mca_common_ivm_params.sleep_time_us > 999999) {
        bad = "opal_common_ivm_sleep_time must be less than 1000000";
    } else {
        bad = coll_ivm_handover_parse();
    }
    if (NULL != bad) {
        opal_show_help("help-mpi-coll-ivm.txt", "bad-parameter", true, opal_process_info.nodename,
                       bad);
    }
    return NULL == bad;
}

static int ivm_open(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;

    OBJ_CONSTRUCT(&c->lock, opal_mutex_t);
    if (c->verbose > 0) {
        c->output = opal_output_open(NULL);
        opal_output_set_verbosity(c->output, c->verbose);
    }
    /* Only inside MPI_Init: ompi_info and MPI_T never attach to a device. */
    if (c->priority < 0 || OMPI_MPI_STATE_INIT_STARTED != ompi_mpi_state) {
        return OMPI_SUCCESS;
    }
    if (OPAL_SUCCESS == mca_common_ivm_init(false)) {
        c->attached = true;
    } else {
        mca_common_ivm_fini();
        COLL_IVM_VERBOSE(1, "coll:ivm: no usable ivm device in this process; it takes part "
                            "in ivm communicators as a group of its own");
    }
    /* published (empty without a device) and committed even when btl/ivm
     * did it before MPI_Init's fence: peers ask for it whatever they found */
    int rc = mca_common_ivm_modex_send();
    IVM_OMPI_MODEX_COMMIT();
    if (OPAL_SUCCESS != rc) {
        COLL_IVM_VERBOSE(1,
                         "coll:ivm: publishing the device blob failed (%d); other ranks "
                         "will not see this one as co-located",
                         rc);
    }
    return OMPI_SUCCESS;
}

static int ivm_close(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;

    mca_coll_ivm_peer_cache_free();
    if (c->attached) {
        mca_common_ivm_fini();
        c->attached = false;
    }
    OBJ_DESTRUCT(&c->lock);
    if (c->output >= 0) {
        opal_output_close(c->output);
        c->output = -1;
    }
    return OMPI_SUCCESS;
}

/* Succeeds even without a device: a process without one still has to run
 * the same algorithms as the others on communicators that coll/ivm serves
 * (as a group of one), or collectives would not match. */
int mca_coll_ivm_init_query(bool enable_progress_threads, bool enable_mpi_threads)
{
    (void) enable_progress_threads;
    (void) enable_mpi_threads;
    if (mca_coll_ivm_component.priority < 0 || !params_valid()) {
        return OMPI_ERR_NOT_AVAILABLE;
    }
    return OMPI_SUCCESS;
}
