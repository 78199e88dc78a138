/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* A hostile or broken peer, for test/integration/btl_hostile.sh.  Rank 0
 * waits for a message from rank 1; rank 1, instead of sending it, does what
 * the mode says:
 *   ring   push an offset outside the job partition into rank 0's ring
 *   length announce a message whose length runs past the job partition
 *   slot   announce a message from a slot that is not in the job
 *   exit   leave without MPI_Finalize
 * btl/ivm in rank 0 must end the job with a clear error, never hang or
 * read outside the region.  Exit status 0 would mean the attack went
 * unnoticed. */

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opal/util/proc.h"
#include "common_ivm.h"
#include "common_ivm_ring.h"

static void push_to_rank0(uint64_t value)
{
    mca_common_ivm_device_t *d;
    mca_common_ivm_modex_entry_t e;
    opal_process_name_t rank0 = OPAL_PROC_MY_NAME;
    uint64_t ring_off;
    ivm_ring_handle_t ring;
    int dev;

    rank0.vpid = 0;
    if (0 != mca_common_ivm_init(false) || 0 != mca_common_ivm_peer_locate(&rank0, &dev, &e)) {
        fprintf(stderr, "hostile: rank 0 is not reachable through ivm\n");
        exit(2);
    }
    d = mca_common_ivm_device_get(dev);
    if (IVM_OK != ivm_slot_user_get(&d->region, e.slot, e.job, e.job_gen, 0, &ring_off)
        || IVM_OK != ivm_ring_attach(&d->region, ring_off, d->member.part_off,
                                     d->member.part_off + d->member.part_size, &ring)
        || IVM_OK != ivm_ring_push(&ring, value)) {
        fprintf(stderr, "hostile: cannot reach rank 0's ring: %s\n", d->region.errmsg);
        exit(2);
    }
}

/* A message header in the job heap, as a sender would write it. */
static uint64_t forged_message(uint32_t src_slot, uint32_t len)
{
    mca_common_ivm_device_t *d = mca_common_ivm_device_get(0);
    uint64_t off;
    if (IVM_OK != ivm_heap_alloc(&d->heap, 4096, 64, &off)) {
        fprintf(stderr, "hostile: no heap memory\n");
        exit(2);
    }
    struct ivm_msg_hdr *h = (struct ivm_msg_hdr *) (d->region.map.base + off);
    memset(h, 0, sizeof(*h));
    h->src_slot = src_slot;
    h->len = len;
    h->tag = 0x41; /* a PML tag: would be delivered if it were valid */
    return off;
}

int main(int argc, char **argv)
{
    int rank, size, data = 0;
    const char *mode = argc > 1 ? argv[1] : "ring";

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* one real exchange first, so that both sides are set up */
    if (0 == rank) {
        MPI_Recv(&data, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (1 == rank) {
        MPI_Send(&data, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    }
    if (0 == rank) {
        MPI_Recv(&data, 1, MPI_INT, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        printf("hostile: rank 0 received a message it should not have\n");
        MPI_Finalize();
        return 0;
    }
    if (1 == rank) {
        mca_common_ivm_device_t *d;
        if (0 == strcmp(mode, "exit")) {
            _exit(0);
        }
        mca_common_ivm_register(NULL);
        if (0 != mca_common_ivm_init(false)) {
            fprintf(stderr, "hostile: no device\n");
            exit(2);
        }
        d = mca_common_ivm_device_get(0);
        if (0 == strcmp(mode, "ring")) {
            push_to_rank0(d->member.part_off + d->member.part_size + 4096);
        } else if (0 == strcmp(mode, "length")) {
            push_to_rank0(forged_message(d->member.slot, 1u << 30));
        } else if (0 == strcmp(mode, "slot")) {
            push_to_rank0(forged_message(d->region.layout.slot_count + 7, 4));
        } else {
            fprintf(stderr, "hostile: unknown mode %s\n", mode);
            exit(2);
        }
        printf("hostile: rank 1 attacked with '%s'\n", mode);
        fflush(stdout);
        sleep(60); /* rank 0 must end the job long before this */
    }
    MPI_Finalize();
    return 0;
}
