/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* A hostile or broken peer, for test/integration/btl_hostile.sh.  Rank 0
 * waits for a message from rank 1; rank 1, instead of sending it, does what
 * the mode says:
 *   ring   push an offset outside the job partition into rank 0's ring
 *   length announce a message whose length runs past the job partition
 *   slot   announce a message from a slot that is not in the job
 *   exit   leave without MPI_Finalize
 *   return-twice  take rank 0's next message off rank 1's own ring and
 *          hand the fragment back twice
 *   emu-offset    answer rank 0's emulated RMA get (btl/ivm's
 *          active-message RMA on ordinary memory) with data for an offset
 *          far outside rank 0's buffer
 *   emu-twice     answer the first chunk of a two-chunk get twice
 *   emu-silent    stop (SIGSTOP: as if its VM were paused) instead of
 *          answering: rank 0's wait for the reply must end when rank 1's
 *          lease expires (run it with a short opal_common_ivm_lease)
 * btl/ivm in rank 0 must end the job with a clear error, never hang, crash
 * or write outside the region or its own buffers.  Exit status 0 would
 * mean the attack went unnoticed. */

#include "ompi_config.h"

#include <mpi.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "opal/runtime/opal_progress.h"
#include "opal/util/proc.h"
#include "common_ivm.h"
#include "common_ivm_ring.h"

#include "ivm_bml.h"

static void push_to_rank0(uint64_t value)
{
    static ivm_ring_handle_t ring;
    static int attached;
    if (attached) {
        if (IVM_OK != ivm_ring_push(&ring, value)) {
            fprintf(stderr, "hostile: rank 0's ring is full\n");
            exit(2);
        }
        return;
    }
    attached = 1;
    mca_common_ivm_device_t *d;
    mca_common_ivm_modex_entry_t e;
    opal_process_name_t rank0 = OPAL_PROC_MY_NAME;
    uint64_t ring_off;
    int dev;

    rank0.vpid = 0;
    if (0 != mca_common_ivm_init(false) || 0 != mca_common_ivm_peer_locate(&rank0, &dev, &e)) {
        fprintf(stderr, "hostile: rank 0 is not reachable through ivm\n");
        exit(2);
    }
    d = mca_common_ivm_device_get(dev);
    if (IVM_OK != ivm_slot_user_get(&d->region, e.slot, e.job, e.job_gen, 0, &ring_off)
        || IVM_OK
               != ivm_ring_attach(&d->region, ring_off, d->member.part_off,
                                  d->member.part_off + d->member.part_size, &ring)
        || IVM_OK != ivm_ring_push(&ring, value)) {
        fprintf(stderr, "hostile: cannot reach rank 0's ring: %s\n", d->region.errmsg);
        exit(2);
    }
}

/* A message in the job heap, as a sender would write it: the header
 * claims @len payload bytes, @room of which exist after it. */
static uint64_t forged_message_tag(uint32_t src_slot, uint32_t len, uint8_t tag, size_t room)
{
    mca_common_ivm_device_t *d = mca_common_ivm_device_get(0);
    uint64_t off;
    if (IVM_OK != ivm_heap_alloc(&d->heap, sizeof(struct ivm_msg_hdr) + room + 4096, 64, &off)) {
        fprintf(stderr, "hostile: no heap memory\n");
        exit(2);
    }
    struct ivm_msg_hdr *h = (struct ivm_msg_hdr *) (d->region.map.base + off);
    memset(h, 0, sizeof(*h));
    h->src_slot = src_slot;
    h->len = len;
    h->tag = tag;
    return off;
}

static uint64_t forged_message(uint32_t src_slot, uint32_t len)
{
    return forged_message_tag(src_slot, len, 0x41 /* a PML tag: delivered if valid */, 0);
}

/* The next fragment rank 0 posted to our own receive ring (which our
 * btl/ivm does not poll while we stay out of MPI calls); returns of our
 * own fragments on the way are skipped.  Its header is in rank 0's heap. */
