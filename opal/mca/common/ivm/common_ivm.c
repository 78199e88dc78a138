/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Open MPI glue of the device layer: parameters, show_help, attachment of
 * this process to its devices, and the modex-based co-location test. */

#include "opal_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/constants.h"
#include "opal/mca/base/mca_base_pvar.h"
#include "opal/mca/base/mca_base_var.h"
#include "opal/util/argv.h"
#include "opal/util/output.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"

#include "common_ivm.h"
#include "common_ivm_ompi_version.h"

#define HELP_FILE "help-mpi-common-ivm.txt"

mca_common_ivm_params_t mca_common_ivm_params = {
    .device = NULL,
    .partition_size = 0,
    .lock_timeout_ms = 5000,
    .format_timeout_ms = 10000,
    .lease_s = 30,
    .lease_period_ms = 1000,
    .auto_format = true,
    .uncached_threshold = IVM_UNCACHED_THRESHOLD,
    .job_key = NULL,
    .spin_time_us = 50,
    .sleep_time_us = 1,
    .verbose = 0,
    .output = -1,
};

mca_common_ivm_counters_t mca_common_ivm_counters;

static int refcount = 0;
static int init_status = OPAL_ERR_NOT_INITIALIZED;
static int ndevices = 0;
static mca_common_ivm_device_t devices[IVM_MAX_DEVICES];
static int device_var_index = -1;

static int reg(const char *name, const char *help, mca_base_var_type_t type, int level,
               void *storage)
{
    return mca_base_var_register("opal", "opal_common", "ivm", name, help, type, NULL, 0,
                                 MCA_BASE_VAR_FLAG_SETTABLE, level, MCA_BASE_VAR_SCOPE_READONLY,
                                 storage);
}

void mca_common_ivm_register(const mca_base_component_t *component)
{
    static char *device_storage = NULL;
    static char *key_storage = NULL;
    int idx[12], n = 0;

    /* Re-registering is harmless; the storage must outlive any component
     * that ompi_info unloads, hence statics in this (never unloaded)
     * library. */
    if (NULL == device_storage) {
        device_storage = strdup("");
        key_storage = strdup("");
#ifdef MCA_COMMON_IVM_HELPDIR
        /* standalone installs outside Open MPI's prefix keep help files
         * here; register it before any component can show a message */
        opal_show_help_add_dir(MCA_COMMON_IVM_HELPDIR);
#endif
    }
    mca_common_ivm_params.device = device_storage;
    mca_common_ivm_params.job_key = key_storage;
    idx[n++] = device_var_index =
        reg("device",
            "ivm device(s) to use, comma separated: a host file path, a PCI address "
            "(0000:00:04.0), a sysfs resource2 path or /dev/uioN.  Empty: every ivshmem PCI device "
            "(1af4:1110), else " IVM_DEFAULT_DEVICE_PATH " (where contrib/ivm-vmsim puts it)",
            MCA_BASE_VAR_TYPE_STRING, OPAL_INFO_LVL_3, &mca_common_ivm_params.device);
    idx[n++] =
        reg("partition_size",
            "Bytes of the region reserved for one MPI job (per device), taken by the job's first "
            "process; rounded up to 64 KiB.  0: a quarter of the region's heap, between 4 MiB "
            "and 256 MiB, so that several jobs fit",
            MCA_BASE_VAR_TYPE_SIZE_T, OPAL_INFO_LVL_5, &mca_common_ivm_params.partition_size);
    idx[n++] = reg("lock_timeout", "Milliseconds to wait for the region lock before giving up",
                   MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_9, &mca_common_ivm_params.lock_timeout_ms);
    idx[n++] = reg(
        "format_timeout", "Milliseconds to wait for another process that is formatting the region",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_9, &mca_common_ivm_params.format_timeout_ms);
    idx[n++] =
        reg("lease",
            "Seconds after which a process that stopped renewing its lease counts as dead: waits "
            "for it end with an error, and its job's space can be reclaimed from any VM.  Every "
            "process renews its lease from a thread of its own, also while it computes outside "
            "MPI.  0: no lease expires (processes in other VMs are then never proven dead)",
            MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_5, &mca_common_ivm_params.lease_s);
    idx[n++] = reg("lease_period", "Milliseconds between two renewals of a process's lease",
                   MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_9,
                   &mca_common_ivm_params.lease_period_ms);
    idx[n++] =
        reg("auto_format",
            "Format a zeroed device when attaching to it (otherwise only 'ivmctl format' does)",
            MCA_BASE_VAR_TYPE_BOOL, OPAL_INFO_LVL_5, &mca_common_ivm_params.auto_format);
    idx[n++] =
        reg("uncached_threshold",
            "Warn when reading the device is this many times slower than reading ordinary memory "
            "(an uncached mapping); 0 disables the check",
            MCA_BASE_VAR_TYPE_DOUBLE, OPAL_INFO_LVL_9, &mca_common_ivm_params.uncached_threshold);
    idx[n++] =
        reg("job_key",
            "Override the string that identifies this job in the region (default: derived from "
            "the job id and, with Open MPI 4.1, the launcher's contact address or, with 5.0, "
            "the PMIx namespace and a random word drawn by rank 0: the same in every VM of a "
            "job)",
            MCA_BASE_VAR_TYPE_STRING, OPAL_INFO_LVL_9, &mca_common_ivm_params.job_key);
    /* no synonym for this one: components have their own <fw>_ivm_verbose */
    reg("verbose", "Verbosity of the ivm device layer (0: quiet, 10: attach details)",
        MCA_BASE_VAR_TYPE_INT, OPAL_INFO_LVL_5, &mca_common_ivm_params.verbose);
    /* also as <framework>_ivm_<name>, so that ompi_info --param <fw> ivm
     * documents them (ompi_info lists no common libraries) */
    for (int i = 0; NULL != component && i < n; i++) {
        const mca_base_var_t *var;
        if (idx[i] >= 0 && OPAL_SUCCESS == mca_base_var_get(idx[i], &var)) {
            mca_base_var_register_synonym(idx[i], component->mca_project_name,
                                          component->mca_type_name, component->mca_component_name,
                                          var->mbv_variable_name, 0);
        }
    }
}

