/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* comm_query: which ranks of a communicator share an ivm region, and the
 * module that serves it.
 *
 * Every rank must reach the same decision without communicating (comm_query
 * is not a collective step).  So the grouping is computed only from data
 * every rank sees identically: the device layer's modex blob each process
 * published (its own included, read back the same way).  A rank's "home"
 * is the region of its first device (the one btl/ivm and coll/ivm use) and
 * its job's entry there (processes of different MPI jobs, e.g. spawned
 * ones, have separate heaps); ranks with the same home form a group, ranks
 * without a blob or alone in their region are groups of one.  Whether the shared memory is real (the
 * nonce proof) is checked at setup, where the ranks can agree on it. */

#include "ompi_config.h"

#include <stdlib.h>
#include <string.h>

#include "opal/class/opal_hash_table.h"
#include "ompi/proc/proc.h"

#include "coll_ivm.h"

/* A home: region id, job index and generation in that region. */
#define COLL_IVM_HOME_LEN (IVM_ID_LEN + 8)

struct coll_ivm_peer_cache {
    opal_hash_table_t home; /* process name -> home index + 1 */
    int nids, cap;
    uint8_t (*ids)[COLL_IVM_HOME_LEN];
};

static void module_construct(mca_coll_ivm_module_t *m)
{
    m->comm = NULL;
    m->mode = COLL_IVM_MODE_UNSET;
    m->in_setup = false;
    m->group_of = m->index_of = m->group_size = m->group_first = NULL;
    m->ngroups = m->size = 0;
    m->my_group = -1;
    m->contiguous = false;
    memset(&m->grp, 0, sizeof(m->grp));
    m->leader_comm = NULL;
    memset(&m->prev, 0, sizeof(m->prev));
}

#define COLL_IVM_RELEASE_PREV(_m, _name)            \
    do {                                            \
        if (NULL != (_m)->prev._name##_module) {    \
            OBJ_RELEASE((_m)->prev._name##_module); \
            (_m)->prev._name##_module = NULL;       \
        }                                           \
    } while (0)

static void module_destruct(mca_coll_ivm_module_t *m)
{
    mca_coll_ivm_teardown(m);
    COLL_IVM_RELEASE_PREV(m, barrier);
    COLL_IVM_RELEASE_PREV(m, bcast);
    COLL_IVM_RELEASE_PREV(m, reduce);
    COLL_IVM_RELEASE_PREV(m, allreduce);
    COLL_IVM_RELEASE_PREV(m, allgather);
    COLL_IVM_RELEASE_PREV(m, allgatherv);
    COLL_IVM_RELEASE_PREV(m, gather);
    COLL_IVM_RELEASE_PREV(m, gatherv);
    COLL_IVM_RELEASE_PREV(m, scatter);
    COLL_IVM_RELEASE_PREV(m, scatterv);
    COLL_IVM_RELEASE_PREV(m, alltoall);
    COLL_IVM_RELEASE_PREV(m, alltoallv);
    COLL_IVM_RELEASE_PREV(m, reduce_scatter);
    COLL_IVM_RELEASE_PREV(m, reduce_scatter_block);
    free(m->group_of);
    free(m->index_of);
    free(m->group_size);
    free(m->group_first);
}

OBJ_CLASS_INSTANCE(mca_coll_ivm_module_t, mca_coll_base_module_t, module_construct,
                   module_destruct);

/* ---- the peer cache: process name -> home region (interned) ---- */

static struct coll_ivm_peer_cache *peer_cache(void)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    if (NULL == c->peers) {
        struct coll_ivm_peer_cache *p = calloc(1, sizeof(*p));
        if (NULL == p) {
            return NULL;
        }
        OBJ_CONSTRUCT(&p->home, opal_hash_table_t);
        if (OPAL_SUCCESS != opal_hash_table_init(&p->home, 256)) {
            OBJ_DESTRUCT(&p->home);
            free(p);
            return NULL;
        }
        c->peers = p;
    }
    return c->peers;
}

