/* SPDX-License-Identifier: BSD-3-Clause */
/* MPI_Init + one MPI_Allreduce over all ranks + MPI_Finalize.  ivm
 * capacity reproducer (MPICH's datatype/darray_pack 72): on ivm-vmsim's
 * default 64 MiB device (job partition 16 MiB) 36 ranks work and 40 fail in
 * MPI_Init ("ivm could not allocate its fragments in the job's partition",
 * then "unable to reach"); vader runs 72.
 *
 *   mpicc -o /var/cache/ivm-mpich/nranks nranks.c
 *   contrib/ivm-vmsim run --vms 2 -- sh -c 'ivm-vmsim mpirun -- -np 40 \
 *       --oversubscribe --map-by node --mca pml ob1 --mca btl ivm,self \
 *       /var/cache/ivm-mpich/nranks'
 */
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    int rank, size, one = 1, sum = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&one, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (0 == rank) printf("%d ranks: sum %d %s\n", size, sum, sum == size ? "ok" : "WRONG");
    MPI_Finalize();
    return sum == size ? 0 : 1;
}
