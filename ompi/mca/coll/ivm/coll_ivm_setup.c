/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Lazy setup of a communicator at its first collective call, and its
 * teardown at MPI_Comm_free.
 *
 * Setup is collective over the communicator and runs on the previous
 * component's allreduce (calls made meanwhile, e.g. by ompi_comm_split,
 * also go to the previous component):
 *
 *  1. each rank proves its group's members share its region (the device
 *     layer's nonce proof), and each group leader allocates the group's
 *     area from the job heap, within coll_ivm_heap_fraction of it, with
 *     chunks of coll_ivm_chunk_size or, when that area would take more
 *     than an eighth of what is left (a quarter for the first area it
 *     leads), a quarter of it, down to
 *     COLL_IVM_CHUNK_FLOOR (large chunks pay off for large messages only;
 *     more communicators served with smaller ones beat fewer with large);
 *  2. allreduce(MAX): any failure, the parameter hash (and its complement,
 *     so that differing parameters show up), every group's area offset and
 *     chunk size (checked by the members: one of the sizes the leader may
 *     choose);
 *  3. members check the offset against their job partition; in the
 *     hierarchical mode the leader communicator is created;
 *  4. allreduce(MAX) of the failures of step 3.
 *
 * Either every rank ends up in the ivm mode or every rank falls back to
 * the previous component for the whole communicator; the reason is printed
 * at coll_ivm_verbose >= 1.  An area is freed by the last member to leave
 * it (attach count in the area header), so a member that returns early
 * from a collective can free its communicator while others still read. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/util/info.h"
#include "ompi/op/op.h"
#include "ompi/proc/proc.h"

#include "coll_ivm.h"

static uint64_t params_hash(void)
{
    const mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    uint64_t v[7 + COLL_IVM_NOPS], h = 1469598103934665603ULL; /* FNV-1a */
    int k = 0;
    v[k++] = c->chunk_size;
    v[k++] = c->nbuf;
    v[k++] = c->tree_degree;
    v[k++] = c->barrier_all_max;
    v[k++] = c->reduce_small;
    v[k++] = COLL_IVM_CHANNELS;
    v[k++] = COLL_IVM_LAYOUT_VERSION;
    for (int i = 0; i < COLL_IVM_NOPS; i++) {
        v[k++] = c->enable[i];
    }
    for (int i = 0; i < k; i++) {
        for (int b = 0; b < 8; b++) {
            h = (h ^ ((v[i] >> (8 * b)) & 0xff)) * 1099511628211ULL;
        }
    }
    h = coll_ivm_handover_hash(h);
    return h >> 1; /* keep it and its complement distinguishable from 0 */
}

static void sample_heap(const coll_ivm_group_t *g)
{
    if (NULL != g->dev) {
        mca_coll_ivm_component.counters->heap_in_use = ivm_heap_in_use(&g->dev->heap);
    }
}

/* Members of my group and their liveness proofs.  NULL or why not. */
static const char *prove_members(mca_coll_ivm_module_t *m, coll_ivm_group_t *g)
{
    static char why[128];
    const int me = ompi_comm_rank(m->comm);

    g->member = calloc(g->n, sizeof(*g->member));
    if (NULL == g->member) {
        return "out of memory";
    }
    for (int r = 0; r < m->size; r++) {
        if (m->group_of[r] != m->my_group) {
            continue;
        }
        coll_ivm_member_t *mb = &g->member[m->index_of[r]];
        mb->rank = r;
        if (r == me) {
            mb->slot = g->dev->member.slot;
            mb->slot_gen = g->dev->member.slot_gen;
            mb->nonce = g->dev->member.nonce;
            continue;
        }
        ompi_proc_t *proc = ompi_comm_peer_lookup(m->comm, r);
        mca_common_ivm_modex_entry_t e;
        int dev;
        if (OPAL_SUCCESS != mca_common_ivm_peer_locate(&proc->super.proc_name, &dev, &e)
            || 0 != dev) {
            snprintf(why, sizeof(why),
                     "rank %d names the same region but the shared-memory proof fails", r);
            return why;
        }
        if (e.job != g->dev->member.job || e.job_gen != g->dev->member.job_gen) {
            snprintf(why, sizeof(why), "rank %d belongs to another job's partition", r);
            return why;
        }
        mb->slot = e.slot;
        mb->slot_gen = e.slot_gen;
        mb->nonce = e.nonce;
    }
    return NULL;
}

