/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* mpool/ivm: selection by hint, and the module the device layer provides. */

#include "opal_config.h"

#include <string.h>
#include <strings.h>

#include "opal/constants.h"
#include "opal/mca/base/mca_base_var.h"
#include "opal/mca/common/ivm/common_ivm.h"
#include "opal/mca/common/ivm/common_ivm_ompi_version.h"
#include "opal/mca/mpool/base/base.h"
#include "opal/util/argv.h"
#include "opal/util/output.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"

#include "mpool_ivm.h"

/* mpool/ivm answers only hints that name it; then it should win, as
 * mpool/hugepage does (100) for hints that name hugepage */
#define MPOOL_IVM_DEFAULT_PRIORITY 100

static int mpool_ivm_register(void);
static int mpool_ivm_close(void);
static int mpool_ivm_query(const char *hints, int *priority, mca_mpool_base_module_t **module);

mca_mpool_ivm_component_t mca_mpool_ivm_component = {
    .super =
        {
            .mpool_version =
                {
                    IVM_OMPI_MPOOL_BASE_VERSION,
                    .mca_component_name = "ivm",
                    /* ivm's own version (common/ivm/VERSION), as ompi_info shows it */
                    MCA_BASE_MAKE_VERSION(component, IVM_MAJOR_VERSION, IVM_MINOR_VERSION,
                                          IVM_RELEASE_VERSION),
                    .mca_close_component = mpool_ivm_close,
                    .mca_register_component_params = mpool_ivm_register,
                },
            .mpool_data = {MCA_BASE_METADATA_PARAM_NONE},
            .mpool_query = mpool_ivm_query,
        },
};

static int mpool_ivm_register(void)
{
    mca_mpool_ivm_component.priority = MPOOL_IVM_DEFAULT_PRIORITY;
    mca_common_ivm_register(&mca_mpool_ivm_component.super.mpool_version);
    (void) mca_base_component_var_register(
        &mca_mpool_ivm_component.super.mpool_version, "priority",
        "Priority of mpool/ivm when the allocation hints ask for it (\"ivm\" or "
        "\"mpool=ivm\", e.g. the MPI_Alloc_mem info key mpool_hints, or the site setting "
        "mpool_base_default_hints); without such a hint it is never used",
        MCA_BASE_VAR_TYPE_INT, NULL, 0, 0, OPAL_INFO_LVL_5, MCA_BASE_VAR_SCOPE_READONLY,
        &mca_mpool_ivm_component.priority);
    return OPAL_SUCCESS;
}

static int mpool_ivm_close(void)
{
    if (mca_mpool_ivm_component.attached) {
        mca_common_ivm_fini();
        mca_mpool_ivm_component.attached = false;
    }
    return OPAL_SUCCESS;
}

/* "ivm" or "mpool=ivm" among comma-separated hints. */
static bool hints_ask_for_ivm(const char *hints)
{
    char **list = opal_argv_split(hints, ',');
    bool found = false;
    for (int i = 0; NULL != list && NULL != list[i] && !found; i++) {
        const char *h = list[i];
        if (0 == strncasecmp(h, "mpool=", 6)) {
            h += 6;
        }
        found = (0 == strcasecmp(h, "ivm"));
    }
    opal_argv_free(list);
    return found;
}

static int mpool_ivm_query(const char *hints, int *priority, mca_mpool_base_module_t **module)
{
    if (NULL == hints || !hints_ask_for_ivm(hints)) {
        return OPAL_ERR_NOT_FOUND; /* never the default pool unless asked for */
    }
    if (!mca_mpool_ivm_component.attached) {
        /* first use: attach now (MPI_Init may not have done it yet); keep
         * the reference until the component closes */
        mca_mpool_ivm_component.attached = (OPAL_SUCCESS == mca_common_ivm_init(false));
    }
    if (!mca_mpool_ivm_component.attached || 0 == mca_common_ivm_device_count()) {
        if (!mca_mpool_ivm_component.warned) {
            opal_show_help("help-mpool-ivm.txt", "no-device", true, opal_process_info.nodename,
                           hints);
            mca_mpool_ivm_component.warned = true;
        }
        return OPAL_ERR_NOT_AVAILABLE;
    }
    *priority = mca_mpool_ivm_component.priority;
    *module = mca_common_ivm_mpool(0);
    return OPAL_SUCCESS;
}