void mca_coll_ivm_peer_cache_free(void)
{
    struct coll_ivm_peer_cache *p = mca_coll_ivm_component.peers;
    if (NULL != p) {
        OBJ_DESTRUCT(&p->home);
        free(p->ids);
        free(p);
        mca_coll_ivm_component.peers = NULL;
    }
}

static int intern_home(struct coll_ivm_peer_cache *p, const mca_common_ivm_modex_entry_t *e)
{
    uint8_t key[COLL_IVM_HOME_LEN];
    memcpy(key, e->region_id, IVM_ID_LEN);
    memcpy(key + IVM_ID_LEN, &e->job, 4);
    memcpy(key + IVM_ID_LEN + 4, &e->job_gen, 4);
    for (int i = 0; i < p->nids; i++) {
        if (0 == memcmp(p->ids[i], key, COLL_IVM_HOME_LEN)) {
            return i;
        }
    }
    if (p->nids == p->cap) {
        int cap = p->cap ? 2 * p->cap : 8;
        void *ids = realloc(p->ids, (size_t) cap * COLL_IVM_HOME_LEN);
        if (NULL == ids) {
            return -1;
        }
        p->ids = ids;
        p->cap = cap;
    }
    memcpy(p->ids[p->nids], key, COLL_IVM_HOME_LEN);
    return p->nids++;
}

/* The home region a process published, or -1.  The blob comes from
 * another process: its size and header are checked before use. */
static int published_home(struct coll_ivm_peer_cache *p, const opal_process_name_t *name)
{
    const size_t head = offsetof(mca_common_ivm_modex_t, entry);
    mca_common_ivm_modex_t blob;
    void *data = NULL;
    size_t size = 0;
    int rc, home = -1;

    IVM_OMPI_MODEX_RECV_BLOB(rc, MCA_COMMON_IVM_MODEX_KEY, name, &data, &size);
    if (OPAL_SUCCESS != rc || NULL == data) {
        return -1;
    }
    if (size >= head + sizeof(blob.entry[0]) && size <= sizeof(blob)) {
        memcpy(&blob, data, size);
        if (MCA_COMMON_IVM_MODEX_MAGIC == blob.magic && MCA_COMMON_IVM_MODEX_VERSION == blob.version
            && blob.count >= 1 && blob.count <= IVM_MAX_DEVICES
            && size >= head + blob.count * sizeof(blob.entry[0])) {
            home = intern_home(p, &blob.entry[0]);
        }
    }
    free(data);
    return home;
}

static int home_of(struct coll_ivm_peer_cache *p, ompi_proc_t *proc)
{
    uint64_t key;
    void *value;
    memcpy(&key, &proc->super.proc_name, sizeof(key));
    if (OPAL_SUCCESS == opal_hash_table_get_value_uint64(&p->home, key, &value)) {
        return (int) (intptr_t) value - 1;
    }
    int home = published_home(p, &proc->super.proc_name);
    (void) opal_hash_table_set_value_uint64(&p->home, key, (void *) (intptr_t) (home + 1));
    return home;
}

/* ---- topology ---- */

/* Group the ranks by home region; groups are numbered in the order of
 * their lowest rank.  Returns the size of the largest group, or -1. */