/* Is @chunk one the leader may choose (coll_ivm_chunk_size divided by a
 * power of 4, not below COLL_IVM_CHUNK_FLOOR unless that is the
 * parameter)?  Also what members check the leader's choice against. */
static bool chunk_allowed(uint64_t chunk)
{
    for (uint64_t c = mca_coll_ivm_component.chunk_size; c > 0; c /= 4) {
        if (c == chunk) {
            return true;
        }
        if (c / 4 < COLL_IVM_CHUNK_FLOOR) {
            break;
        }
    }
    return false;
}

/* Leader: the largest allowed chunk whose area takes at most an eighth of
 * what is left of the heap budget (room for more communicators), else the
 * smallest allowed chunk if its area fits at all.  (A quarter for every
 * area left one of coll_ivm_flat.sh's communicators at np 8 without an
 * area on Open MPI 5.0.)  The first area this process leads may take a
 * quarter: it is usually MPI_COMM_WORLD's, which carries the large
 * messages, and with an eighth a 4-rank world on a 64 MiB device got 16
 * KiB chunks (its 4-16 MiB collectives 1.2-6x slower, bench/README-coll.md). */
static bool choose_chunk(coll_ivm_group_t *g)
{
    const double budget = mca_coll_ivm_component.heap_fraction * (double) g->dev->member.part_size;
    const double left = budget - (double) ivm_heap_in_use(&g->dev->heap);
    const double share = 0 == mca_coll_ivm_component.counters->areas_attached ? 4.0 : 8.0;
    uint64_t smallest = 0;
    for (uint64_t c = mca_coll_ivm_component.chunk_size; chunk_allowed(c); c /= 4) {
        if (coll_ivm_area_geometry((uint32_t) g->n, c, g->geom.nbuf, &g->geom)) {
            if ((double) g->geom.size <= left / share) {
                return true;
            }
            smallest = c;
        }
    }
    return 0 != smallest
           && coll_ivm_area_geometry((uint32_t) g->n, smallest, g->geom.nbuf, &g->geom)
           && (double) g->geom.size <= left;
}

/* Leader: take the area from the job heap and initialise its header and
 * control lines (before its offset is handed out). */
static const char *allocate_area(coll_ivm_group_t *g)
{
    ivm_heap_t *heap = &g->dev->heap;
    uint64_t off;

    if (!choose_chunk(g)) {
        return "its area would exceed coll_ivm_heap_fraction of the job's region partition";
    }
    if (IVM_OK != ivm_heap_alloc(heap, g->geom.size, IVM_CACHELINE, &off)) {
        return "the job's region partition is full";
    }
    uint8_t *base = mca_common_ivm_job_ptr(g->dev, off, g->geom.size);
    if (NULL == base) {
        (void) ivm_heap_free(heap, off);
        return "the job heap returned an area outside the partition";
    }
    memset(base, 0, g->geom.data_off);
    struct coll_ivm_area_hdr *hdr = (struct coll_ivm_area_hdr *) base;
    hdr->magic = COLL_IVM_AREA_MAGIC;
    hdr->members = g->geom.members;
    hdr->nbuf = g->geom.nbuf;
    hdr->chunk = g->geom.chunk;
    atomic_store_explicit(&hdr->attached, g->n, memory_order_relaxed);
    /* the offset reaches the members through MPI messages, which order
     * these stores before their first access */
    atomic_thread_fence(memory_order_seq_cst);
    g->area_off = off;
    g->base = base;
    return NULL;
}

