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
 * CPU atomics for btl/ivm's atomic operations (btl_ivm_atomic.c): the
 * MCA_BTL_ATOMIC_* operations on a 32- or 64-bit word.
 */

#ifndef MCA_BTL_IVM_ATOMIC_H
#define MCA_BTL_IVM_ATOMIC_H

#include <stdbool.h>
#include <stdint.h>

/** Apply MCA_BTL_ATOMIC_* @op with @operand to the word at @addr; returns
 * the old value. */
uint64_t mca_btl_ivm_atomic_apply(void *addr, int op, uint64_t operand, bool is32);
/** Compare-and-swap; returns the old value. */
uint64_t mca_btl_ivm_atomic_cswap(void *addr, uint64_t compare, uint64_t value, bool is32);
/** Store a fetched value into the initiator's result buffer. */
void mca_btl_ivm_store_result(void *local, uint64_t value, bool is32);

#endif /* MCA_BTL_IVM_ATOMIC_H */
