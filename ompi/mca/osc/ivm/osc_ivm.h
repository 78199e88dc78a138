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

/**
 * @file
 *
 * osc/ivm: MPI one-sided communication for windows whose ranks all share
 * one ivm region, in whichever VMs they run.  The window's memory
 * (MPI_Win_allocate, MPI_Win_allocate_shared) or the user's memory in the
 * region (MPI_Alloc_mem with the ivm hint, then MPI_Win_create) is
 * accessed by the origin with loads, stores and CPU atomics; the target
 * process never takes part.  Synchronisation words live in the window's
 * area in the job heap (common_ivm_layout_osc.h).
 *
 * Structure
 *  - osc_ivm_component.c  parameters, MPI_T counters, device attachment
 *  - osc_ivm_query.c      which windows osc/ivm takes: the co-location
 *                         proof, the agreement of all ranks, the area
 *  - osc_ivm_module.c     the module: creation from the agreed area,
 *                         shared_query, free
 *  - osc_ivm_wait.c       bounded, liveness-checked waits
 *  - osc_ivm_sync.c       fence, post/start/complete/wait, locks, flush
 *  - osc_ivm_comm.c       put and get (and their request forms)
 *  - osc_ivm_accumulate.c accumulate, get_accumulate, fetch_and_op,
 *                         compare_and_swap
 */

#ifndef MCA_OSC_IVM_H
#define MCA_OSC_IVM_H

#include "ompi_config.h"

#include "mpi.h"
#include "ompi/communicator/communicator.h"
#include "ompi/datatype/ompi_datatype.h"
#include "ompi/group/group.h"
#include "ompi/mca/osc/osc.h"
#include "ompi/win/win.h"
#include "opal/mca/common/ivm/common_ivm.h"
#include "opal/mca/common/ivm/common_ivm_ompi_version.h"
#include "opal/util/output.h"

#include "osc_ivm_version.h"

BEGIN_C_DECLS

/** Operation kinds, for the MPI_T counters. */
enum {
    OSC_IVM_PUT,
    OSC_IVM_GET,
    OSC_IVM_ACC,
    OSC_IVM_GET_ACC,
    OSC_IVM_FOP,
    OSC_IVM_CAS,
    OSC_IVM_NOPS
};

/** MPI_T counters (allocated once, never freed: see coll/ivm's reason). */
typedef struct osc_ivm_counters {
    unsigned long long ops[OSC_IVM_NOPS];
    unsigned long long bytes[OSC_IVM_NOPS];
    unsigned long long windows;  /**< windows created by osc/ivm */
    unsigned long long declined; /**< windows osc/ivm declined */
    unsigned long long locks;    /**< passive-target locks taken */
    unsigned long long syncs;    /**< fences and PSCW epochs */
} osc_ivm_counters_t;

/** An area agreed and allocated in query, waiting for select. */
typedef struct osc_ivm_pending {
    struct ompi_win_t *win; /**< the window it was made for (NULL: none) */
    uint64_t area_off;      /**< region offset of the area */
    uint8_t *area;          /**< the area in our mapping */
    bool owner;             /**< this rank allocated it (rank 0) */
    int flavor;
    struct osc_ivm_geom geom;
    int n, me;
    struct osc_ivm_peer *peer; /**< every rank: segment, liveness proof */
} osc_ivm_pending_t;

typedef struct mca_osc_ivm_component_t {
    osc_ivm_base_component_t super;

    /* parameters */
    int priority;
    int verbose;
    int liveness_interval_ms; /**< how often a long wait checks the peers */
    int timeout;              /**< seconds a wait may last (0: no own limit) */
    double heap_fraction;     /**< share of the job heap windows may fill */

    /* state */
    int output;
    bool attached;  /**< mca_common_ivm_init succeeded */
    bool params_ok; /**< the parameters passed their checks */
    osc_ivm_counters_t *counters;
    osc_ivm_pending_t pending;
} mca_osc_ivm_component_t;

OSC_IVM_MODULE_DECLSPEC extern mca_osc_ivm_component_t mca_osc_ivm_component;

#define OSC_IVM_VERBOSE(level, ...)                                                          \
    do {                                                                                     \
        if (mca_osc_ivm_component.verbose >= (level) && mca_osc_ivm_component.output >= 0) { \
            opal_output_verbose((level), mca_osc_ivm_component.output, __VA_ARGS__);         \
        }                                                                                    \
    } while (0)

