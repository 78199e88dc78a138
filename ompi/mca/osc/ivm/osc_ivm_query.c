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

/* Which windows osc/ivm takes, decided in the component's query.
 *
 * Open MPI asks every osc component's query for a priority and calls the
 * select of the best one, with no way back once select has started.  So
 * osc/ivm settles everything in its query, where it can still decline:
 *
 *  1. each rank votes: it has a device, the window's flavor is one osc/ivm
 *     serves, every other rank of the communicator is proven to share its
 *     region and job partition (the device layer's nonce proof, as btl/ivm
 *     and coll/ivm use it), and for MPI_Win_create its memory lies in that
 *     partition;
 *  2. allgather of the votes, segment sizes, displacement units and (for
 *     MPI_Win_create) the memory's region offsets;
 *  3. rank 0 allocates the window's area from the job heap, initialises
 *     it, and broadcasts its offset (0: it could not);
 *  4. every rank checks the offset and the area header, computes its
 *     peers' segment addresses, and the ranks agree (allreduce) that all
 *     of them could.
 *
 * Every rank calls every component's query in the same order for every
 * window (MPI_Win_create and friends are collective and the component
 * list is the same everywhere), so these collectives on the window's
 * communicator match.  The flavor and the parameters of MCA scope ALL_EQ
 * are the same on every rank, so the early returns before step 2 are
 * taken by all ranks or none.  The result waits in the component
 * (pending) for select; if another component wins, the next query or
 * finalize frees it. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/util/info.h"
#include "opal/util/show_help.h"
#include "opal/util/proc.h"
#include "ompi/mca/osc/base/base.h"
#include "ompi/proc/proc.h"

#include "osc_ivm.h"

/* Why a rank votes no; the codes travel in the allgather. */
enum {
    VOTE_YES = 0,
    VOTE_NO_DEVICE,
    VOTE_PARAMS,
    VOTE_NOT_SHARED,
    VOTE_OTHER_JOB,
    VOTE_NOT_IN_REGION,
    VOTE_TOO_MANY,
    VOTE_NO_MEMORY,
    VOTE_NCODES
};

static const char *const vote_why[VOTE_NCODES] = {
    [VOTE_YES] = "",
    [VOTE_NO_DEVICE] = "it has no ivm device attached",
    [VOTE_PARAMS] = "its osc_ivm parameters are invalid",
    [VOTE_NOT_SHARED] = "another rank of the window is not proven to share its ivm region "
                        "(another host, or no ivm device there)",
    [VOTE_OTHER_JOB] = "another rank of the window belongs to another job's partition",
    [VOTE_NOT_IN_REGION] = "MPI_Win_create on memory outside the ivm region (use MPI_Alloc_mem "
                           "with the info key mpool_hints=ivm, or MPI_Win_allocate)",
    [VOTE_TOO_MANY] = "the window has more ranks than osc/ivm supports",
    [VOTE_NO_MEMORY] = "out of memory",
};

#define VOTE_WORDS 4 /* vote, size, disp_unit, region offset */

static const char *flavor_name(int flavor)
{
    switch (flavor) {
    case MPI_WIN_FLAVOR_CREATE: return "MPI_Win_create";
    case MPI_WIN_FLAVOR_ALLOCATE: return "MPI_Win_allocate";
    case MPI_WIN_FLAVOR_SHARED: return "MPI_Win_allocate_shared";
    case MPI_WIN_FLAVOR_DYNAMIC: return "MPI_Win_create_dynamic";
    default: return "a window";
    }
}

static int decline(ompi_communicator_t *comm, int flavor, const char *why, int rank)
{
    mca_osc_ivm_component.counters->declined++;
    if (rank >= 0) {
        OSC_IVM_VERBOSE(1,
                        "osc:ivm: %s on communicator %s (cid %d, size %d) left to the other "
                        "osc components: on rank %d, %s",
                        flavor_name(flavor), comm->c_name, OSC_IVM_COMM_CID(comm),
                        ompi_comm_size(comm), rank, why);
    } else {
        OSC_IVM_VERBOSE(1,
                        "osc:ivm: %s on communicator %s (cid %d, size %d) left to the other "
                        "osc components: %s",
                        flavor_name(flavor), comm->c_name, OSC_IVM_COMM_CID(comm),
                        ompi_comm_size(comm), why);
    }
    return -1;
}

