/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * btl/ivm's part of the region format (included by common_ivm_layout.h,
 * covered by IVM_FORMAT_VERSION): the fast-box flag that marks a fragment
 * reference, the internal message tags, and the bodies of the emulated-RMA
 * request and reply messages, which travel as message payloads in the
 * sender's job heap.  A peer in another VM writes every byte of them, so the
 * receiver copies a body once into private memory and checks it there
 * (btl_ivm_emu.c).
 */

#ifndef COMMON_IVM_LAYOUT_BTL_H
#define COMMON_IVM_LAYOUT_BTL_H

#include <stddef.h>
#include <stdint.h>

/* Fast-box message flag (beside IVM_FBOX_F_VALID/WRAP in the header's flag
 * byte): the payload is the 8-byte region offset of a fragment, a ring
 * message sent through the fast box to keep it in order with the rest. */
#define IVM_FBOX_F_REF 0x20u

/* Message tags that btl/ivm handles itself (Open MPI's BTL-private tag
 * range, MCA_BTL_TAG_BTL = 0x20, + 12 and + 13); never handed upwards. */
#define IVM_BTL_TAG_EMU_REQ 0x2cu
#define IVM_BTL_TAG_EMU_REPLY 0x2du

/* ivm_emu_req.type */
#define IVM_EMU_PUT 1u
#define IVM_EMU_GET 2u
#define IVM_EMU_AOP 3u   /* atomic operation, fetching or not */
#define IVM_EMU_CSWAP 4u /* compare and swap */

/** An emulated RMA request: the initiator asks the owner of registration
 * @reg to work on [addr, addr + len) of its own memory.  PUT data follows
 * the body in the same message. */
struct ivm_emu_req {
    uint8_t type;        /* IVM_EMU_* */
    uint8_t is32;        /* atomics: 32-bit operand instead of 64-bit */
    uint16_t op;         /* atomics: MCA_BTL_ATOMIC_* */
    uint32_t reg;        /* the owner's registration index */
    uint64_t addr;       /* owner's address, as it registered it */
    uint64_t len;        /* bytes of this chunk (atomics: the operand width) */
    uint64_t operand[2]; /* atomics: operand, and the value of a compare and swap */
    uint32_t req, gen;   /* initiator's request slot and its generation, echoed back */
    uint64_t offset;     /* of this chunk within the initiator's operation */
};

/** The owner's answer to one request chunk.  GET: len bytes of data follow
 * the body; every other type answers with len 0 (atomics: @result). */
struct ivm_emu_reply {
    uint32_t req, gen; /* as in the request */
    int32_t status;    /* OPAL_SUCCESS or an Open MPI error code */
    uint32_t pad;
    uint64_t offset; /* as in the request */
    uint64_t len;    /* bytes of data that follow */
    uint64_t result; /* fetching atomics: the old value */
};

_Static_assert(offsetof(struct ivm_emu_req, reg) == 4 && offsetof(struct ivm_emu_req, addr) == 8
                   && offsetof(struct ivm_emu_req, operand) == 24
                   && offsetof(struct ivm_emu_req, req) == 40
                   && offsetof(struct ivm_emu_req, offset) == 48
                   && sizeof(struct ivm_emu_req) == 56,
               "emulated RMA request layout");
_Static_assert(offsetof(struct ivm_emu_reply, status) == 8
                   && offsetof(struct ivm_emu_reply, offset) == 16
                   && offsetof(struct ivm_emu_reply, result) == 32
                   && sizeof(struct ivm_emu_reply) == 40,
               "emulated RMA reply layout");

#endif /* COMMON_IVM_LAYOUT_BTL_H */