/** One rank of the window as seen by this process. */
typedef struct osc_ivm_peer {
    uint8_t *base; /**< its segment in our mapping (NULL when size 0) */
    uint64_t size;
    int disp_unit;
    uint32_t slot, slot_gen; /**< its process's slot in the region */
    uint64_t nonce;
    ivm_lease_watch_t lease; /**< its lease, as our waits have seen it */
} osc_ivm_peer_t;

/** Passive-target state of this rank towards one target. */
enum { OSC_IVM_UNLOCKED = 0, OSC_IVM_LOCK_SHARED, OSC_IVM_LOCK_EXCL, OSC_IVM_LOCK_NOCHECK };

typedef struct ompi_osc_ivm_module_t {
    ompi_osc_base_module_t super;

    mca_common_ivm_device_t *dev;
    int n, me, flavor;
    uint8_t *area; /**< the window's area in our mapping */
    uint64_t area_off;
    struct osc_ivm_geom geom;
    osc_ivm_peer_t *peer;
    bool broken; /**< a wait failed: the window is unusable */

    /* active target */
    uint64_t fences;             /**< fences this rank entered */
    uint32_t *posts_seen;        /**< per target: posts consumed by start */
    uint64_t completes_expected; /**< completes our waits have consumed */
    int *start_ranks, nstart;    /**< targets of the access epoch */
    int npost;                   /**< origins of the exposure epoch (-1: none) */

    /* passive target */
    uint8_t *lock_state; /**< per target: OSC_IVM_UNLOCKED... */
    int nlocks;          /**< targets we hold a lock on */
    bool lock_all;
} ompi_osc_ivm_module_t;

static inline ompi_osc_ivm_module_t *osc_ivm_module(struct ompi_win_t *win)
{
    return (ompi_osc_ivm_module_t *) win->w_osc_module;
}

static inline struct osc_ivm_rank_state *osc_ivm_state(ompi_osc_ivm_module_t *m, int rank)
{
    return (struct osc_ivm_rank_state *) (m->area + m->geom.state_off) + rank;
}

static inline struct osc_ivm_fence *osc_ivm_fence_line(ompi_osc_ivm_module_t *m)
{
    return (struct osc_ivm_fence *) (m->area + sizeof(struct osc_ivm_win_hdr));
}

static inline _Atomic uint32_t *osc_ivm_post_word(ompi_osc_ivm_module_t *m, int origin, int target)
{
    return (_Atomic uint32_t *) (m->area + m->geom.post_off) + (size_t) origin * m->n + target;
}

static inline void osc_ivm_count(int kind, size_t bytes)
{
    mca_osc_ivm_component.counters->ops[kind]++;
    mca_osc_ivm_component.counters->bytes[kind] += bytes;
}

/* component / query */
int mca_osc_ivm_query(struct ompi_win_t *win, void **base, size_t size, int disp_unit,
                      struct ompi_communicator_t *comm, struct opal_info_t *info, int flavor);
void mca_osc_ivm_pending_release(void);

/* module */
int mca_osc_ivm_select(struct ompi_win_t *win, void **base, size_t size, int disp_unit,
                       struct ompi_communicator_t *comm, struct opal_info_t *info, int flavor,
                       int *model);
int ompi_osc_ivm_shared_query(struct ompi_win_t *win, int rank, size_t *size, int *disp_unit,
                              void *baseptr);
int ompi_osc_ivm_attach(struct ompi_win_t *win, void *base, size_t len);
int ompi_osc_ivm_detach(struct ompi_win_t *win, const void *base);
int ompi_osc_ivm_free(struct ompi_win_t *win);

/* waits */
/** Wait until *@word (64-bit) >= @target.  The peers of the window are
 * checked for liveness meanwhile; @what names the wait in errors. */
int osc_ivm_wait_ge64(ompi_osc_ivm_module_t *m, _Atomic uint64_t *word, uint64_t target,
                      const char *what);
int osc_ivm_wait_ge32(ompi_osc_ivm_module_t *m, _Atomic uint32_t *word, uint32_t target,
                      const char *what);
/** One round of a longer wait (a lock): progress, pacing, and every
 * liveness interval a check of the peers.  @start_ns/@next_ns: state the
 * caller keeps (zero-initialised).  OMPI_SUCCESS or an error. */
int osc_ivm_wait_round(ompi_osc_ivm_module_t *m, unsigned round, uint64_t *start_ns,
                       uint64_t *next_ns, const char *what);

