/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* btl/ivm module: the function table, reachability (add_procs),
 * descriptors (alloc, free, prepare_src) and finalize. */

#include "opal_config.h"

#include <string.h>

#include "opal/class/opal_bitmap.h"
#include "opal/datatype/opal_convertor.h"
#include "opal/util/output.h"
#include "opal/util/proc.h"
#include "opal/util/show_help.h"

#include "btl_ivm.h"
#include "btl_ivm_emu.h"
#include "btl_ivm_endpoint.h"
#include "btl_ivm_frag.h"

static int btl_ivm_del_procs(struct mca_btl_base_module_t *btl, size_t nprocs,
                             struct opal_proc_t **procs, struct mca_btl_base_endpoint_t **peers);
static int btl_ivm_finalize(struct mca_btl_base_module_t *btl);
static mca_btl_base_descriptor_t *btl_ivm_alloc(struct mca_btl_base_module_t *btl,
                                                struct mca_btl_base_endpoint_t *ep, uint8_t order,
                                                size_t size, uint32_t flags);
static int btl_ivm_free(struct mca_btl_base_module_t *btl, mca_btl_base_descriptor_t *des);
static mca_btl_base_descriptor_t *btl_ivm_prepare_src(struct mca_btl_base_module_t *btl,
                                                      struct mca_btl_base_endpoint_t *ep,
                                                      struct opal_convertor_t *convertor,
                                                      uint8_t order, size_t reserve, size_t *size,
                                                      uint32_t flags);
static int btl_ivm_register_error(struct mca_btl_base_module_t *btl,
                                  mca_btl_base_module_error_cb_fn_t cb);

mca_btl_ivm_module_t mca_btl_ivm = {
    .super =
        {
            .btl_component = &mca_btl_ivm_component.super,
            .btl_add_procs = mca_btl_ivm_add_procs,
            .btl_del_procs = btl_ivm_del_procs,
            .btl_finalize = btl_ivm_finalize,
            .btl_alloc = btl_ivm_alloc,
            .btl_free = btl_ivm_free,
            .btl_prepare_src = btl_ivm_prepare_src,
            .btl_send = mca_btl_ivm_send,
            .btl_sendi = mca_btl_ivm_sendi,
            .btl_put = mca_btl_ivm_put,
            .btl_get = mca_btl_ivm_get,
            .btl_atomic_op = mca_btl_ivm_aop,
            .btl_atomic_fop = mca_btl_ivm_afop,
            .btl_atomic_cswap = mca_btl_ivm_acswap,
            .btl_register_mem = mca_btl_ivm_register_mem,
            .btl_deregister_mem = mca_btl_ivm_deregister_mem,
            .btl_dump = mca_btl_base_dump,
            .btl_register_error = btl_ivm_register_error,
        },
};

/* free_list_num and free_list_inc count eager-sized fragments; a list of
 * larger ones starts with as many bytes (maybe none: many ranks share one
 * job partition, and most never send a large message) and grows by as
 * many bytes, at least @min fragments at a time. */
static int scaled(int count, size_t payload, int min)
{
    size_t eager = mca_btl_ivm.super.btl_eager_limit, n;
    if (payload <= eager || 0 == eager || count <= 0) {
        return count;
    }
    n = (size_t) count * eager / payload;
    return n < (size_t) min ? min : (int) n;
}

static int init_list(opal_free_list_t *list, size_t payload, int max)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    return opal_free_list_init(list, sizeof(mca_btl_ivm_frag_t), opal_cache_line_size,
                               OBJ_CLASS(mca_btl_ivm_frag_t), sizeof(struct ivm_msg_hdr) + payload,
                               IVM_CACHELINE, scaled(c->free_list_num, payload, 0), max,
                               scaled(c->free_list_inc, payload, 4), mca_common_ivm_mpool(0), 0,
                               NULL, mca_btl_ivm_frag_init, list);
}

