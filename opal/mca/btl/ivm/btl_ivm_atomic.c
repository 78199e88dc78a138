/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* The arithmetic of btl/ivm's atomics, on one word that may lie in the
 * region (a peer's registration) or in this process (an emulated request
 * executed by its owner).  Used by btl_ivm_rdma.c and btl_ivm_emu.c. */

#include "opal_config.h"

#include <stdatomic.h>

#include "btl_ivm_atomic.h"
#include "opal/mca/btl/btl.h"

/* The new value for @op; for the logical operations "true" is 1. */
static uint64_t combine(int op, uint64_t old, uint64_t operand, bool is32)
{
    int64_t so = is32 ? (int64_t) (int32_t) old : (int64_t) old;
    int64_t sv = is32 ? (int64_t) (int32_t) operand : (int64_t) operand;
    switch (op) {
    case MCA_BTL_ATOMIC_ADD: return old + operand;
    case MCA_BTL_ATOMIC_AND: return old & operand;
    case MCA_BTL_ATOMIC_OR: return old | operand;
    case MCA_BTL_ATOMIC_XOR: return old ^ operand;
    case MCA_BTL_ATOMIC_LAND: return (0 != old) && (0 != operand);
    case MCA_BTL_ATOMIC_LOR: return (0 != old) || (0 != operand);
    case MCA_BTL_ATOMIC_LXOR: return (0 != old) != (0 != operand);
    case MCA_BTL_ATOMIC_SWAP: return operand;
    case MCA_BTL_ATOMIC_MIN: return (uint64_t) (sv < so ? sv : so);
    case MCA_BTL_ATOMIC_MAX: return (uint64_t) (sv > so ? sv : so);
    default: return old;
    }
}

/* A CAS loop on the region word: real CPU atomics, so they are atomic with
 * respect to every other process in every VM (MCA_BTL_ATOMIC_SUPPORTS_GLOB). */
uint64_t mca_btl_ivm_atomic_apply(void *addr, int op, uint64_t operand, bool is32)
{
    if (is32) {
        _Atomic uint32_t *p = addr;
        uint32_t old = atomic_load_explicit(p, memory_order_relaxed), next;
        do {
            next = (uint32_t) combine(op, old, operand, true);
        } while (!atomic_compare_exchange_weak_explicit(p, &old, next, memory_order_acq_rel,
                                                        memory_order_relaxed));
        return old;
    }
    _Atomic uint64_t *p = addr;
    uint64_t old = atomic_load_explicit(p, memory_order_relaxed), next;
    do {
        next = combine(op, old, operand, false);
    } while (!atomic_compare_exchange_weak_explicit(p, &old, next, memory_order_acq_rel,
                                                    memory_order_relaxed));
    return old;
}

/* Compare-and-swap; returns the old value. */
uint64_t mca_btl_ivm_atomic_cswap(void *addr, uint64_t compare, uint64_t value, bool is32)
{
    if (is32) {
        uint32_t expect = (uint32_t) compare;
        atomic_compare_exchange_strong((_Atomic uint32_t *) addr, &expect, (uint32_t) value);
        return expect;
    }
    uint64_t expect = compare;
    atomic_compare_exchange_strong((_Atomic uint64_t *) addr, &expect, value);
    return expect;
}

void mca_btl_ivm_store_result(void *local, uint64_t value, bool is32)
{
    if (is32) {
        *(uint32_t *) local = (uint32_t) value;
    } else {
        *(uint64_t *) local = value;
    }
}