void mca_common_ivm_register_pacing(const mca_base_component_t *component)
{
    int idx[2];

    idx[0] =
        reg("spin_time",
            "Microseconds a wait of btl/ivm, coll/ivm or osc/ivm for a process in another VM "
            "(an RMA reply, room in a full ring, a collective step, a window's lock or epoch) "
            "polls before it sleeps between polls; sleeping lets the peer run when ranks outnumber "
            "CPUs, where sched_yield "
            "(mpi_yield_when_idle) does not hand the CPU to another VM's processes (0: "
            "btl/ivm never sleeps, coll/ivm sleeps from the first poll on)",
            MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_6, &mca_common_ivm_params.spin_time_us);
    idx[1] =
        reg("sleep_time",
            "Microseconds such a wait sleeps between polls (less than 1000000; the kernel's timer "
            "slack, usually 50 us, comes on top)",
            MCA_BASE_VAR_TYPE_UNSIGNED_INT, OPAL_INFO_LVL_9, &mca_common_ivm_params.sleep_time_us);
    /* btl/ivm and coll/ivm each had their own pair before; those names keep
     * working (mca-params files), with a warning that names this one */
    for (int i = 0; NULL != component && i < 2; i++) {
        const mca_base_var_t *var;
        if (idx[i] >= 0 && OPAL_SUCCESS == mca_base_var_get(idx[i], &var)) {
            mca_base_var_register_synonym(idx[i], component->mca_project_name,
                                          component->mca_type_name, component->mca_component_name,
                                          var->mbv_variable_name, MCA_BASE_VAR_SYN_FLAG_DEPRECATED);
        }
    }
}

