/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* coll_stall SECONDS: rank 1 sleeps SECONDS before MPI_Barrier; every rank
 * prints how long its barrier took and whether it returned an error
 * (MPI_ERRORS_RETURN), as "STALL,<rank>,<ok|error>,<seconds>".  Used to
 * check that coll/ivm's waits are bounded by coll_ivm_timeout, and that a
 * long but legitimate wait succeeds when no timeout is set. */

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int rank, rc;
    double delay = argc > 1 ? atof(argv[1]) : 4.0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Barrier(MPI_COMM_WORLD); /* set up, and everyone is here */
    if (1 == rank) {
        usleep((useconds_t) (delay * 1e6));
    }
    double t0 = now();
    rc = MPI_Barrier(MPI_COMM_WORLD);
    printf("STALL,%d,%s,%.2f\n", rank, MPI_SUCCESS == rc ? "ok" : "error", now() - t0);
    fflush(stdout);
    MPI_Finalize();
    return 0;
}
