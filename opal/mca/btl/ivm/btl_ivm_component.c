/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* btl/ivm component: parameters, initialisation (attach, receive ring,
 * modex) and shutdown. */

#include "opal_config.h"

#include <string.h>

#include "opal/mca/base/mca_base_var.h"
#include "opal/util/argv.h"
#include "opal/util/output.h"
#include "opal/util/show_help.h"

#include "btl_ivm.h"
#include "btl_ivm_compat.h"
#include "btl_ivm_endpoint.h"
#include "btl_ivm_frag.h"

/* The defaults of btl/ivm's own parameters, set in btl_ivm_register (the
 * generic BTL parameters' defaults are in module_defaults). */
#define BTL_IVM_DEFAULT_FREE_LIST_NUM 8
#define BTL_IVM_DEFAULT_FREE_LIST_MAX 1024
#define BTL_IVM_DEFAULT_FREE_LIST_INC 64
#define BTL_IVM_DEFAULT_RING_SIZE 1024u
#define BTL_IVM_DEFAULT_FBOX_SIZE 8192u
#define BTL_IVM_DEFAULT_FBOX_THRESHOLD 16u
#define BTL_IVM_DEFAULT_FBOX_MAX 64u
#define BTL_IVM_DEFAULT_POLL_LIMIT 32u

static int btl_ivm_register(void);
static int btl_ivm_open(void);
static int btl_ivm_close(void);
static mca_btl_base_module_t **btl_ivm_init(int *num_btls, bool progress_threads, bool mpi_threads);

mca_btl_ivm_component_t mca_btl_ivm_component = {
    .super =
        {
            .btl_version =
                {
                    MCA_BTL_IVM_BASE_VERSION,
                    .mca_component_name = "ivm",
                    /* ivm's own version (common/ivm/VERSION), as ompi_info shows it */
                    MCA_BASE_MAKE_VERSION(component, IVM_MAJOR_VERSION, IVM_MINOR_VERSION,
                                          IVM_RELEASE_VERSION),
                    .mca_open_component = btl_ivm_open,
                    .mca_close_component = btl_ivm_close,
                    .mca_register_component_params = btl_ivm_register,
                },
            .btl_data = {.param_field = MCA_BASE_METADATA_PARAM_NONE},
            .btl_init = btl_ivm_init,
            .btl_progress = mca_btl_ivm_component_progress,
        },
    .output = -1,
};

static void reg_uint(const char *name, const char *help, int level, unsigned int *storage)
{
    (void) mca_base_component_var_register(
        &mca_btl_ivm_component.super.btl_version, name, help, MCA_BASE_VAR_TYPE_UNSIGNED_INT, NULL,
        0, MCA_BASE_VAR_FLAG_SETTABLE, level, MCA_BASE_VAR_SCOPE_LOCAL, storage);
}

static void reg_int(const char *name, const char *help, int level, int *storage)
{
    (void) mca_base_component_var_register(
        &mca_btl_ivm_component.super.btl_version, name, help, MCA_BASE_VAR_TYPE_INT, NULL, 0,
        MCA_BASE_VAR_FLAG_SETTABLE, level, MCA_BASE_VAR_SCOPE_LOCAL, storage);
}

/* The defaults of the generic BTL parameters, before the user's values. */
static void module_defaults(mca_btl_base_module_t *m)
{
    /* below the shared-memory BTL (vader in 4.1, sm in 5.0) and self (HIGH)
     * and above every network BTL, including a default-mode btl/ofi
     * (HIGH - 50): same VM -> vader/sm, same host -> ivm, elsewhere ->
     * network, by exclusivity alone; the constants are the same in both */
    m->btl_exclusivity = MCA_BTL_EXCLUSIVITY_HIGH - 2;
    m->btl_eager_limit = 4 * 1024;
    m->btl_rndv_eager_limit = 32 * 1024;
    m->btl_max_send_size = 128 * 1024; /* measured: 1-4 MiB streaming 1.4x of 32 KiB */
    m->btl_rdma_pipeline_send_length = 32 * 1024;
    m->btl_rdma_pipeline_frag_size = 32 * 1024;
    m->btl_min_rdma_pipeline_size = INT_MAX; /* registered buffers: one get, no pipeline */
    m->btl_latency = 1;                      /* µs, for bml's eager selection */
    m->btl_bandwidth = 20000;                /* Mb/s */
    m->btl_flags = MCA_BTL_FLAGS_SEND | MCA_BTL_FLAGS_SEND_INPLACE | MCA_BTL_FLAGS_PUT
                   | MCA_BTL_FLAGS_GET | MCA_BTL_FLAGS_ATOMIC_OPS | MCA_BTL_FLAGS_ATOMIC_FOPS;
    m->btl_atomic_flags =
        MCA_BTL_ATOMIC_SUPPORTS_ADD | MCA_BTL_ATOMIC_SUPPORTS_AND | MCA_BTL_ATOMIC_SUPPORTS_OR
        | MCA_BTL_ATOMIC_SUPPORTS_XOR | MCA_BTL_ATOMIC_SUPPORTS_LAND | MCA_BTL_ATOMIC_SUPPORTS_LOR
        | MCA_BTL_ATOMIC_SUPPORTS_LXOR | MCA_BTL_ATOMIC_SUPPORTS_SWAP | MCA_BTL_ATOMIC_SUPPORTS_MIN
        | MCA_BTL_ATOMIC_SUPPORTS_MAX | MCA_BTL_ATOMIC_SUPPORTS_32BIT
        | MCA_BTL_ATOMIC_SUPPORTS_CSWAP | MCA_BTL_ATOMIC_SUPPORTS_GLOB;
    m->btl_registration_handle_size = sizeof(struct mca_btl_base_registration_handle_t);
    /* only the remote buffer must lie in the region: local ones of any size
     * are used unregistered */
    m->btl_get_local_registration_threshold = SIZE_MAX;
    m->btl_put_local_registration_threshold = SIZE_MAX;
    m->btl_get_limit = SIZE_MAX;
    m->btl_put_limit = SIZE_MAX;
}