void mca_osc_ivm_pending_release(void)
{
    osc_ivm_pending_t *p = &mca_osc_ivm_component.pending;
    if (p->owner && 0 != p->area_off) {
        mca_common_ivm_device_t *dev = mca_common_ivm_device_get(0);
        if (NULL != dev) {
            (void) ivm_heap_free(&dev->heap, p->area_off);
        }
    }
    free(p->peer);
    memset(p, 0, sizeof(*p));
}

/* Step 1: every other rank shares our region and job, with its liveness
 * proof recorded in @peer. */
static int prove_peers(ompi_communicator_t *comm, mca_common_ivm_device_t *dev,
                       osc_ivm_peer_t *peer)
{
    const int n = ompi_comm_size(comm), me = ompi_comm_rank(comm);
    for (int r = 0; r < n; r++) {
        if (r == me) {
            peer[r].slot = dev->member.slot;
            peer[r].slot_gen = dev->member.slot_gen;
            peer[r].nonce = dev->member.nonce;
            continue;
        }
        ompi_proc_t *proc = ompi_comm_peer_lookup(comm, r);
        mca_common_ivm_modex_entry_t e;
        int d;
        if (NULL == proc
            || OPAL_SUCCESS != mca_common_ivm_peer_locate(&proc->super.proc_name, &d, &e)
            || 0 != d) {
            return VOTE_NOT_SHARED;
        }
        if (e.job != dev->member.job || e.job_gen != dev->member.job_gen) {
            return VOTE_OTHER_JOB;
        }
        peer[r].slot = e.slot;
        peer[r].slot_gen = e.slot_gen;
        peer[r].nonce = e.nonce;
    }
    return VOTE_YES;
}

static int my_vote(ompi_communicator_t *comm, void *base, size_t size, int flavor,
                   mca_common_ivm_device_t *dev, osc_ivm_peer_t *peer, uint64_t *off)
{
    if (!mca_osc_ivm_component.params_ok) {
        return VOTE_PARAMS;
    }
    if (NULL == dev) {
        return VOTE_NO_DEVICE;
    }
    if ((uint32_t) ompi_comm_size(comm) > OSC_IVM_MAX_RANKS) {
        return VOTE_TOO_MANY;
    }
    if (MPI_WIN_FLAVOR_CREATE == flavor && size > 0) {
        int d;
        if (OPAL_SUCCESS != mca_common_ivm_find(base, size, &d, off) || 0 != d) {
            return VOTE_NOT_IN_REGION;
        }
    }
    return prove_peers(comm, dev, peer);
}

/* Step 3 on rank 0: allocate and initialise the area; NULL or why not. */
static const char *allocate_area(mca_common_ivm_device_t *dev, osc_ivm_pending_t *p)
{
    const double fraction = mca_osc_ivm_component.heap_fraction;
    uint64_t off;

    if ((double) (ivm_heap_in_use(&dev->heap) + p->geom.size)
        > fraction * (double) dev->member.part_size) {
        return "the window would exceed osc_ivm_heap_fraction of the job's partition";
    }
    if (IVM_OK != ivm_heap_alloc(&dev->heap, p->geom.size, OSC_IVM_PAGE, &off)) {
        return "the job's partition of the region has no room for the window";
    }
    uint8_t *area = mca_common_ivm_job_ptr(dev, off, p->geom.size);
    if (NULL == area) {
        (void) ivm_heap_free(&dev->heap, off);
        return "the job heap returned an area outside the partition";
    }
    /* the synchronisation words start at zero; the segments are the
     * user's memory, which MPI does not initialise */
    memset(area, 0, p->geom.seg_off);
    struct osc_ivm_win_hdr *hdr = (struct osc_ivm_win_hdr *) area;
    hdr->magic = OSC_IVM_AREA_MAGIC;
    hdr->nranks = p->geom.nranks;
    hdr->flavor = (uint32_t) p->flavor;
    hdr->size = p->geom.size;
    atomic_store_explicit(&hdr->attached, p->geom.nranks, memory_order_relaxed);
    /* the offset reaches the other ranks through MPI messages, which
     * order these stores before their first access */
    atomic_thread_fence(memory_order_seq_cst);
    p->area_off = off;
    p->area = area;
    p->owner = true;
    return NULL;
}