void mca_common_ivm_register_pvars(const mca_base_component_t *component)
{
    static const struct {
        const char *name, *desc;
        unsigned long long *ctx;
    } vars[] = {
        {"fbox_messages", "Messages sent inline in fast boxes", &mca_common_ivm_counters.fbox_msgs},
        {"fbox_bytes", "Bytes sent inline in fast boxes", &mca_common_ivm_counters.fbox_bytes},
        {"ring_messages", "Fragments sent through receive rings",
         &mca_common_ivm_counters.ring_msgs},
        {"ring_bytes", "Bytes sent in fragments through receive rings",
         &mca_common_ivm_counters.ring_bytes},
        {"single_copy_operations", "Single-copy put/get operations on the region",
         &mca_common_ivm_counters.rdma_ops},
        {"single_copy_bytes", "Bytes moved by single-copy put/get",
         &mca_common_ivm_counters.rdma_bytes},
        {"atomic_operations", "Atomic operations executed on the region",
         &mca_common_ivm_counters.atomic_ops},
        {"emulated_operations",
         "RMA operations (put, get, atomics) on memory outside the region, carried out by the "
         "target process on request",
         &mca_common_ivm_counters.emulated_ops},
    };
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        (void) mca_base_component_pvar_register(
            component, vars[i].name, vars[i].desc, OPAL_INFO_LVL_4, MCA_BASE_PVAR_CLASS_COUNTER,
            MCA_BASE_VAR_TYPE_UNSIGNED_LONG_LONG, NULL, MCA_BASE_VAR_BIND_NO_OBJECT,
            MCA_BASE_PVAR_FLAG_READONLY | MCA_BASE_PVAR_FLAG_CONTINUOUS, NULL, NULL, NULL,
            vars[i].ctx);
    }
}

static void verbose(int level, const char *fmt, const char *a, const char *b)
{
    if (mca_common_ivm_params.output >= 0) {
        opal_output_verbose(level, mca_common_ivm_params.output, fmt, a, b);
    }
}

/* Tell the user (explicit request) or the verbose log (auto-probe). */
static void report(bool explicit_request, const char *spec, int status, const char *why)
{
    if (explicit_request) {
        opal_show_help(HELP_FILE, IVM_ERR_NOT_FOUND == status ? "device-not-found" : "device-error",
                       true, opal_process_info.nodename, spec, ivm_strerror(status), why);
    } else {
        verbose(1, "common:ivm: not using %s: %s", spec, why);
    }
}

/* Rank 0 draws the job's random word and publishes it before any rank
 * needs it (ivm_ompi_job_nonce_put says where that matters). */
static void job_nonce_publish(void)
{
    uint64_t nonce;
    if (0 != OPAL_PROC_MY_NAME.vpid || '\0' != mca_common_ivm_params.job_key[0]) {
        return;
    }
    if (IVM_OK != ivm_random_bytes(&nonce, sizeof(nonce))
        || OPAL_SUCCESS != ivm_ompi_job_nonce_put(nonce)) {
        verbose(1, "common:ivm: job %s: publishing rank 0's random word failed: %s",
                opal_jobid_print(OPAL_PROC_MY_NAME.jobid),
                "the other ranks key the job by the launcher's token alone");
    }
}

static void job_key(uint8_t key[IVM_ID_LEN])
{
    const char *jobid = opal_jobid_print(OPAL_PROC_MY_NAME.jobid);
    char token[512];
    uint64_t nonce;
    int rc;

    if ('\0' != mca_common_ivm_params.job_key[0]) {
        ivm_job_key_make(key, mca_common_ivm_params.job_key, "");
        return;
    }
    /* jobids alone collide across VMs (launchers in different VMs can hash
     * to the same one): the key also hashes a string that only this job's
     * processes have, in every VM (see ivm_ompi_job_token), and rank 0's
     * random word where that string can collide too */
    rc = ivm_ompi_job_nonce_get(&nonce);
    if (OPAL_SUCCESS == rc) {
        snprintf(token, sizeof(token), "%s\n%016llx", ivm_ompi_job_token(),
                 (unsigned long long) nonce);
        verbose(5, "common:ivm: job key: job %s, launcher token %s and rank 0's random word", jobid,
                ivm_ompi_job_token());
    } else {
        if (OPAL_ERR_NOT_SUPPORTED != rc) {
            verbose(1,
                    "common:ivm: job %s: rank 0's random word did not come: the job key "
                    "is the launcher's token %s alone",
                    jobid, ivm_ompi_job_token());
        }
        snprintf(token, sizeof(token), "%s", ivm_ompi_job_token());
    }
    ivm_job_key_make(key, jobid, token);
}