/* Step 1 for a group of two or more. */
static const char *prepare_group(mca_coll_ivm_module_t *m, coll_ivm_group_t *g)
{
    const mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    const char *why;

    g->dev = mca_common_ivm_device_get(0);
    if (NULL == g->dev) {
        return "this process has no ivm device attached";
    }
    if (!coll_ivm_area_geometry((uint32_t) g->n, c->chunk_size, c->nbuf, &g->geom)) {
        return "too many ranks in one region";
    }
    g->last_tok = calloc(COLL_IVM_CHANNELS * g->geom.nbuf, sizeof(uint64_t));
    if (NULL == g->last_tok) {
        return "out of memory";
    }
    g->degree = c->tree_degree;
    why = prove_members(m, g);
    if (NULL == why && 0 == g->me) {
        why = allocate_area(g);
    }
    sample_heap(g);
    return why;
}

static int create_leader_comm(mca_coll_ivm_module_t *m)
{
    const int rank = ompi_comm_rank(m->comm);
    opal_info_t *info = OBJ_NEW(opal_info_t);
    int rc;

    if (NULL == info) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    /* the leaders are all in different regions; keep ivm out anyway */
    opal_info_set(info, "ompi_comm_coll_preference", "^ivm");
    rc = ompi_comm_split_with_info(m->comm, 0 == m->index_of[rank] ? 0 : MPI_UNDEFINED, rank, info,
                                   &m->leader_comm, false);
    OBJ_RELEASE(info);
    if (OMPI_SUCCESS != rc || MPI_COMM_NULL == m->leader_comm) {
        m->leader_comm = NULL;
    }
    return rc;
}

static void release_area(coll_ivm_group_t *g)
{
    struct coll_ivm_area_hdr *hdr = (struct coll_ivm_area_hdr *) g->base;
    int64_t before = atomic_fetch_sub_explicit(&hdr->attached, 1, memory_order_acq_rel);

    if (1 == before) {
        if (IVM_OK != ivm_heap_free(&g->dev->heap, g->area_off)) {
            COLL_IVM_VERBOSE(1, "coll:ivm: freeing a communicator area failed: %s",
                             g->dev->region.errmsg);
        }
    } else if (before < 1 || before > g->n) {
        /* the count was damaged: leak the area rather than free it twice */
        COLL_IVM_VERBOSE(1, "coll:ivm: area at %llu has attach count %lld; not freed",
                         (unsigned long long) g->area_off, (long long) before);
    }
    g->attached = false;
    g->base = NULL;
    mca_coll_ivm_component.counters->areas_attached--;
    sample_heap(g);
}

static void fall_back(mca_coll_ivm_module_t *m, const char *why, bool local)
{
    coll_ivm_group_t *g = &m->grp;
    /* nobody attached yet: the leader frees what it allocated */
    if (NULL != g->base && 0 == g->me && 0 != g->area_off) {
        (void) ivm_heap_free(&g->dev->heap, g->area_off);
        sample_heap(g);
    }
    g->base = NULL;
    if (NULL != m->leader_comm) {
        ompi_comm_free(&m->leader_comm);
        m->leader_comm = NULL;
    }
    m->mode = COLL_IVM_MODE_FALLBACK;
    mca_coll_ivm_component.counters->comms_fallback++;
    COLL_IVM_VERBOSE(1,
                     "coll:ivm: communicator %s (cid %d, size %d): falling back to the next "
                     "component: %s%s",
                     m->comm->c_name, COLL_IVM_COMM_CID(m->comm), m->size, why,
                     local ? "" : " (on another rank)");
}

/* Steps 3 and 4 once the offsets are known. */
static int attach_and_agree(mca_coll_ivm_module_t *m, const uint64_t *offsets,
                            const uint64_t *chunks, const char **why)
{
    coll_ivm_group_t *g = &m->grp;
    uint64_t failed = 0;

    /* the leader's chunk size: one it may choose, then the same geometry
     * as the leader's */
    if (g->n > 1
        && (!chunk_allowed(chunks[m->my_group])
            || !coll_ivm_area_geometry((uint32_t) g->n, chunks[m->my_group], g->geom.nbuf,
                                       &g->geom))) {
        *why = "the group leader chose a chunk size outside coll_ivm_chunk_size's range";
        failed = 1;
    } else if (g->n > 1) {
        uint8_t *base = mca_common_ivm_job_ptr(g->dev, offsets[m->my_group], g->geom.size);
        if (NULL == base || 0 == offsets[m->my_group]) {
            *why = "the area offset of the group is outside the job partition";
            failed = 1;
        } else {
            g->base = base;
            g->area_off = offsets[m->my_group];
        }
    }
    if (m->ngroups > 1 && OMPI_SUCCESS != create_leader_comm(m)) {
        *why = "creating the leader communicator failed";
        failed = 1;
    }
    int rc = m->prev.allreduce(MPI_IN_PLACE, &failed, 1, MPI_UINT64_T, MPI_MAX, m->comm,
                               m->prev.allreduce_module);
    return OMPI_SUCCESS != rc ? rc : (failed ? OMPI_ERROR : OMPI_SUCCESS);
}