/* Free lists and the peer table, once, on the first add_procs. */
int mca_btl_ivm_module_first_init(void)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    if (mca_btl_ivm.initialized) {
        return OPAL_SUCCESS;
    }
    /* the lists live only while we are attached: their memory is the job
     * heap, which is gone after mca_common_ivm_fini() */
    OBJ_CONSTRUCT(&c->frags_eager, opal_free_list_t);
    OBJ_CONSTRUCT(&c->frags_max, opal_free_list_t);
    OBJ_CONSTRUCT(&c->frags_ctl, opal_free_list_t);
    mca_btl_ivm.initialized = true;
    c->peers = calloc(c->dev->region.layout.slot_count, sizeof(*c->peers));
    c->fbox_in = calloc(c->dev->region.layout.slot_count, sizeof(*c->fbox_in));
    if (NULL == c->peers || NULL == c->fbox_in
        || OPAL_SUCCESS
               != init_list(&c->frags_eager, mca_btl_ivm.super.btl_eager_limit, c->free_list_max)
        || OPAL_SUCCESS
               != init_list(&c->frags_max, mca_btl_ivm.super.btl_max_send_size, c->free_list_max)
        || OPAL_SUCCESS != init_list(&c->frags_ctl, MCA_BTL_IVM_CTL_PAYLOAD, -1)) {
        opal_show_help("help-btl-ivm.txt", "no-memory", true, opal_process_info.nodename,
                       c->dev->region.map.spec);
        return OPAL_ERR_OUT_OF_RESOURCE;
    }
    return OPAL_SUCCESS;
}

/* Decide, with the device layer's proof, whether @proc shares our region
 * and job partition; on success its endpoint. */
static mca_btl_ivm_endpoint_t *reach(struct opal_proc_t *proc)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    mca_common_ivm_modex_entry_t e;
    int dev;
    const char *peer = OPAL_NAME_PRINT(proc->proc_name);

    if (OPAL_SUCCESS != mca_common_ivm_peer_locate(&proc->proc_name, &dev, &e)) {
        BTL_IVM_VERBOSE(5,
                        "btl:ivm: %s on %s: not reachable (no shared ivm region: other "
                        "host, no device, or a region that only looks the same)",
                        peer, ivm_ompi_proc_hostname(proc));
        return NULL;
    }
    if (0 != dev || e.job != c->dev->member.job || e.job_gen != c->dev->member.job_gen) {
        BTL_IVM_VERBOSE(5, "btl:ivm: %s: shares the region but not our job partition", peer);
        return NULL;
    }
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(e.slot);
    if (NULL != ep) {
        char id[2 * IVM_ID_LEN + 1];
        ivm_hex(c->dev->region.region_id, IVM_ID_LEN, id);
        ep->proc = proc;
        BTL_IVM_VERBOSE(5, "btl:ivm: %s on %s: reachable through region %s (%s), slot %u", peer,
                        ivm_ompi_proc_hostname(proc), id, c->dev->region.map.spec, e.slot);
    }
    return ep;
}

static mca_btl_ivm_endpoint_t *reach_self(struct opal_proc_t *proc)
{
    mca_btl_ivm_endpoint_t *ep = mca_btl_ivm_endpoint_get(mca_btl_ivm_component.dev->member.slot);
    if (NULL != ep) {
        ep->proc = proc;
    }
    return ep;
}

int mca_btl_ivm_add_procs(struct mca_btl_base_module_t *btl, size_t nprocs,
                          struct opal_proc_t **procs, struct mca_btl_base_endpoint_t **peers,
                          struct opal_bitmap_t *reachable)
{
    const opal_proc_t *me = opal_proc_local_get();
    int rc = mca_btl_ivm_module_first_init();
    (void) btl;
    if (OPAL_SUCCESS != rc) {
        return rc;
    }
    for (size_t i = 0; i < nprocs; i++) {
        peers[i] = NULL;
        /* Ourselves too: sends to self go to btl/self (higher exclusivity),
         * but one-sided users such as osc/rdma reach their own memory, and
         * the rank-to-node tables it keeps on other ranks, through the BTL
         * endpoint of every rank, their own included. */
        peers[i] = procs[i] == me ? reach_self(procs[i]) : reach(procs[i]);
        if (NULL != peers[i] && NULL != reachable) {
            rc = opal_bitmap_set_bit(reachable, (int) i);
            if (OPAL_SUCCESS != rc) {
                return rc;
            }
        }
    }
    return OPAL_SUCCESS;
}

