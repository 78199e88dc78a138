/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* Emulated RMA without Open MPI objects (btl_ivm_emu_exec.h): the checks
 * a request from a peer passes before it touches our memory, its
 * execution, and the chunk and reply arithmetic of our own operations.
 * Everything here works on private copies: the caller copied the request
 * or reply out of the peer's message once. */

#include <string.h>

#include "btl_ivm_atomic.h"
#include "btl_ivm_emu_exec.h"

void *mca_btl_ivm_emu_owned(const mca_btl_ivm_emu_target_t *t, uint32_t reg, uint64_t addr,
                            uint64_t len)
{
    if (reg >= t->nregs) {
        return NULL;
    }
    const mca_btl_ivm_emu_range_t *g = &t->regs[reg];
    /* written so that no sum can wrap: addr and len come from a peer */
    if (!g->live || addr < g->base || addr - g->base > g->len || len > g->len - (addr - g->base)) {
        return NULL;
    }
    return (void *) (uintptr_t) addr;
}

bool mca_btl_ivm_emu_execute(const mca_btl_ivm_emu_target_t *t, const struct ivm_emu_req *r,
                             const void *in, size_t in_len, struct ivm_emu_reply *a,
                             const void **data)
{
    size_t width = r->is32 ? 4 : 8;
    bool bulk = IVM_EMU_PUT == r->type || IVM_EMU_GET == r->type;
    void *p = mca_btl_ivm_emu_owned(t, r->reg, r->addr, bulk ? r->len : width);

    memset(a, 0, sizeof(*a));
    a->req = r->req;
    a->gen = r->gen;
    a->offset = r->offset;
    *data = NULL;
    if (NULL == p || (IVM_EMU_PUT == r->type && in_len < r->len) || r->len > t->chunk_max
        || (!bulk && 0 != (uintptr_t) p % width)) {
        return false;
    }
    switch (r->type) {
    case IVM_EMU_PUT: memcpy(p, in, r->len); return true;
    case IVM_EMU_GET:
        *data = p;
        a->len = r->len;
        return true;
    case IVM_EMU_AOP:
        a->result = mca_btl_ivm_atomic_apply(p, r->op, r->operand[0], r->is32);
        return true;
    case IVM_EMU_CSWAP:
        a->result = mca_btl_ivm_atomic_cswap(p, r->operand[0], r->operand[1], r->is32);
        return true;
    default: return false;
    }
}

uint64_t mca_btl_ivm_emu_chunk(uint8_t type, uint64_t size, uint64_t chunk_max)
{
    return IVM_EMU_PUT == type || IVM_EMU_GET == type ? chunk_max : size;
}

uint32_t mca_btl_ivm_emu_nchunks(uint64_t size, uint64_t chunk)
{
    return (uint32_t) (0 == size ? 1 : (size + chunk - 1) / chunk);
}

uint64_t mca_btl_ivm_emu_reply_len(const mca_btl_ivm_emu_track_t *o, uint64_t offset)
{
    if (IVM_EMU_GET != o->type) {
        return 0;
    }
    return o->size - offset < o->chunk ? o->size - offset : o->chunk;
}

/* Requests and replies travel in order (one sender, one receiver, one
 * queue), so each chunk's reply comes once and in turn; anything else is a
 * peer writing what it was not asked for, and must not touch our buffer. */
bool mca_btl_ivm_emu_reply_expected(const mca_btl_ivm_emu_track_t *o, const struct ivm_emu_reply *a,
                                    bool ok, size_t data_len)
{
    if (a->offset != o->next_offset || (0 != o->size && a->offset >= o->size)) {
        return false;
    }
    uint64_t want = ok ? mca_btl_ivm_emu_reply_len(o, a->offset) : 0;
    return a->len == want && data_len >= want;
}