/* Step 4: our view of the agreed area and of every rank's segment. */
static bool attach_area(mca_common_ivm_device_t *dev, osc_ivm_pending_t *p, const uint64_t *v,
                        bool pack, uint64_t align)
{
    uint8_t *area = mca_common_ivm_job_ptr(dev, p->area_off, p->geom.size);
    if (NULL == area || 0 == p->area_off) {
        return false;
    }
    const struct osc_ivm_win_hdr *hdr = (const struct osc_ivm_win_hdr *) area;
    /* read once; written by rank 0 before the offset was broadcast */
    uint64_t magic = hdr->magic;
    uint32_t nranks = hdr->nranks;
    if (OSC_IVM_AREA_MAGIC != magic || nranks != p->geom.nranks) {
        return false;
    }
    p->area = area;
    uint64_t at = 0;
    for (int r = 0; r < p->n; r++) {
        const uint64_t *w = v + (size_t) r * VOTE_WORDS;
        p->peer[r].size = w[1];
        p->peer[r].disp_unit = (int) w[2];
        p->peer[r].base = NULL;
        if (MPI_WIN_FLAVOR_CREATE == p->flavor) {
            if (w[1] > 0 && NULL == (p->peer[r].base = mca_common_ivm_job_ptr(dev, w[3], w[1]))) {
                return false;
            }
        } else {
            p->peer[r].base = area + p->geom.seg_off + at;
            at += pack ? w[1] : osc_ivm_round_up(w[1], align);
        }
    }
    return true;
}

static bool info_bool(struct opal_info_t *info, const char *key)
{
    bool value = false;
    int flag = 0;
    if (NULL != info && OPAL_SUCCESS == opal_info_get_bool(info, (char *) key, &value, &flag)
        && flag) {
        return value;
    }
    return false;
}

/* Steps 2 to 4 once the votes are in; -1 or the priority. */
static int agree(ompi_communicator_t *comm, struct opal_info_t *info, int flavor,
                 mca_common_ivm_device_t *dev, osc_ivm_pending_t *p, const uint64_t *v)
{
    const bool pack = MPI_WIN_FLAVOR_SHARED == flavor && !info_bool(info, "alloc_shared_noncontig");
    const uint64_t align = MPI_WIN_FLAVOR_SHARED == flavor ? OSC_IVM_PAGE : OSC_IVM_SEG_ALIGN;
    uint64_t *sizes = calloc(p->n, sizeof(uint64_t)), word[2];
    const char *why = NULL;
    int rc;

    if (NULL == sizes) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    for (int r = 0; r < p->n && MPI_WIN_FLAVOR_CREATE != flavor; r++) {
        sizes[r] = v[(size_t) r * VOTE_WORDS + 1];
    }
    if (!osc_ivm_area_geometry((uint32_t) p->n, sizes, pack, align, &p->geom)) {
        why = "the window's segments are too large";
    } else if (0 == p->me) {
        why = allocate_area(dev, p);
        if (NULL != why) {
            opal_show_help("help-mpi-osc-ivm.txt", "partition-full", true,
                           opal_process_info.nodename, flavor_name(flavor),
                           (unsigned long long) p->geom.size, why,
                           (unsigned long long) dev->member.part_size,
                           (unsigned long long) ivm_heap_in_use(&dev->heap));
        }
    }
    free(sizes);
    word[0] = p->area_off;
    rc = comm->c_coll->coll_bcast(word, 1, MPI_UINT64_T, 0, comm, comm->c_coll->coll_bcast_module);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (0 == word[0]) {
        return decline(comm, flavor,
                       NULL != why ? why
                                   : "rank 0 could not allocate the window "
                                     "in the region (osc_ivm_verbose on rank 0 says why)",
                       -1);
    }
    p->area_off = word[0];
    word[1] = attach_area(dev, p, v, pack, align) ? 0 : 1;
    rc = comm->c_coll->coll_allreduce(MPI_IN_PLACE, &word[1], 1, MPI_UINT64_T, MPI_MAX, comm,
                                      comm->c_coll->coll_allreduce_module);
    if (OMPI_SUCCESS != rc) {
        return rc;
    }
    if (0 != word[1]) {
        return decline(comm, flavor,
                       "a rank could not attach to the window's area or a peer's "
                       "memory (offsets outside the job partition)",
                       -1);
    }
    return mca_osc_ivm_component.priority;
}

