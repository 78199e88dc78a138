/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_pvar.h: read btl/ivm's MPI_T performance variables (counters of what
 * this process sent through ivm) and a few helpers shared by the ivm test
 * programs (where every rank runs, which peers are in another VM).
 *
 * Header only; include it from one .c file.  Call ivm_pvar_init() after
 * MPI_Init; ivm_pvar_read() then fills a snapshot.  btl_ivm_emulated_operations
 * is optional (newer btl/ivm): without it ivm_pv_have[IVM_PV_EMU_OPS] is 0
 * and it reads as 0.  The counters are
 * "continuous": they count from process start and need no start/stop, so
 * a phase's traffic is the difference of two snapshots.
 */
#ifndef IVM_PVAR_H
#define IVM_PVAR_H

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    IVM_PV_FBOX_MSGS,
    IVM_PV_FBOX_BYTES,
    IVM_PV_QUEUE_MSGS,
    IVM_PV_QUEUE_BYTES,
    IVM_PV_SC_OPS,
    IVM_PV_SC_BYTES,
    IVM_PV_ATOMIC_OPS,
    IVM_PV_EMU_OPS, /* optional: btl/ivm since 62da411 */
    IVM_PV_COUNT
};
#define IVM_PV_FIRST_OPTIONAL IVM_PV_EMU_OPS

static const char *const ivm_pvar_names[IVM_PV_COUNT] = {
    "btl_ivm_fbox_messages",          "btl_ivm_fbox_bytes",
    "btl_ivm_ring_messages",          "btl_ivm_ring_bytes",
    "btl_ivm_single_copy_operations", "btl_ivm_single_copy_bytes",
    "btl_ivm_atomic_operations",      "btl_ivm_emulated_operations",
};

typedef struct {
    unsigned long long v[IVM_PV_COUNT];
} ivm_pv_t;

static MPI_T_pvar_session ivm_pv_session;
static MPI_T_pvar_handle ivm_pv_handle[IVM_PV_COUNT];
static int ivm_pv_have[IVM_PV_COUNT];
static int ivm_pv_ok;

/* 0 when every counter could be bound; else prints why and returns -1. */
static int ivm_pvar_init(void)
{
    int provided, n, rc;
    if (MPI_SUCCESS != MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)) {
        fprintf(stderr, "ivm_pvar: MPI_T_init_thread failed\n");
        return -1;
    }
    if (MPI_SUCCESS != MPI_T_pvar_session_create(&ivm_pv_session)) {
        fprintf(stderr, "ivm_pvar: MPI_T_pvar_session_create failed\n");
        return -1;
    }
    for (int i = 0; i < IVM_PV_COUNT; i++) {
        int idx;
        rc = MPI_T_pvar_get_index(ivm_pvar_names[i], MPI_T_PVAR_CLASS_COUNTER, &idx);
        if (MPI_SUCCESS != rc && i >= IVM_PV_FIRST_OPTIONAL) {
            continue; /* an older btl/ivm: reads as 0, ivm_pv_have[i] == 0 */
        }
        if (MPI_SUCCESS != rc) {
            fprintf(stderr, "ivm_pvar: no performance variable %s (rc %d): is btl/ivm loaded?\n",
                    ivm_pvar_names[i], rc);
            return -1;
        }
        rc = MPI_T_pvar_handle_alloc(ivm_pv_session, idx, NULL, &ivm_pv_handle[i], &n);
        if (MPI_SUCCESS != rc || 1 != n) {
            fprintf(stderr, "ivm_pvar: cannot bind %s (rc %d, count %d)\n", ivm_pvar_names[i], rc,
                    n);
            return -1;
        }
        ivm_pv_have[i] = 1;
    }
    ivm_pv_ok = 1;
    return 0;
}

static void ivm_pvar_read(ivm_pv_t *out)
{
    memset(out, 0, sizeof(*out));
    for (int i = 0; ivm_pv_ok && i < IVM_PV_COUNT; i++) {
        if (ivm_pv_have[i]
            && MPI_SUCCESS != MPI_T_pvar_read(ivm_pv_session, ivm_pv_handle[i], &out->v[i])) {
            fprintf(stderr, "ivm_pvar: MPI_T_pvar_read(%s) failed\n", ivm_pvar_names[i]);
        }
    }
}

static void ivm_pvar_fini(void)
{
    if (ivm_pv_ok) {
        for (int i = 0; i < IVM_PV_COUNT; i++) {
            if (ivm_pv_have[i]) {
                MPI_T_pvar_handle_free(ivm_pv_session, &ivm_pv_handle[i]);
            }
        }
        MPI_T_pvar_session_free(&ivm_pv_session);
        ivm_pv_ok = 0;
    }
    MPI_T_finalize();
}

/* b - a, counter by counter */
static inline ivm_pv_t ivm_pv_diff(const ivm_pv_t *b, const ivm_pv_t *a)
{
    ivm_pv_t d;
    for (int i = 0; i < IVM_PV_COUNT; i++) {
        d.v[i] = b->v[i] - a->v[i];
    }
    return d;
}

/* messages that went through ivm by send/receive (fast box or ring) */
static inline unsigned long long ivm_pv_sends(const ivm_pv_t *d)
{
    return d->v[IVM_PV_FBOX_MSGS] + d->v[IVM_PV_QUEUE_MSGS];
}

static inline void ivm_pv_format(const ivm_pv_t *d, char *buf, size_t len)
{
    snprintf(buf, len,
             "fbox=%llu/%lluB ring=%llu/%lluB single_copy=%llu/%lluB atomic=%llu emulated=%llu",
             d->v[IVM_PV_FBOX_MSGS], d->v[IVM_PV_FBOX_BYTES], d->v[IVM_PV_QUEUE_MSGS],
             d->v[IVM_PV_QUEUE_BYTES], d->v[IVM_PV_SC_OPS], d->v[IVM_PV_SC_BYTES],
             d->v[IVM_PV_ATOMIC_OPS], d->v[IVM_PV_EMU_OPS]);
}

/* ---- placement: which VM (host name) every rank runs in ---- */

typedef struct {
    int rank, size;
    int *vm; /* vm[r]: index of rank r's host among the distinct hosts */
    int nvms;
    char host[MPI_MAX_PROCESSOR_NAME];
} ivm_place_t;

static void ivm_place_init(ivm_place_t *p)
{
    char *all;
    int len;
    MPI_Comm_rank(MPI_COMM_WORLD, &p->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &p->size);
    memset(p->host, 0, sizeof(p->host));
    MPI_Get_processor_name(p->host, &len);
    all = calloc((size_t) p->size, MPI_MAX_PROCESSOR_NAME);
    p->vm = calloc((size_t) p->size, sizeof(int));
    if (NULL == all || NULL == p->vm) {
        fprintf(stderr, "out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Allgather(p->host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME, MPI_CHAR,
                  MPI_COMM_WORLD);
    p->nvms = 0;
    for (int r = 0; r < p->size; r++) {
        p->vm[r] = -1;
        for (int q = 0; q < r; q++) {
            if (0
                == strcmp(all + (size_t) q * MPI_MAX_PROCESSOR_NAME,
                          all + (size_t) r * MPI_MAX_PROCESSOR_NAME)) {
                p->vm[r] = p->vm[q];
                break;
            }
        }
        if (p->vm[r] < 0) {
            p->vm[r] = p->nvms++;
        }
    }
    free(all);
}

/* Is rank @r in another VM than rank @s? */
static inline int ivm_cross(const ivm_place_t *p, int r, int s)
{
    return p->vm[r] != p->vm[s];
}

#endif /* IVM_PVAR_H */
