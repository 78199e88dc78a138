/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* coll_pvar_after: coll/ivm's MPI_T counters stay safe to read when the
 * component is gone.  A handle on coll_ivm_barrier_calls is read while MPI
 * runs and again after MPI_Finalize, when Open MPI has closed and unloaded
 * every coll component.  The second read must return an error code or a
 * value, never crash.  With coll_ivm_priority < 0 the component is
 * unloaded during MPI_Init (init_query fails): the variable must then be
 * unusable, again without a crash.  Prints
 * "PVAR,<handle|no-handle>,<during>,<after-rc>,<after-value>".
 *
 * The program ends with _exit() instead of MPI_T_finalize(): in Open MPI
 * 4.1.4 MPI_T_finalize() after MPI_Finalize() crashes in
 * opal_finalize_util() (a dangling close function of an unloaded
 * component), with or without any ivm component installed. */

#include <mpi.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int provided, idx, count, rc, rank;
    unsigned long long during = 0, after = 0;
    MPI_T_pvar_session session;
    MPI_T_pvar_handle h;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);
    MPI_T_pvar_session_create(&session);
    rc = MPI_T_pvar_get_index("coll_ivm_barrier_calls", MPI_T_PVAR_CLASS_COUNTER, &idx);
    int have =
        MPI_SUCCESS == rc && MPI_SUCCESS == MPI_T_pvar_handle_alloc(session, idx, NULL, &h, &count);
    MPI_Barrier(MPI_COMM_WORLD);
    if (have && MPI_SUCCESS != MPI_T_pvar_read(session, h, &during)) {
        fprintf(stderr, "reading the counter while MPI runs failed\n");
        return 1;
    }
    MPI_Finalize();
    int rc_after = have ? MPI_T_pvar_read(session, h, &after) : -1;
    if (0 == rank) {
        printf("PVAR,%s,%llu,%d,%llu\n", have ? "handle" : "no-handle", during, rc_after, after);
    }
    fflush(stdout);
    _exit(0);
}
