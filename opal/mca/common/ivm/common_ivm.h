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
 * Open MPI side of the ivm device layer, shared by btl/ivm, mpool/ivm and
 * coll/ivm: MCA parameters (opal_common_ivm_*, with btl_/mpool_/coll_ivm_
 * synonyms), a reference-counted attachment of this process to every ivm
 * device it can see (one process slot per device, in its job's partition),
 * the modex blob that tells peers where we are, and the co-location test
 * that decides who can reach whom.
 */

#ifndef MCA_COMMON_IVM_H
#define MCA_COMMON_IVM_H

#include "opal_config.h"

#include "opal/mca/mca.h"
#include "opal/mca/mpool/mpool.h"
#include "opal/util/proc.h"

#include "common_ivm_core.h"

BEGIN_C_DECLS

#define MCA_COMMON_IVM_MODEX_KEY "opal.common.ivm.1"
#define MCA_COMMON_IVM_MODEX_MAGIC 0x4d44564du /* "MVDM" */
#define MCA_COMMON_IVM_MODEX_VERSION 1

/** One attached device (process-local). */
typedef struct mca_common_ivm_device {
    ivm_region_t region;
    ivm_member_t member;
    ivm_heap_t heap;               /**< the job partition's allocator */
    ivm_lease_keeper_t lease;      /**< renews our slot's lease */
    mca_mpool_base_module_t mpool; /**< the same allocator as an Open MPI mpool */
} mca_common_ivm_device_t;

/** What a process publishes per device: the node identifier (region id)
 * and the slot whose nonce proves real sharing. */
typedef struct mca_common_ivm_modex_entry {
    uint8_t region_id[IVM_ID_LEN];
    uint64_t nonce;
    uint32_t slot;
    uint32_t slot_gen;
    uint32_t job;
    uint32_t job_gen;
} mca_common_ivm_modex_entry_t;

typedef struct mca_common_ivm_modex {
    uint32_t magic;
    uint16_t version;
    uint16_t count;
    mca_common_ivm_modex_entry_t entry[IVM_MAX_DEVICES];
} mca_common_ivm_modex_t;

/** Transport statistics, exported as MPI_T performance variables
 * (btl_ivm_*).  They live in this library, which stays loaded, so reading
 * them never touches an unloaded component. */
typedef struct mca_common_ivm_counters {
    unsigned long long fbox_msgs, fbox_bytes; /**< sent inline in fast boxes */
    unsigned long long ring_msgs, ring_bytes; /**< sent as fragments through rings */
    unsigned long long rdma_ops, rdma_bytes;  /**< single-copy put/get */
    unsigned long long atomic_ops;            /**< atomics on the region */
    unsigned long long emulated_ops;          /**< RMA on memory outside the region,
                                                   by active messages */
} mca_common_ivm_counters_t;

OPAL_DECLSPEC extern mca_common_ivm_counters_t mca_common_ivm_counters;

/** Register the counters as performance variables of @component. */
OPAL_DECLSPEC void mca_common_ivm_register_pvars(const mca_base_component_t *component);

/** Parameter storage (registered by mca_common_ivm_register). */
typedef struct mca_common_ivm_params {
    char *device;
    size_t partition_size;
    int lock_timeout_ms;
    int format_timeout_ms;
    unsigned int lease_s;         /**< a lease not renewed for this long has expired */
    unsigned int lease_period_ms; /**< between renewals of our own lease */
    bool auto_format;
    double uncached_threshold;
    char *job_key;
    unsigned int spin_time_us;  /**< a wait for another process polls this long... */
    unsigned int sleep_time_us; /**< ...then sleeps this long between polls */
    int verbose;
    int output;
} mca_common_ivm_params_t;

OPAL_DECLSPEC extern mca_common_ivm_params_t mca_common_ivm_params;

/** Register the opal_common_ivm_* parameters and, when @component is
 * given, synonyms under its framework (e.g. btl_ivm_device). */
OPAL_DECLSPEC void mca_common_ivm_register(const mca_base_component_t *component);

/** Register opal_common_ivm_spin_time and opal_common_ivm_sleep_time, how
 * btl/ivm's, coll/ivm's and osc/ivm's waits for another process pace
 * themselves, and @component's own earlier names for them
 * (btl_ivm_spin_time, coll_ivm_sleep_time, ...) as deprecated synonyms
 * (none when @component is NULL). */
OPAL_DECLSPEC void mca_common_ivm_register_pacing(const mca_base_component_t *component);

/** Attach to the devices (first call does the work; later calls add a
 * reference).  Returns OPAL_SUCCESS when at least one device is usable.
 * With @explicit_request, failures are shown to the user (show_help);
 * otherwise they are reported at verbose level only, since a machine
 * without a device is normal. */
OPAL_DECLSPEC int mca_common_ivm_init(bool explicit_request);
OPAL_DECLSPEC void mca_common_ivm_fini(void);

OPAL_DECLSPEC int mca_common_ivm_device_count(void);
OPAL_DECLSPEC mca_common_ivm_device_t *mca_common_ivm_device_get(int index);

/** An mpool whose memory lives in @device's job partition (used by the
 * BTL's free lists and by mpool/ivm for MPI_Alloc_mem). */
OPAL_DECLSPEC mca_mpool_base_module_t *mca_common_ivm_mpool(int device);

/** Which device's job partition holds [addr, addr+len)?  Returns
 * OPAL_SUCCESS with the device index and region offset, else
 * OPAL_ERR_NOT_FOUND. */
OPAL_DECLSPEC int mca_common_ivm_find(const void *addr, size_t len, int *device, uint64_t *off);

/** Local address of region offset @off of @device if [off, off+len) lies
 * in our job partition, else NULL (offsets from peers are untrusted). */
static inline void *mca_common_ivm_job_ptr(const mca_common_ivm_device_t *d, uint64_t off,
                                           uint64_t len)
{
    uint64_t lo = d->member.part_off, hi = lo + d->member.part_size;
    if (off < lo || off > hi || len > hi - off) {
        return NULL;
    }
    return d->region.map.base + off;
}

/** Fill our modex blob; @len gets the number of meaningful bytes. */
OPAL_DECLSPEC void mca_common_ivm_modex_pack(mca_common_ivm_modex_t *blob, size_t *len);

/** Publish the blob (global scope: peers are on other PMIx nodes). */
OPAL_DECLSPEC int mca_common_ivm_modex_send(void);

/** Is the peer that published @blob co-located with us?  On success
 * @device gets the index of the shared device and @entry the peer's entry.
 * Validates the untrusted blob; returns OPAL_ERR_UNREACH when no device is
 * shared (including a copied region file: same id, nonce not readable). */
OPAL_DECLSPEC int mca_common_ivm_modex_locate(const void *blob, size_t len, int *device,
                                              mca_common_ivm_modex_entry_t *entry);

/** mca_common_ivm_modex_locate on the blob the peer published. */
OPAL_DECLSPEC int mca_common_ivm_peer_locate(const opal_process_name_t *peer, int *device,
                                             mca_common_ivm_modex_entry_t *entry);

END_C_DECLS

#endif /* MCA_COMMON_IVM_H */