static void *mpool_alloc(mca_mpool_base_module_t *mpool, size_t size, size_t align, uint32_t flags)
{
    mca_common_ivm_device_t *d =
        (mca_common_ivm_device_t *) ((char *) mpool - offsetof(mca_common_ivm_device_t, mpool));
    uint64_t off;
    (void) flags;
    if (IVM_OK != ivm_heap_alloc(&d->heap, size, align < 8 ? 8 : align, &off)) {
        verbose(5, "common:ivm: %s%s", "job heap allocation failed: ", d->region.errmsg);
        return NULL;
    }
    return d->region.map.base + off;
}

static void mpool_free(mca_mpool_base_module_t *mpool, void *addr)
{
    mca_common_ivm_device_t *d =
        (mca_common_ivm_device_t *) ((char *) mpool - offsetof(mca_common_ivm_device_t, mpool));
    uint64_t off = (uint64_t) ((uint8_t *) addr - d->region.map.base);
    if (IVM_OK != ivm_heap_free(&d->heap, off)) {
        verbose(1, "common:ivm: %s%s", "freeing job heap memory failed: ", d->region.errmsg);
    }
}

static void *mpool_base(mca_mpool_base_module_t *mpool)
{
    mca_common_ivm_device_t *d =
        (mca_common_ivm_device_t *) ((char *) mpool - offsetof(mca_common_ivm_device_t, mpool));
    return d->region.map.base + d->member.part_off;
}

static void init_mpool(mca_common_ivm_device_t *dev)
{
    memset(&dev->mpool, 0, sizeof(dev->mpool));
    dev->mpool.mpool_base = mpool_base;
    dev->mpool.mpool_alloc = mpool_alloc;
    dev->mpool.mpool_free = mpool_free;
    dev->mpool.mpool_allocation_unit = 64;
    dev->mpool.mpool_name = "ivm";
}

static uint64_t auto_partition_size(const ivm_region_t *r)
{
    uint64_t size = r->layout.heap_size / 4;
    uint64_t lo = 4u << 20, hi = 256u << 20;
    size = size < lo ? lo : (size > hi ? hi : size);
    return size > r->layout.heap_size ? r->layout.heap_size : size;
}

static int attach_one(const char *spec, bool explicit_request, mca_common_ivm_device_t *dev)
{
    ivm_attach_opts_t ao = {(unsigned) mca_common_ivm_params.format_timeout_ms,
                            mca_common_ivm_params.auto_format, 0, 0};
    ivm_join_opts_t jo = {.label = opal_jobid_print(OPAL_PROC_MY_NAME.jobid),
                          .host = opal_process_info.nodename,
                          .rank = OPAL_PROC_MY_NAME.vpid,
                          .part_size = mca_common_ivm_params.partition_size,
                          .lock_timeout_ms = (unsigned) mca_common_ivm_params.lock_timeout_ms};
    ivm_region_t *r = &dev->region;

    int rc = ivm_region_open(r, spec, false);
    r->lease_ms = mca_common_ivm_params.lease_s * 1000u;
    if (IVM_OK == rc) {
        rc = ivm_region_attach(r, &ao);
    }
    if (IVM_OK == rc && mca_common_ivm_params.uncached_threshold > 0) {
        ivm_region_probe_uncached(r, mca_common_ivm_params.uncached_threshold);
        if (r->uncached) {
            char ratio[32];
            snprintf(ratio, sizeof(ratio), "%.0f", r->uncached_ratio);
            opal_show_help(HELP_FILE, "uncached", true, opal_process_info.nodename, r->map.spec,
                           ratio);
        }
    }
    if (IVM_OK == rc) {
        job_key(jo.key);
        if (0 == jo.part_size) {
            jo.part_size = auto_partition_size(r);
        }
        rc = ivm_job_join(r, &jo, &dev->member);
    }
    if (IVM_OK == rc) {
        rc = ivm_lease_keeper_start(&dev->lease, r, dev->member.slot, dev->member.slot_gen,
                                    mca_common_ivm_params.lease_period_ms);
        if (IVM_OK != rc) {
            ivm_job_leave(r, &dev->member, jo.lock_timeout_ms);
        }
    }
    if (IVM_OK == rc) {
        rc = ivm_heap_open(&dev->heap, r, dev->member.part_off, dev->member.part_size,
                           jo.lock_timeout_ms);
        if (IVM_OK != rc) {
            ivm_lease_keeper_stop(&dev->lease);
            ivm_job_leave(r, &dev->member, jo.lock_timeout_ms);
        }
    }
    if (IVM_OK != rc) {
        report(explicit_request, spec, rc, r->errmsg);
        ivm_region_close(r);
        return OPAL_ERR_NOT_AVAILABLE;
    }
    init_mpool(dev);
    if (mca_common_ivm_params.output >= 0) {
        char id[2 * IVM_ID_LEN + 1];
        ivm_hex(r->region_id, IVM_ID_LEN, id);
        opal_output_verbose(5, mca_common_ivm_params.output,
                            "common:ivm: attached %s (%s), region %s, job %u%s, slot %u, "
                            "partition %llu bytes at %llu",
                            r->map.spec, ivm_mapping_kind(&r->map), id, dev->member.job,
                            dev->member.created_job ? " (created)" : "", dev->member.slot,
                            (unsigned long long) dev->member.part_size,
                            (unsigned long long) dev->member.part_off);
    }
    return OPAL_SUCCESS;
}