static int build_topology(mca_coll_ivm_module_t *m, ompi_communicator_t *comm)
{
    int n = ompi_comm_size(comm), largest = 0, rc = -1;
    struct coll_ivm_peer_cache *p;
    int *group_of_home = NULL;

    m->size = n;
    m->group_of = malloc(n * sizeof(int));
    m->index_of = malloc(n * sizeof(int));
    m->group_size = calloc(n, sizeof(int));
    m->group_first = malloc(n * sizeof(int));
    if (NULL == m->group_of || NULL == m->index_of || NULL == m->group_size
        || NULL == m->group_first) {
        return -1;
    }
    OPAL_THREAD_LOCK(&mca_coll_ivm_component.lock);
    p = peer_cache();
    if (NULL == p) {
        goto out_unlock;
    }
    for (int r = 0; r < n; r++) {
        m->group_of[r] = home_of(p, ompi_comm_peer_lookup(comm, r)); /* home for now */
    }
    group_of_home = malloc((p->nids + 1) * sizeof(int));
    if (NULL == group_of_home) {
        goto out_unlock;
    }
    for (int h = 0; h < p->nids; h++) {
        group_of_home[h] = -1;
    }
    m->ngroups = 0;
    for (int r = 0; r < n; r++) {
        int h = m->group_of[r], g;
        if (h < 0 || group_of_home[h] < 0) {
            g = m->ngroups++;
            m->group_first[g] = r;
            if (h >= 0) {
                group_of_home[h] = g;
            }
        } else {
            g = group_of_home[h];
        }
        m->group_of[r] = g;
        m->index_of[r] = m->group_size[g]++;
        if (m->group_size[g] > largest) {
            largest = m->group_size[g];
        }
    }
    m->contiguous = true;
    for (int r = 1; r < n; r++) {
        m->contiguous = m->contiguous && m->group_of[r] >= m->group_of[r - 1];
    }
    m->my_group = m->group_of[ompi_comm_rank(comm)];
    rc = largest;
out_unlock:
    OPAL_THREAD_UNLOCK(&mca_coll_ivm_component.lock);
    free(group_of_home);
    return rc;
}

/* ---- enable: keep the previous component's functions ---- */