static int btl_ivm_register(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;

    c->free_list_num = BTL_IVM_DEFAULT_FREE_LIST_NUM;
    c->free_list_max = BTL_IVM_DEFAULT_FREE_LIST_MAX;
    c->free_list_inc = BTL_IVM_DEFAULT_FREE_LIST_INC;
    c->ring_size = BTL_IVM_DEFAULT_RING_SIZE;
    c->fbox_size = BTL_IVM_DEFAULT_FBOX_SIZE;
    c->fbox_threshold = BTL_IVM_DEFAULT_FBOX_THRESHOLD;
    c->fbox_max = BTL_IVM_DEFAULT_FBOX_MAX;
    c->poll_limit = BTL_IVM_DEFAULT_POLL_LIMIT;
    c->verbose = 0;
    reg_int("free_list_num",
            "Initial number of eager-size fragments (the list of "
            "max_send_size fragments starts with as many bytes, rounded down)",
            OPAL_INFO_LVL_5, &c->free_list_num);
    reg_int("free_list_max", "Maximum number of fragments of each size (-1: no limit)",
            OPAL_INFO_LVL_5, &c->free_list_max);
    reg_int("free_list_inc",
            "Eager-size fragments added to their list when it runs empty "
            "(the list of max_send_size fragments grows by as many bytes, at least 4 "
            "fragments)",
            OPAL_INFO_LVL_5, &c->free_list_inc);
    reg_uint("ring_size",
             "Cells of each process's receive ring (power of two); a sender whose receiver's "
             "ring is full queues its message locally until room appears",
             OPAL_INFO_LVL_5, &c->ring_size);
    reg_uint("fbox_size",
             "Bytes of a fast box (power of two, at least 1024); messages up to a "
             "quarter of it are copied straight in",
             OPAL_INFO_LVL_5, &c->fbox_size);
    reg_uint("fbox_threshold", "Messages sent to a peer before it gets a fast box", OPAL_INFO_LVL_5,
             &c->fbox_threshold);
    reg_uint("fbox_max", "Fast boxes a process creates at most (one per peer it talks to)",
             OPAL_INFO_LVL_5, &c->fbox_max);
    reg_uint("poll_limit",
             "Messages taken from one source (ring or fast box) per progress "
             "call, so that one busy peer cannot starve the others",
             OPAL_INFO_LVL_9, &c->poll_limit);
    reg_int("verbose",
            "Verbosity of btl/ivm: 1 why ivm is (not) used, 5 per-peer "
            "reachability and transport choice, 10 data path details",
            OPAL_INFO_LVL_5, &c->verbose);

    module_defaults(&mca_btl_ivm.super);
    mca_common_ivm_register(&c->super.btl_version);
    mca_common_ivm_register_pacing(&c->super.btl_version);
    mca_common_ivm_register_pvars(&c->super.btl_version);
    return mca_btl_base_param_register(&c->super.btl_version, &mca_btl_ivm.super);
}

static int btl_ivm_open(void)
{
    OBJ_CONSTRUCT(&mca_btl_ivm_component.pending_endpoints, opal_list_t);
    OBJ_CONSTRUCT(&mca_btl_ivm_component.pending_returns, opal_list_t);
    OBJ_CONSTRUCT(&mca_btl_ivm_component.lock, opal_mutex_t);
    return OPAL_SUCCESS;
}