/* synchronisation */
/** Barrier of the window's ranks in the region (fence, free). */
int osc_ivm_barrier(ompi_osc_ivm_module_t *m, const char *what);
int ompi_osc_ivm_fence(int mpi_assert, struct ompi_win_t *win);
int ompi_osc_ivm_start(struct ompi_group_t *group, int mpi_assert, struct ompi_win_t *win);
int ompi_osc_ivm_complete(struct ompi_win_t *win);
int ompi_osc_ivm_post(struct ompi_group_t *group, int mpi_assert, struct ompi_win_t *win);
int ompi_osc_ivm_wait(struct ompi_win_t *win);
int ompi_osc_ivm_test(struct ompi_win_t *win, int *flag);
int ompi_osc_ivm_lock(int lock_type, int target, int mpi_assert, struct ompi_win_t *win);
int ompi_osc_ivm_unlock(int target, struct ompi_win_t *win);
int ompi_osc_ivm_lock_all(int mpi_assert, struct ompi_win_t *win);
int ompi_osc_ivm_unlock_all(struct ompi_win_t *win);
int ompi_osc_ivm_sync(struct ompi_win_t *win);
int ompi_osc_ivm_flush(int target, struct ompi_win_t *win);
int ompi_osc_ivm_flush_all(struct ompi_win_t *win);
int ompi_osc_ivm_flush_local(int target, struct ompi_win_t *win);
int ompi_osc_ivm_flush_local_all(struct ompi_win_t *win);
/** Take / release the accumulate lock of @target. */
int osc_ivm_acc_lock(ompi_osc_ivm_module_t *m, int target);
void osc_ivm_acc_unlock(ompi_osc_ivm_module_t *m, int target);

/* communication */
/** Address of [disp, disp + len) of @target's segment, or NULL when it is
 * outside (the MPI_ERR_RMA_RANGE case). */
uint8_t *osc_ivm_target_ptr(ompi_osc_ivm_module_t *m, int target, ptrdiff_t disp,
                            struct ompi_datatype_t *dt, int count);

int ompi_osc_ivm_put(const void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                     int target, ptrdiff_t target_disp, int target_count,
                     struct ompi_datatype_t *target_dt, struct ompi_win_t *win);
int ompi_osc_ivm_get(void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                     int target, ptrdiff_t target_disp, int target_count,
                     struct ompi_datatype_t *target_dt, struct ompi_win_t *win);
int ompi_osc_ivm_rput(const void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                      int target, ptrdiff_t target_disp, int target_count,
                      struct ompi_datatype_t *target_dt, struct ompi_win_t *win,
                      struct ompi_request_t **request);
int ompi_osc_ivm_rget(void *origin_addr, int origin_count, struct ompi_datatype_t *origin_dt,
                      int target, ptrdiff_t target_disp, int target_count,
                      struct ompi_datatype_t *target_dt, struct ompi_win_t *win,
                      struct ompi_request_t **request);
int ompi_osc_ivm_accumulate(const void *origin_addr, int origin_count,
                            struct ompi_datatype_t *origin_dt, int target, ptrdiff_t target_disp,
                            int target_count, struct ompi_datatype_t *target_dt,
                            struct ompi_op_t *op, struct ompi_win_t *win);
int ompi_osc_ivm_raccumulate(const void *origin_addr, int origin_count,
                             struct ompi_datatype_t *origin_dt, int target, ptrdiff_t target_disp,
                             int target_count, struct ompi_datatype_t *target_dt,
                             struct ompi_op_t *op, struct ompi_win_t *win,
                             struct ompi_request_t **request);
int ompi_osc_ivm_get_accumulate(const void *origin_addr, int origin_count,
                                struct ompi_datatype_t *origin_dt, void *result_addr,
                                int result_count, struct ompi_datatype_t *result_dt, int target,
                                ptrdiff_t target_disp, int target_count,
                                struct ompi_datatype_t *target_dt, struct ompi_op_t *op,
                                struct ompi_win_t *win);
int ompi_osc_ivm_rget_accumulate(const void *origin_addr, int origin_count,
                                 struct ompi_datatype_t *origin_dt, void *result_addr,
                                 int result_count, struct ompi_datatype_t *result_dt, int target,
                                 ptrdiff_t target_disp, int target_count,
                                 struct ompi_datatype_t *target_dt, struct ompi_op_t *op,
                                 struct ompi_win_t *win, struct ompi_request_t **request);
int ompi_osc_ivm_fetch_and_op(const void *origin_addr, void *result_addr,
                              struct ompi_datatype_t *dt, int target, ptrdiff_t target_disp,
                              struct ompi_op_t *op, struct ompi_win_t *win);
int ompi_osc_ivm_compare_and_swap(const void *origin_addr, const void *compare_addr,
                                  void *result_addr, struct ompi_datatype_t *dt, int target,
                                  ptrdiff_t target_disp, struct ompi_win_t *win);

END_C_DECLS

#endif /* MCA_OSC_IVM_H */