static int btl_ivm_del_procs(struct mca_btl_base_module_t *btl, size_t nprocs,
                             struct opal_proc_t **procs, struct mca_btl_base_endpoint_t **peers)
{
    (void) btl;
    (void) procs;
    /* endpoints stay: the peer may still return fragments to us */
    for (size_t i = 0; i < nprocs; i++) {
        if (NULL != peers[i]) {
            peers[i]->proc = NULL;
        }
    }
    return OPAL_SUCCESS;
}

static int btl_ivm_finalize(struct mca_btl_base_module_t *btl)
{
    mca_btl_ivm_component_t *c = &mca_btl_ivm_component;
    (void) btl;
    if (NULL == c->dev) {
        return OPAL_SUCCESS;
    }
    for (uint32_t s = 0; NULL != c->peers && s < c->dev->region.layout.slot_count; s++) {
        if (NULL != c->peers[s]) {
            OBJ_RELEASE(c->peers[s]);
        }
    }
    free(c->peers);
    free(c->fbox_in);
    c->peers = c->fbox_in = NULL;
    c->num_fbox_in = 0;
    if (mca_btl_ivm.initialized) {
        OBJ_DESTRUCT(&c->frags_eager);
        OBJ_DESTRUCT(&c->frags_max);
        OBJ_DESTRUCT(&c->frags_ctl);
    }
    mca_btl_ivm_emu_fini();
    /* the job partition goes away with its last member; our ring and
     * fragments are reclaimed with it */
    ivm_slot_user_set(&c->dev->region, c->dev->member.slot, 0, 0);
    c->dev = NULL;
    mca_btl_ivm.initialized = false;
    mca_common_ivm_fini();
    return OPAL_SUCCESS;
}

static mca_btl_base_descriptor_t *btl_ivm_alloc(struct mca_btl_base_module_t *btl,
                                                struct mca_btl_base_endpoint_t *ep, uint8_t order,
                                                size_t size, uint32_t flags)
{
    (void) btl;
    (void) order;
    mca_btl_ivm_frag_t *frag = mca_btl_ivm_frag_alloc(ep, size, flags);
    return NULL != frag ? &frag->base : NULL;
}

static int btl_ivm_free(struct mca_btl_base_module_t *btl, mca_btl_base_descriptor_t *des)
{
    (void) btl;
    mca_btl_ivm_frag_return((mca_btl_ivm_frag_t *) des);
    return OPAL_SUCCESS;
}

/* Copy-in: pack the convertor's data behind @reserve header bytes. */
static mca_btl_base_descriptor_t *btl_ivm_prepare_src(struct mca_btl_base_module_t *btl,
                                                      struct mca_btl_base_endpoint_t *ep,
                                                      struct opal_convertor_t *convertor,
                                                      uint8_t order, size_t reserve, size_t *size,
                                                      uint32_t flags)
{
    (void) btl;
    (void) order;
    if (reserve + *size > mca_btl_ivm.super.btl_max_send_size) {
        *size = mca_btl_ivm.super.btl_max_send_size - reserve;
    }
    mca_btl_ivm_frag_t *frag = mca_btl_ivm_frag_alloc(ep, reserve + *size, flags);
    if (OPAL_UNLIKELY(NULL == frag)) {
        return NULL;
    }
    if (*size > 0) {
        struct iovec iov = {.iov_base = (char *) frag->segments[0].seg_addr.pval + reserve,
                            .iov_len = *size};
        uint32_t iov_count = 1;
        if (opal_convertor_pack(convertor, &iov, &iov_count, size) < 0) {
            mca_btl_ivm_frag_return(frag);
            return NULL;
        }
    }
    frag->segments[0].seg_len = reserve + *size;
    return &frag->base;
}

static int btl_ivm_register_error(struct mca_btl_base_module_t *btl,
                                  mca_btl_base_module_error_cb_fn_t cb)
{
    (void) btl;
    mca_btl_ivm.error_cb = cb;
    return OPAL_SUCCESS;
}