static int btl_ivm_close(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    OPAL_LIST_DESTRUCT(&c->pending_returns);
    OBJ_DESTRUCT(&c->pending_endpoints);
    OBJ_DESTRUCT(&c->lock);
    free(c->frag_table);
    c->frag_table = NULL;
    c->frag_count = c->frag_table_size = 0;
    if (c->output >= 0) {
        opal_output_close(c->output);
        c->output = -1;
    }
    return OPAL_SUCCESS;
}

/* Did the user name ivm in the btl list (as opposed to getting it by
 * default)?  Then failures are worth a warning. */
static bool named_by_user(void)
{
    int idx = mca_base_var_find("opal", "btl", NULL, NULL);
    const char **value = NULL;
    bool named = false;
    if (idx < 0 || OPAL_SUCCESS != mca_base_var_get_value(idx, &value, NULL, NULL) || NULL == value
        || NULL == *value || '^' == (*value)[0]) {
        return false;
    }
    char **list = opal_argv_split(*value, ',');
    for (int i = 0; NULL != list && NULL != list[i]; i++) {
        named = named || 0 == strcmp(list[i], "ivm");
    }
    opal_argv_free(list);
    return named;
}

static bool params_valid(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    const char *bad = NULL;
    if (c->ring_size < 16 || c->ring_size > (1u << 20) || (c->ring_size & (c->ring_size - 1))) {
        bad = "btl_ivm_ring_size must be a power of two between 16 and 1048576";
    } else if (c->fbox_size < 1024 || c->fbox_size > (1u << 24)
               || (c->fbox_size & (c->fbox_size - 1))) {
        bad = "btl_ivm_fbox_size must be a power of two between 1024 and 16777216";
    } else if (c->poll_limit < 1) {
        bad = "btl_ivm_poll_limit must be at least 1";
    } else if (mca_common_ivm_params.sleep_time_us > 999999) {
        bad = "opal_common_ivm_sleep_time must be less than 1000000";
    } else if (mca_btl_ivm.super.btl_eager_limit > mca_btl_ivm.super.btl_max_send_size) {
        bad = "btl_ivm_eager_limit must not exceed btl_ivm_max_send_size";
    }
    if (NULL != bad) {
        opal_show_help("help-btl-ivm.txt", "bad-parameter", true, opal_process_info.nodename, bad);
    }
    return NULL == bad;
}

/* Our receive ring, in the job heap, announced in our slot for peers. */
static int create_ring(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    ivm_region_t *r = &c->dev->region;
    int rc = ivm_ring_create(&c->dev->heap, c->ring_size, c->dev->member.slot, &c->ring_off);
    if (IVM_OK == rc) {
        rc = ivm_ring_attach(r, c->ring_off, c->dev->member.part_off,
                             c->dev->member.part_off + c->dev->member.part_size, &c->ring);
    }
    if (IVM_OK == rc) {
        rc = ivm_slot_user_set(r, c->dev->member.slot, 0, c->ring_off);
    }
    if (IVM_OK != rc) {
        opal_show_help("help-btl-ivm.txt", "no-ring", true, opal_process_info.nodename, r->map.spec,
                       r->errmsg);
        return OPAL_ERROR;
    }
    return OPAL_SUCCESS;
}

/* No module: let go of the device, and still publish a blob (an empty one)
 * so that peers asking for ours get an answer instead of waiting for one
 * (Open MPI 5 fetches peers' blobs on demand). */
static mca_btl_base_module_t **step_aside(void)
{
    mca_common_ivm_fini();
    mca_btl_ivm_component.dev = NULL;
    (void) mca_common_ivm_modex_send();
    return NULL;
}

static mca_btl_base_module_t **btl_ivm_init(int *num_btls, bool progress_threads, bool mpi_threads)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_btl_base_module_t **btls;
    (void) progress_threads;
    (void) mpi_threads;

    *num_btls = 0;
    if (c->verbose > 0) {
        c->output = opal_output_open(NULL);
        opal_output_set_verbosity(c->output, c->verbose);
    }
    c->explicit_request = named_by_user();
    if (!params_valid()) {
        return step_aside();
    }
    if (OPAL_SUCCESS != mca_common_ivm_init(c->explicit_request)) {
        BTL_IVM_VERBOSE(1, "btl:ivm: no usable ivm device; not using ivm");
        return step_aside();
    }
    c->dev = mca_common_ivm_device_get(0);
    if (OPAL_SUCCESS != create_ring() || OPAL_SUCCESS != mca_common_ivm_modex_send()) {
        return step_aside();
    }
    btls = (mca_btl_base_module_t **) calloc(1, sizeof(*btls));
    if (NULL == btls) {
        return step_aside();
    }
    btls[0] = &mca_btl_ivm.super;
    *num_btls = 1;
    BTL_IVM_VERBOSE(1, "btl:ivm: using %s (slot %u, job partition %llu bytes)",
                    c->dev->region.map.spec, c->dev->member.slot,
                    (unsigned long long) c->dev->member.part_size);
    return btls;
}