#define COLL_IVM_SAVE_PREV(_m, _comm, _name)                                 \
    do {                                                                     \
        (_m)->prev._name = (_comm)->c_coll->coll_##_name;                    \
        (_m)->prev._name##_module = (_comm)->c_coll->coll_##_name##_module;  \
        if (NULL == (_m)->prev._name || NULL == (_m)->prev._name##_module) { \
            (_m)->prev._name##_module = NULL;                                \
            (_m)->super.coll_##_name = NULL;                                 \
        } else {                                                             \
            OBJ_RETAIN((_m)->prev._name##_module);                           \
        }                                                                    \
    } while (0)

static int module_enable(mca_coll_base_module_t *module, struct ompi_communicator_t *comm)
{
    mca_coll_ivm_module_t *m = (mca_coll_ivm_module_t *) module;

    COLL_IVM_SAVE_PREV(m, comm, barrier);
    COLL_IVM_SAVE_PREV(m, comm, bcast);
    COLL_IVM_SAVE_PREV(m, comm, reduce);
    COLL_IVM_SAVE_PREV(m, comm, allreduce);
    COLL_IVM_SAVE_PREV(m, comm, allgather);
    COLL_IVM_SAVE_PREV(m, comm, allgatherv);
    COLL_IVM_SAVE_PREV(m, comm, gather);
    COLL_IVM_SAVE_PREV(m, comm, gatherv);
    COLL_IVM_SAVE_PREV(m, comm, scatter);
    COLL_IVM_SAVE_PREV(m, comm, scatterv);
    COLL_IVM_SAVE_PREV(m, comm, alltoall);
    COLL_IVM_SAVE_PREV(m, comm, alltoallv);
    COLL_IVM_SAVE_PREV(m, comm, reduce_scatter);
    COLL_IVM_SAVE_PREV(m, comm, reduce_scatter_block);
    /* the setup agreement runs on the previous allreduce */
    if (NULL == m->prev.allreduce) {
        return OMPI_ERR_NOT_SUPPORTED;
    }
    m->comm = comm;
    return OMPI_SUCCESS;
}

static void set_functions(mca_coll_ivm_module_t *m)
{
    const bool *en = mca_coll_ivm_component.enable;
    mca_coll_base_module_t *s = &m->super;
    s->coll_module_enable = module_enable;
    s->coll_barrier = en[COLL_IVM_BARRIER] ? mca_coll_ivm_barrier : NULL;
    s->coll_bcast = en[COLL_IVM_BCAST] ? mca_coll_ivm_bcast : NULL;
    s->coll_reduce = en[COLL_IVM_REDUCE] ? mca_coll_ivm_reduce : NULL;
    s->coll_allreduce = en[COLL_IVM_ALLREDUCE] ? mca_coll_ivm_allreduce : NULL;
    s->coll_allgather = en[COLL_IVM_ALLGATHER] ? mca_coll_ivm_allgather : NULL;
    s->coll_allgatherv = en[COLL_IVM_ALLGATHERV] ? mca_coll_ivm_allgatherv : NULL;
    s->coll_gather = en[COLL_IVM_GATHER] ? mca_coll_ivm_gather : NULL;
    s->coll_gatherv = en[COLL_IVM_GATHERV] ? mca_coll_ivm_gatherv : NULL;
    s->coll_scatter = en[COLL_IVM_SCATTER] ? mca_coll_ivm_scatter : NULL;
    s->coll_scatterv = en[COLL_IVM_SCATTERV] ? mca_coll_ivm_scatterv : NULL;
    s->coll_alltoall = en[COLL_IVM_ALLTOALL] ? mca_coll_ivm_alltoall : NULL;
    s->coll_alltoallv = en[COLL_IVM_ALLTOALLV] ? mca_coll_ivm_alltoallv : NULL;
    s->coll_reduce_scatter = en[COLL_IVM_REDUCE_SCATTER] ? mca_coll_ivm_reduce_scatter : NULL;
    s->coll_reduce_scatter_block =
        en[COLL_IVM_REDUCE_SCATTER_BLOCK] ? mca_coll_ivm_reduce_scatter_block : NULL;
}

static mca_coll_base_module_t *decline(ompi_communicator_t *comm, const char *why)
{
    COLL_IVM_VERBOSE(1, "coll:ivm: communicator %s (cid %d, size %d): not served: %s", comm->c_name,
                     COLL_IVM_COMM_CID(comm), ompi_comm_size(comm), why);
    return NULL;
}

mca_coll_base_module_t *mca_coll_ivm_comm_query(struct ompi_communicator_t *comm, int *priority)
{
    mca_coll_ivm_component_t *c = &mca_coll_ivm_component;
    mca_coll_ivm_module_t *m;

    if (c->priority < 0) {
        return decline(comm, "coll_ivm_priority is negative");
    }
    if (OMPI_COMM_IS_INTER(comm)) {
        return decline(comm, "intercommunicator");
    }
    if (ompi_comm_size(comm) < 2) {
        return decline(comm, "fewer than two ranks");
    }
    m = OBJ_NEW(mca_coll_ivm_module_t);
    if (NULL == m) {
        return decline(comm, "out of memory");
    }
    int largest = build_topology(m, comm);
    if (largest < 0) {
        OBJ_RELEASE(m);
        return decline(comm, "out of memory");
    }
    if (largest < 2) {
        OBJ_RELEASE(m);
        return decline(comm, "no two of its ranks share an ivm region");
    }
    set_functions(m);
    *priority = c->priority;
    if (1 == m->ngroups) {
        COLL_IVM_VERBOSE(1,
                         "coll:ivm: communicator %s (cid %d, size %d): served flat, all "
                         "ranks share one ivm region",
                         comm->c_name, COLL_IVM_COMM_CID(comm), m->size);
    } else {
        COLL_IVM_VERBOSE(1,
                         "coll:ivm: communicator %s (cid %d, size %d): served "
                         "hierarchically, %d groups (largest %d ranks), ranks%s in blocks",
                         comm->c_name, COLL_IVM_COMM_CID(comm), m->size, m->ngroups, largest,
                         m->contiguous ? "" : " not");
    }
    return &m->super;
}