static int device_specs(bool explicit_request, char specs[][IVM_SPEC_LEN], int *count)
{
    *count = 0;
    if ('\0' != mca_common_ivm_params.device[0]) {
        char **list = opal_argv_split(mca_common_ivm_params.device, ',');
        for (int i = 0; NULL != list && NULL != list[i] && *count < IVM_MAX_DEVICES; i++) {
            snprintf(specs[(*count)++], IVM_SPEC_LEN, "%s", list[i]);
        }
        opal_argv_free(list);
        return OPAL_SUCCESS;
    }
    if (IVM_OK != ivm_device_discover(specs, IVM_MAX_DEVICES, count)) {
        report(explicit_request, "(auto)", IVM_ERR_NOT_FOUND,
               "no ivshmem PCI device (1af4:1110) and no " IVM_DEFAULT_DEVICE_PATH);
        return OPAL_ERR_NOT_AVAILABLE;
    }
    return OPAL_SUCCESS;
}

int mca_common_ivm_init(bool explicit_request)
{
    char specs[IVM_MAX_DEVICES][IVM_SPEC_LEN];
    int count;

    if (refcount++ > 0) {
        return init_status;
    }
    if (mca_common_ivm_params.verbose > 0) {
        mca_common_ivm_params.output = opal_output_open(NULL);
        opal_output_set_verbosity(mca_common_ivm_params.output, mca_common_ivm_params.verbose);
    }
    job_nonce_publish();
    init_status = device_specs(explicit_request, specs, &count);
    for (int i = 0; OPAL_SUCCESS == init_status && i < count; i++) {
        if (OPAL_SUCCESS == attach_one(specs[i], explicit_request, &devices[ndevices])) {
            ndevices++;
        }
    }
    if (OPAL_SUCCESS == init_status && 0 == ndevices) {
        init_status = OPAL_ERR_NOT_AVAILABLE;
    }
    return init_status;
}

void mca_common_ivm_fini(void)
{
    if (refcount <= 0 || --refcount > 0) {
        return;
    }
    for (int i = 0; i < ndevices; i++) {
        ivm_region_t *r = &devices[i].region;
        ivm_lease_keeper_stop(&devices[i].lease);
        if (IVM_OK
            != ivm_job_leave(r, &devices[i].member,
                             (unsigned) mca_common_ivm_params.lock_timeout_ms)) {
            verbose(1, "common:ivm: leaving %s: %s", r->map.spec, r->errmsg);
        }
        ivm_region_close(r);
    }
    ndevices = 0;
    init_status = OPAL_ERR_NOT_INITIALIZED;
    if (mca_common_ivm_params.output >= 0) {
        opal_output_close(mca_common_ivm_params.output);
        mca_common_ivm_params.output = -1;
    }
}

int mca_common_ivm_device_count(void)
{
    return ndevices;
}

mca_common_ivm_device_t *mca_common_ivm_device_get(int index)
{
    return (index >= 0 && index < ndevices) ? &devices[index] : NULL;
}

mca_mpool_base_module_t *mca_common_ivm_mpool(int device)
{
    return (device >= 0 && device < ndevices) ? &devices[device].mpool : NULL;
}

