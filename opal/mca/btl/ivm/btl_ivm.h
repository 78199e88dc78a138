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
 * btl/ivm: MPI traffic between processes that share an ivm device (a QEMU
 * ivshmem region), typically in different VMs of one host.
 *
 * Every process of a job owns, in its job's partition of the region, a
 * receive ring (many producers, one consumer).  Messages are written into
 * fragments allocated from the sender's free lists (also in the partition)
 * and announced by pushing the fragment's region offset into the
 * receiver's ring; the receiver hands the fragment back through the
 * sender's ring.  After btl_ivm_fbox_threshold messages to a peer, the
 * sender creates a fast box for it: small messages are then copied
 * straight into it, and ring messages to that peer are announced through
 * it too, which keeps them in order.  Buffers that lie in the partition
 * (MPI_Alloc_mem with the "ivm" hint) are registrable: put, get and
 * atomics on them are plain CPU memory operations on the shared region.
 *
 * Reachability is the device layer's co-location proof (same region id,
 * nonce readable in the peer's slot), not hostnames.
 */

#ifndef MCA_BTL_IVM_H
#define MCA_BTL_IVM_H

#include "opal_config.h"

#include "opal/class/opal_free_list.h"
#include "opal/class/opal_list.h"
#include "opal/mca/btl/base/base.h"
#include "opal/mca/btl/btl.h"
#include "opal/mca/common/ivm/common_ivm.h"
#include "opal/mca/common/ivm/common_ivm_ompi_version.h"
#include "opal/mca/common/ivm/common_ivm_ring.h"

BEGIN_C_DECLS

/* Payload bytes of the overflow fragments that keep small messages going
 * when the eager list is at free_list_max (a PML's control headers). */
#define MCA_BTL_IVM_CTL_PAYLOAD 256

typedef struct mca_btl_ivm_component_t {
    mca_btl_base_component_3_0_0_t super;

    /* parameters */
    int free_list_num;
    int free_list_max;
    int free_list_inc;
    unsigned int ring_size;      /**< cells in each receive ring */
    unsigned int fbox_size;      /**< bytes of a fast box */
    unsigned int fbox_threshold; /**< messages to a peer before it gets a fast box */
    unsigned int fbox_max;       /**< fast boxes this process creates at most */
    unsigned int poll_limit;     /**< messages taken per source per progress call */
    int verbose;

    /* state */
    int output;
    bool explicit_request; /**< the user named ivm in the btl list */
    mca_common_ivm_device_t *dev;
    ivm_ring_handle_t ring; /**< our receive ring (consumer) */
    uint64_t ring_off;
    opal_free_list_t frags_eager;
    opal_free_list_t frags_max;
    opal_free_list_t frags_ctl;             /**< overflow for small messages, see frag_alloc */
    struct mca_btl_ivm_frag_t **frag_table; /**< cookie -> fragment */
    uint32_t frag_count, frag_table_size;
    struct mca_btl_base_endpoint_t **peers;   /**< slot -> endpoint */
    struct mca_btl_base_endpoint_t **fbox_in; /**< peers with a fast box towards us */
    unsigned int num_fbox_in, fbox_in_next, fbox_out_count;
    opal_list_t pending_endpoints; /**< endpoints with queued sends */
    opal_list_t pending_returns;   /**< fragments we could not hand back yet */
    opal_mutex_t lock;
} mca_btl_ivm_component_t;
IVM_OMPI_MODULE_DECLSPEC extern mca_btl_ivm_component_t mca_btl_ivm_component;

typedef struct mca_btl_ivm_module_t {
    mca_btl_base_module_t super;
    bool initialized;
    mca_btl_base_module_error_cb_fn_t error_cb;
} mca_btl_ivm_module_t;
IVM_OMPI_MODULE_DECLSPEC extern mca_btl_ivm_module_t mca_btl_ivm;

/** What remote peers need to address a registered buffer: region memory
 * by its offset, other memory by the registrant's table index (accessed by
 * active messages, see btl_ivm_emu.c). */
enum { MCA_BTL_IVM_REG_REGION = 1, MCA_BTL_IVM_REG_EMULATED = 2 };
struct mca_btl_base_registration_handle_t {
    uint32_t kind;       /**< MCA_BTL_IVM_REG_* */
    uint32_t index;      /**< emulated: the registrant's table index */
    uint64_t region_off; /**< region: offset of the buffer start */
    uint64_t base;       /**< the registrant's virtual address of it */
    uint64_t len;
};

#define BTL_IVM_VERBOSE(level, ...)                                                \
    do {                                                                           \
        if (mca_btl_ivm_component.output >= 0) {                                   \
            opal_output_verbose(level, mca_btl_ivm_component.output, __VA_ARGS__); \
        }                                                                          \
    } while (0)

/* btl_ivm_module.c */
int mca_btl_ivm_module_first_init(void);
int mca_btl_ivm_add_procs(struct mca_btl_base_module_t *btl, size_t nprocs,
                          struct opal_proc_t **procs, struct mca_btl_base_endpoint_t **peers,
                          struct opal_bitmap_t *reachable);

/* btl_ivm_send.c */
int mca_btl_ivm_send(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                     struct mca_btl_base_descriptor_t *des, mca_btl_base_tag_t tag);
int mca_btl_ivm_sendi(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                      struct opal_convertor_t *convertor, void *header, size_t header_size,
                      size_t payload_size, uint8_t order, uint32_t flags, mca_btl_base_tag_t tag,
                      mca_btl_base_descriptor_t **descriptor);
void mca_btl_ivm_progress_pending(void);

/* btl_ivm_progress.c */
int mca_btl_ivm_component_progress(void);

/* btl_ivm_rdma.c */
struct mca_btl_base_registration_handle_t *mca_btl_ivm_register_mem(
    struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep, void *base, size_t size,
    uint32_t flags);
int mca_btl_ivm_deregister_mem(struct mca_btl_base_module_t *btl,
                               struct mca_btl_base_registration_handle_t *handle);
int mca_btl_ivm_put(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    void *local_address, uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *local_handle,
                    struct mca_btl_base_registration_handle_t *remote_handle, size_t size,
                    int flags, int order, mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext,
                    void *cbdata);
int mca_btl_ivm_get(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    void *local_address, uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *local_handle,
                    struct mca_btl_base_registration_handle_t *remote_handle, size_t size,
                    int flags, int order, mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext,
                    void *cbdata);
int mca_btl_ivm_aop(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                    uint64_t remote_address,
                    struct mca_btl_base_registration_handle_t *remote_handle,
                    mca_btl_base_atomic_op_t op, uint64_t operand, int flags, int order,
                    mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata);
int mca_btl_ivm_afop(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                     void *local_address, uint64_t remote_address,
                     struct mca_btl_base_registration_handle_t *local_handle,
                     struct mca_btl_base_registration_handle_t *remote_handle,
                     mca_btl_base_atomic_op_t op, uint64_t operand, int flags, int order,
                     mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata);
int mca_btl_ivm_acswap(struct mca_btl_base_module_t *btl, struct mca_btl_base_endpoint_t *ep,
                       void *local_address, uint64_t remote_address,
                       struct mca_btl_base_registration_handle_t *local_handle,
                       struct mca_btl_base_registration_handle_t *remote_handle, uint64_t compare,
                       uint64_t value, int flags, int order,
                       mca_btl_base_rdma_completion_fn_t cbfunc, void *cbcontext, void *cbdata);

END_C_DECLS

#endif /* MCA_BTL_IVM_H */