int mca_coll_ivm_setup(mca_coll_ivm_module_t *m)
{
    coll_ivm_group_t *g = &m->grp;
    const int rank = ompi_comm_rank(m->comm), nvec = 3 + 2 * m->ngroups;
    const char *why = NULL, *remote = NULL;
    uint64_t *vec = calloc(nvec, sizeof(uint64_t));
    int rc;

    if (NULL == vec) {
        return OMPI_ERR_OUT_OF_RESOURCE;
    }
    m->in_setup = true;
    g->n = m->group_size[m->my_group];
    g->me = m->index_of[rank];
    if (g->n > 1) {
        why = prepare_group(m, g);
    }
    vec[0] = NULL != why;
    vec[1] = params_hash();
    vec[2] = ~vec[1];
    if (NULL == why && g->n > 1 && 0 == g->me) {
        vec[3 + m->my_group] = g->area_off;
        vec[3 + m->ngroups + m->my_group] = g->geom.chunk;
    }
    rc = m->prev.allreduce(MPI_IN_PLACE, vec, nvec, MPI_UINT64_T, MPI_MAX, m->comm,
                           m->prev.allreduce_module);
    if (OMPI_SUCCESS != rc) {
        why = "the agreement (previous component's allreduce) failed";
    } else if (vec[1] != ~vec[2]) {
        why = "the coll_ivm parameters differ between ranks";
    } else if (0 != vec[0] && NULL == why) {
        remote = "a group could not be set up";
    }
    if (NULL == why && NULL == remote) {
        rc = attach_and_agree(m, vec + 3, vec + 3 + m->ngroups, &why);
        if (OMPI_SUCCESS != rc && NULL == why) {
            remote = "a rank could not attach to its group's area";
        }
    }
    free(vec);
    if (NULL != why || NULL != remote) {
        fall_back(m, NULL != why ? why : remote, NULL != why);
        m->in_setup = false;
        return OMPI_SUCCESS;
    }
    if (g->n > 1) {
        g->attached = true;
        mca_coll_ivm_component.counters->areas_attached++;
    }
    m->mode = m->ngroups > 1 ? COLL_IVM_MODE_HIER : COLL_IVM_MODE_FLAT;
    if (COLL_IVM_MODE_HIER == m->mode) {
        mca_coll_ivm_component.counters->comms_hier++;
    } else {
        mca_coll_ivm_component.counters->comms_flat++;
    }
    COLL_IVM_VERBOSE(5,
                     "coll:ivm: communicator %s (cid %d): %s, group of %d (member %d), "
                     "area %llu bytes at %llu",
                     m->comm->c_name, COLL_IVM_COMM_CID(m->comm),
                     COLL_IVM_MODE_HIER == m->mode ? "hierarchical" : "flat", g->n, g->me,
                     (unsigned long long) (g->n > 1 ? g->geom.size : 0),
                     (unsigned long long) g->area_off);
    m->in_setup = false;
    return OMPI_SUCCESS;
}

void mca_coll_ivm_teardown(mca_coll_ivm_module_t *m)
{
    coll_ivm_group_t *g = &m->grp;
    if (g->attached) {
        release_area(g);
    }
    if (NULL != m->leader_comm) {
        ompi_comm_free(&m->leader_comm);
        m->leader_comm = NULL;
    }
    free(g->member);
    free(g->last_tok);
    g->member = NULL;
    g->last_tok = NULL;
}
