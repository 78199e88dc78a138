/* SPDX-License-Identifier: BSD-3-Clause */
/* ivm reproducer (found by MPICH's rma tests, e.g. fetch_and_op_int 3):
 * 3 ranks over 2 VMs (--map-by node: ranks 0 and 2 in vm0, rank 1 in vm1),
 * btl ivm,self.  MPI_Win_create on malloc'd memory, then each rank takes an
 * exclusive lock on rank (rank+1)%3 and releases it.  Segfaulted in
 * ompi_osc_rdma_lock_atomic (address 0x8) over ivm until btl/ivm gave a
 * process an endpoint to itself (79905c3: osc/rdma reaches its own state,
 * and a node leader's rank-to-node table, through it); passed with 2
 * ranks, with 3 ranks inside one VM over ivm,self, and over vader.  The
 * same case runs in CI as btl_rma's rdma-mixed.
 *
 *   mpicc -o /var/cache/ivm-mpich/lock_remote lock_remote.c
 *   contrib/ivm-vmsim run --vms 2 -- sh -c 'ivm-vmsim mpirun -- -np 3 \
 *       --oversubscribe --map-by node --mca pml ob1 --mca btl ivm,self \
 *       /var/cache/ivm-mpich/lock_remote'
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv)
{
    int rank, nproc, target;
    MPI_Win win;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nproc);
    int *val = calloc(nproc, sizeof(int));
    MPI_Win_create(val, sizeof(int) * nproc, sizeof(int), MPI_INFO_NULL, MPI_COMM_WORLD, &win);
    target = (rank + 1) % nproc;
    MPI_Win_lock(MPI_LOCK_EXCLUSIVE, target, 0, win);
    MPI_Win_unlock(target, win);
    MPI_Win_free(&win);
    MPI_Barrier(MPI_COMM_WORLD);
    if (0 == rank) printf("No Errors\n");
    MPI_Finalize();
    return 0;
}