static uint64_t intercept_from_rank0(void)
{
    mca_common_ivm_device_t *d = mca_common_ivm_device_get(0);
    ivm_ring_handle_t mine;
    uint64_t ring_off, v;
    if (IVM_OK
            != ivm_slot_user_get(&d->region, d->member.slot, d->member.job, d->member.job_gen, 0,
                                 &ring_off)
        || IVM_OK
               != ivm_ring_attach(&d->region, ring_off, d->member.part_off,
                                  d->member.part_off + d->member.part_size, &mine)) {
        fprintf(stderr, "hostile: cannot open my own ring: %s\n", d->region.errmsg);
        exit(2);
    }
    for (time_t end = time(NULL) + 30; time(NULL) < end;) {
        if (!ivm_ring_pop(&mine, &v)) {
            usleep(1000);
        } else if (0 == (v & IVM_RING_V_RETURN)) {
            return v;
        }
    }
    fprintf(stderr, "hostile: rank 0 sent nothing through my ring\n");
    exit(2);
}

/* return-twice: rank 1's part. */
static void return_twice(void)
{
    uint64_t off = intercept_from_rank0();
    push_to_rank0(off | IVM_RING_V_RETURN);
    push_to_rank0(off | IVM_RING_V_RETURN);
}

/* emu-*: rank 1's part.  Rank 0 got our registration and starts a get;
 * its request reaches our ring, and we answer it ourselves. */
static void forge_emu_reply(int twice)
{
    mca_common_ivm_device_t *d = mca_common_ivm_device_get(0);
    struct ivm_msg_hdr req_hdr;
    struct ivm_emu_req r;
    uint64_t off = intercept_from_rank0();
    memcpy(&req_hdr, d->region.map.base + off, sizeof(req_hdr));
    memcpy(&r, d->region.map.base + off + sizeof(req_hdr), sizeof(r));
    if (IVM_BTL_TAG_EMU_REQ != req_hdr.tag || IVM_EMU_GET != r.type) {
        fprintf(stderr, "hostile: rank 0's first message is not an RMA get (tag %u)\n",
                req_hdr.tag);
        exit(2);
    }
    struct ivm_emu_reply a = {.req = r.req, .gen = r.gen, .offset = r.offset, .len = r.len};
    if (!twice) {
        a.offset = 1ull << 40; /* far outside rank 0's buffer */
        a.len = 64;
    }
    for (int k = 0; k < 1 + twice; k++) {
        uint64_t m = forged_message_tag(d->member.slot, (uint32_t) (sizeof(a) + a.len),
                                        IVM_BTL_TAG_EMU_REPLY, sizeof(a) + a.len);
        uint8_t *body = d->region.map.base + m + sizeof(struct ivm_msg_hdr);
        memcpy(body, &a, sizeof(a));
        memset(body + sizeof(a), 0x5a, a.len);
        push_to_rank0(m);
    }
}

/* The ivm module and endpoint towards @peer, or exit. */
static void bml_or_exit(int peer, mca_btl_base_module_t **btl, struct mca_btl_base_endpoint_t **ep)
{
    if (0 != ivm_bml_find(peer, btl, ep)) {
        fprintf(stderr, "hostile: rank %d is not reached through btl/ivm\n", peer);
        exit(2);
    }
}

#define EMU_GET_SIZE (200 * 1024) /* two chunks with btl/ivm's default max_send_size */

struct emu_target {
    uint64_t base;
    uint8_t handle[256];
};

/* Rank 1 registers ordinary memory (emulated RMA) and tells rank 0 where,
 * without waiting for the send: our btl/ivm must not poll our ring. */
static void emu_offer(void)
{
    static struct emu_target t;
    static MPI_Request req;
    mca_btl_base_module_t *btl;
    struct mca_btl_base_endpoint_t *ep;
    bml_or_exit(0, &btl, &ep);
    void *mem = calloc(1, EMU_GET_SIZE);
    mca_btl_base_registration_handle_t *h = btl->btl_register_mem(
        btl, MCA_BTL_ENDPOINT_ANY, mem, EMU_GET_SIZE, MCA_BTL_REG_FLAG_ACCESS_ANY);
    if (NULL == h || btl->btl_registration_handle_size > sizeof(t.handle)) {
        fprintf(stderr, "hostile: btl/ivm does not register ordinary memory\n");
        exit(2);
    }
    t.base = (uint64_t) (uintptr_t) mem;
    memcpy(t.handle, h, btl->btl_registration_handle_size);
    MPI_Isend(&t, sizeof(t), MPI_BYTE, 0, 3, MPI_COMM_WORLD, &req);
}

