/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/**
 * @file
 *
 * The arithmetic and checks of btl/ivm's emulated RMA (btl_ivm_emu.c)
 * that need no Open MPI object: whether a peer's request lies in one of
 * our registrations and carrying it out there, how an operation is cut
 * into chunks, and whether a reply is the one an operation waits for.
 * Plain C (btl_ivm_emu_exec.c), so test/unit/test_btl_emu.c runs it
 * without mpirun.
 */

#ifndef MCA_BTL_IVM_EMU_EXEC_H
#define MCA_BTL_IVM_EMU_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "opal/mca/common/ivm/common_ivm_layout.h"

/** One registration of ours that peers may work on (process-local). */
typedef struct mca_btl_ivm_emu_range {
    uint64_t base, len;
    bool live;
} mca_btl_ivm_emu_range_t;

/** What a peer's request is checked against. */
typedef struct mca_btl_ivm_emu_target {
    const mca_btl_ivm_emu_range_t *regs; /**< indexed by ivm_emu_req.reg */
    uint32_t nregs;
    uint64_t chunk_max; /**< largest data chunk one message carries */
} mca_btl_ivm_emu_target_t;

/** The shape of one of our operations and which reply it waits for. */
typedef struct mca_btl_ivm_emu_track {
    uint8_t type;         /**< IVM_EMU_* */
    uint64_t size, chunk; /**< bytes of the operation, bytes per request */
    uint64_t next_offset; /**< of the chunk whose reply comes next */
} mca_btl_ivm_emu_track_t;

/** Where [addr, addr+len) is if it lies in live registration @reg, else NULL. */
void *mca_btl_ivm_emu_owned(const mca_btl_ivm_emu_target_t *t, uint32_t reg, uint64_t addr,
                            uint64_t len);

/** Carry out request @r (with @in, @in_len: PUT data) on our own memory;
 * fills the reply @a and, for GET, where its data is (@data).  False, with
 * @a naming the request and nothing touched, if @r is not acceptable. */
bool mca_btl_ivm_emu_execute(const mca_btl_ivm_emu_target_t *t, const struct ivm_emu_req *r,
                             const void *in, size_t in_len, struct ivm_emu_reply *a,
                             const void **data);

/** Bytes per request of an operation of @type on @size bytes: bulk
 * transfers are cut at @chunk_max, an atomic is one request. */
uint64_t mca_btl_ivm_emu_chunk(uint8_t type, uint64_t size, uint64_t chunk_max);

/** Requests an operation of @size bytes takes at @chunk bytes each (at
 * least one, also for zero bytes). */
uint32_t mca_btl_ivm_emu_nchunks(uint64_t size, uint64_t chunk);

/** The bytes the reply to the chunk at @offset must carry: a GET chunk's
 * data, nothing for every other type. */
uint64_t mca_btl_ivm_emu_reply_len(const mca_btl_ivm_emu_track_t *o, uint64_t offset);

/** Is reply @a (with @data_len bytes after it) the next answer @o waits
 * for?  @ok: the reply's status is success. */
bool mca_btl_ivm_emu_reply_expected(const mca_btl_ivm_emu_track_t *o, const struct ivm_emu_reply *a,
                                    bool ok, size_t data_len);

#endif /* MCA_BTL_IVM_EMU_EXEC_H */