/* Open MPI 4.1 stops the selection of a shared window spanning nodes at
 * osc/sm's refusal (see osc_ivm_version.h): say so, with the way out. */
static void warn_if_sm_blocks(ompi_communicator_t *comm, int flavor)
{
    mca_base_component_list_item_t *cli;
    if (!OSC_IVM_SM_BLOCKS_SHARED || MPI_WIN_FLAVOR_SHARED != flavor
        || !ompi_group_have_remote_peers(comm->c_local_group)) {
        return;
    }
    OPAL_LIST_FOREACH(cli, &ompi_osc_base_framework.framework_components,
                      mca_base_component_list_item_t)
    {
        if (0 == strcmp(cli->cli_component->mca_component_name, "sm")) {
            opal_show_help("help-mpi-osc-ivm.txt", "sm-blocks-shared", true,
                           opal_process_info.nodename);
            return;
        }
    }
}

int mca_osc_ivm_query(struct ompi_win_t *win, void **base, size_t size, int disp_unit,
                      struct ompi_communicator_t *comm, struct opal_info_t *info, int flavor)
{
    mca_osc_ivm_component_t *c = &mca_osc_ivm_component;
    osc_ivm_pending_t *p = &c->pending;
    mca_common_ivm_device_t *dev = c->attached ? mca_common_ivm_device_get(0) : NULL;
    uint64_t mine[VOTE_WORDS] = {0}, *all;
    int rc, prio;

    mca_osc_ivm_pending_release(); /* an earlier window's, if another component won it */
    if (c->priority < 0) {
        return -1;
    }
    if (MPI_WIN_FLAVOR_DYNAMIC == flavor || OMPI_COMM_IS_INTER(comm)) {
        return decline(comm, flavor,
                       MPI_WIN_FLAVOR_DYNAMIC == flavor
                           ? "dynamic windows are served by osc/rdma or osc/pt2pt"
                           : "intercommunicator",
                       -1);
    }
    p->n = ompi_comm_size(comm);
    p->me = ompi_comm_rank(comm);
    p->flavor = flavor;
    p->peer = calloc(p->n, sizeof(*p->peer));
    all = calloc((size_t) p->n * VOTE_WORDS, sizeof(uint64_t));
    if (NULL == p->peer || NULL == all) {
        mine[0] = VOTE_NO_MEMORY;
    } else {
        mine[0] = my_vote(comm, MPI_WIN_FLAVOR_CREATE == flavor ? *base : NULL, size, flavor, dev,
                          p->peer, &mine[3]);
    }
    mine[1] = size;
    mine[2] = (uint64_t) disp_unit;
    rc = comm->c_coll->coll_allgather(mine, VOTE_WORDS, MPI_UINT64_T, all, VOTE_WORDS, MPI_UINT64_T,
                                      comm, comm->c_coll->coll_allgather_module);
    prio = OMPI_SUCCESS != rc ? rc : -2;
    for (int r = 0; - 2 == prio && r < p->n; r++) {
        uint64_t vote = all[(size_t) r * VOTE_WORDS];
        if (VOTE_YES != vote) {
            prio = decline(comm, flavor, vote < VOTE_NCODES ? vote_why[vote] : "?", r);
        }
    }
    if (-2 == prio) {
        prio = agree(comm, info, flavor, dev, p, all);
    }
    free(all);
    if (prio < 0) {
        mca_osc_ivm_pending_release();
        return prio < -1 ? -1 : prio;
    }
    p->win = win;
    warn_if_sm_blocks(comm, flavor);
    OSC_IVM_VERBOSE(1,
                    "osc:ivm: %s on communicator %s (cid %d): %d ranks, area of %llu bytes "
                    "at region offset %llu",
                    flavor_name(flavor), comm->c_name, OSC_IVM_COMM_CID(comm), p->n,
                    (unsigned long long) p->geom.size, (unsigned long long) p->area_off);
    return prio;
}