static volatile int emu_done;

static void emu_cb(struct mca_btl_base_module_t *m, struct mca_btl_base_endpoint_t *ep, void *local,
                   struct mca_btl_base_registration_handle_t *lh, void *ctx, void *cbdata,
                   int status)
{
    (void) m, (void) ep, (void) local, (void) lh, (void) ctx, (void) cbdata;
    emu_done = OPAL_SUCCESS == status ? 1 : -1;
}

/* Rank 0: a get from rank 1's ordinary memory.  Returning means the
 * forged answer was taken for a real one. */
static void emu_victim(void)
{
    struct emu_target t;
    mca_btl_base_module_t *btl;
    struct mca_btl_base_endpoint_t *ep;
    MPI_Recv(&t, sizeof(t), MPI_BYTE, 1, 3, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    bml_or_exit(1, &btl, &ep);
    char *local = calloc(1, EMU_GET_SIZE);
    int rc =
        btl->btl_get(btl, ep, local, t.base, NULL, (mca_btl_base_registration_handle_t *) t.handle,
                     EMU_GET_SIZE, 0, MCA_BTL_NO_ORDER, emu_cb, NULL, NULL);
    for (time_t end = time(NULL) + 60; OPAL_SUCCESS == rc && !emu_done && time(NULL) < end;) {
        opal_progress();
    }
    printf("hostile: rank 0's get ended (rc %d, completion %d): the forged answer was taken\n", rc,
           emu_done);
}

/* Rank 1's side of @mode, after the first exchange. */
static void attack(const char *mode)
{
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
    } else if (0 == strcmp(mode, "return-twice")) {
        return_twice();
    } else if (0 == strcmp(mode, "emu-offset") || 0 == strcmp(mode, "emu-twice")) {
        forge_emu_reply(0 == strcmp(mode, "emu-twice"));
    } else if (0 == strcmp(mode, "emu-silent")) {
        printf("hostile: rank 1 stops without answering\n");
        fflush(stdout);
        raise(SIGSTOP); /* the lease thread stops with us */
    } else {
        fprintf(stderr, "hostile: unknown mode %s\n", mode);
        exit(2);
    }
    printf("hostile: rank 1 attacked with '%s'\n", mode);
    fflush(stdout);
    sleep(60); /* rank 0 must end the job long before this */
}

int main(int argc, char **argv)
{
    int rank, size, data = 0;
    const char *mode = argc > 1 ? argv[1] : "ring";
    /* modes that read our own ring must keep our btl/ivm from polling it:
     * no blocking MPI call on rank 1 once the first message is out */
    int quiet = 0 == strncmp(mode, "emu-", 4) || 0 == strcmp(mode, "return-twice");
    MPI_Request req;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* one real exchange first, so that both sides are set up */
    if (0 == rank) {
        MPI_Recv(&data, 1, MPI_INT, 1, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else if (1 == rank && quiet) {
        MPI_Isend(&data, 1, MPI_INT, 0, 0, MPI_COMM_WORLD, &req);
    } else if (1 == rank) {
        MPI_Send(&data, 1, MPI_INT, 0, 0, MPI_COMM_WORLD);
    }
    if (1 == rank && 0 == strncmp(mode, "emu-", 4)) {
        emu_offer();
    }
    if (0 == rank) {
        if (0 == strncmp(mode, "emu-", 4)) {
            emu_victim();
        } else if (0 == strcmp(mode, "return-twice")) {
            MPI_Isend(&data, 1, MPI_INT, 1, 2, MPI_COMM_WORLD, &req);
        }
        MPI_Recv(&data, 1, MPI_INT, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        printf("hostile: rank 0 received a message it should not have\n");
        MPI_Finalize();
        return 0;
    }
    if (1 == rank) {
        attack(mode);
    }
    MPI_Finalize();
    return 0;
}