int mca_common_ivm_find(const void *addr, size_t len, int *device, uint64_t *off)
{
    for (int d = 0; d < ndevices; d++) {
        const uint8_t *lo = devices[d].region.map.base + devices[d].member.part_off;
        const uint8_t *p = (const uint8_t *) addr;
        if (p >= lo && (size_t) (p - lo) <= devices[d].member.part_size
            && len <= devices[d].member.part_size - (size_t) (p - lo)) {
            *device = d;
            *off = (uint64_t) (p - devices[d].region.map.base);
            return OPAL_SUCCESS;
        }
    }
    return OPAL_ERR_NOT_FOUND;
}

void mca_common_ivm_modex_pack(mca_common_ivm_modex_t *blob, size_t *len)
{
    memset(blob, 0, sizeof(*blob));
    blob->magic = MCA_COMMON_IVM_MODEX_MAGIC;
    blob->version = MCA_COMMON_IVM_MODEX_VERSION;
    blob->count = (uint16_t) ndevices;
    for (int i = 0; i < ndevices; i++) {
        mca_common_ivm_modex_entry_t *e = &blob->entry[i];
        memcpy(e->region_id, devices[i].region.region_id, IVM_ID_LEN);
        e->nonce = devices[i].member.nonce;
        e->slot = devices[i].member.slot;
        e->slot_gen = devices[i].member.slot_gen;
        e->job = devices[i].member.job;
        e->job_gen = devices[i].member.job_gen;
    }
    *len = offsetof(mca_common_ivm_modex_t, entry) + (size_t) ndevices * sizeof(blob->entry[0]);
}

int mca_common_ivm_modex_send(void)
{
    mca_common_ivm_modex_t blob;
    size_t len;
    int rc;
    mca_common_ivm_modex_pack(&blob, &len);
    OPAL_MODEX_SEND_STRING(rc, IVM_OMPI_MODEX_SCOPE_GLOBAL, MCA_COMMON_IVM_MODEX_KEY, &blob, len);
    return rc;
}

int mca_common_ivm_modex_locate(const void *data, size_t len, int *device,
                                mca_common_ivm_modex_entry_t *entry)
{
    mca_common_ivm_modex_t blob;
    size_t head = offsetof(mca_common_ivm_modex_t, entry);

    /* The blob comes from another process: check its size before reading. */
    if (NULL == data || len < head || len > sizeof(blob)) {
        return OPAL_ERR_UNREACH;
    }
    memcpy(&blob, data, len);
    if (MCA_COMMON_IVM_MODEX_MAGIC != blob.magic || MCA_COMMON_IVM_MODEX_VERSION != blob.version
        || blob.count > IVM_MAX_DEVICES || len < head + blob.count * sizeof(blob.entry[0])) {
        return OPAL_ERR_UNREACH;
    }
    for (int k = 0; k < blob.count; k++) {
        const mca_common_ivm_modex_entry_t *e = &blob.entry[k];
        for (int d = 0; d < ndevices; d++) {
            ivm_region_t *r = &devices[d].region;
            if (0 != memcmp(e->region_id, r->region_id, IVM_ID_LEN)) {
                continue;
            }
            if (!ivm_slot_verify(r, e->slot, e->slot_gen, e->nonce)) {
                /* same id but not the same memory: a copied region file */
                verbose(5, "common:ivm: peer names region of %s%s but its slot proof fails",
                        r->map.spec, " (copied device file?)");
                continue;
            }
            *device = d;
            *entry = *e;
            return OPAL_SUCCESS;
        }
    }
    return OPAL_ERR_UNREACH;
}

int mca_common_ivm_peer_locate(const opal_process_name_t *peer, int *device,
                               mca_common_ivm_modex_entry_t *entry)
{
    void *data = NULL;
    size_t size = 0;
    int rc;
    IVM_OMPI_MODEX_RECV_BLOB(rc, MCA_COMMON_IVM_MODEX_KEY, peer, &data, &size);
    if (OPAL_SUCCESS != rc) {
        return OPAL_ERR_UNREACH;
    }
    rc = mca_common_ivm_modex_locate(data, size, device, entry);
    free(data);
    return rc;
}
