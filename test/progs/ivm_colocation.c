/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Integration probe of the device layer inside a real MPI job: every rank
 * attaches through libmca_common_ivm exactly as the ivm components do,
 * ranks exchange their modex blobs (over MPI_Allgather, standing in for the
 * PMIx modex), and rank 0 prints, per rank, its host and region id, and for
 * every pair whether the device layer counts them as co-located.
 *
 *   ivm_colocation [--hold SECONDS]
 *
 * Output lines (parsed by test/integration/device_*.sh):
 *   rank R host H region ID job J slot S
 *   pair A B colocated|separate
 * Exit status 3 when a rank could not attach. */

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opal/util/proc.h"
#include "common_ivm.h"

struct rank_info {
    char host[64];
    char region[2 * IVM_ID_LEN + 1];
    int attached;
    unsigned job, slot;
    mca_common_ivm_modex_t blob;
    unsigned long blob_len;
};

int main(int argc, char **argv)
{
    int rank, size, hold = 0;
    struct rank_info me, *all;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    if (argc > 2 && 0 == strcmp(argv[1], "--hold")) {
        hold = atoi(argv[2]);
    }
    memset(&me, 0, sizeof(me));
    gethostname(me.host, sizeof(me.host) - 1);
    mca_common_ivm_register(NULL);
    me.attached = (0 == mca_common_ivm_init(true)) && mca_common_ivm_device_count() > 0;
    if (me.attached) {
        mca_common_ivm_device_t *d = mca_common_ivm_device_get(0);
        size_t len;
        ivm_hex(d->region.region_id, IVM_ID_LEN, me.region);
        me.job = d->member.job;
        me.slot = d->member.slot;
        mca_common_ivm_modex_pack(&me.blob, &len);
        me.blob_len = len;
    } else {
        strcpy(me.region, "none");
    }
    all = calloc((size_t) size, sizeof(*all));
    MPI_Allgather(&me, sizeof(me), MPI_BYTE, all, sizeof(me), MPI_BYTE, MPI_COMM_WORLD);

    /* each rank judges every peer from the peer's blob, like add_procs */
    char *verdict = calloc((size_t) size, 1), *verdicts = calloc((size_t) size * size, 1);
    for (int p = 0; p < size; p++) {
        int dev;
        mca_common_ivm_modex_entry_t e;
        verdict[p] = me.attached && all[p].attached
                     && 0 == mca_common_ivm_modex_locate(&all[p].blob, all[p].blob_len, &dev, &e);
    }
    MPI_Gather(verdict, size, MPI_CHAR, verdicts, size, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (0 == rank) {
        for (int p = 0; p < size; p++) {
            printf("rank %d host %s region %s job %u slot %u\n", p, all[p].host, all[p].region,
                   all[p].job, all[p].slot);
        }
        for (int a = 0; a < size; a++) {
            for (int b = a + 1; b < size; b++) {
                /* co-located only if both sides see the other's proof */
                int ok = verdicts[a * size + b] && verdicts[b * size + a];
                printf("pair %d %d %s\n", a, b, ok ? "colocated" : "separate");
            }
        }
        fflush(stdout);
    }
    if (hold > 0) {
        sleep((unsigned) hold);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    mca_common_ivm_fini();
    int attached_all, mine = me.attached;
    MPI_Allreduce(&mine, &attached_all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Finalize();
    return attached_all ? 0 : 3;
}
