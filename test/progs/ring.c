/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ring: pass a token around all ranks with MPI_Send/MPI_Recv for a few laps,
 * with MPI_Barrier between laps.  Each rank adds (rank + 1) to the token, so
 * rank 0 can check the final value.  Exit status: 0 if the token is right,
 * 1 on a mismatch (rank 0 reports it).  Used by the ivm integration tests to
 * prove that a transport (btl) can or cannot carry traffic between ranks.
 *
 * Usage: ring [LAPS]   (default 10)
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int rank, size, lap, laps = 10, ok = 1;
    long token = 0, expect;
    char host[MPI_MAX_PROCESSOR_NAME];
    int hostlen;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Get_processor_name(host, &hostlen);
    if (argc > 1) {
        laps = atoi(argv[1]);
        if (laps < 1) {
            laps = 1;
        }
    }

    for (lap = 0; lap < laps; lap++) {
        if (size == 1) {
            token += 1;
        } else if (rank == 0) {
            token += 1;
            MPI_Send(&token, 1, MPI_LONG, 1, lap, MPI_COMM_WORLD);
            MPI_Recv(&token, 1, MPI_LONG, size - 1, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(&token, 1, MPI_LONG, rank - 1, lap, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            token += rank + 1;
            MPI_Send(&token, 1, MPI_LONG, (rank + 1) % size, lap, MPI_COMM_WORLD);
        }
        MPI_Barrier(MPI_COMM_WORLD);
    }

    if (rank == 0) {
        /* each lap adds 1 + 2 + ... + size */
        expect = (long) laps * size * (size + 1) / 2;
        if (token != expect) {
            fprintf(stderr, "ring: token mismatch: got %ld, expected %ld\n", token, expect);
            ok = 0;
        } else {
            printf("ring: %d ranks, %d laps, token %ld OK (rank 0 on %s)\n", size, laps, token,
                   host);
        }
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return ok ? 0 : 1;
}
