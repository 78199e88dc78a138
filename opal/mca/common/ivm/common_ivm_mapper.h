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
 * Device back ends.  Each back end only knows how to recognise a device
 * specification and map the shared memory behind it; everything about the
 * region format lives above this table.  Adding a back end means one entry
 * in ivm_mappers[] (common_ivm_mapper.c).
 */

#ifndef COMMON_IVM_MAPPER_H
#define COMMON_IVM_MAPPER_H

#include <stdbool.h>
#include <stddef.h>

#include "common_ivm_core.h"

typedef struct ivm_mapper_ops {
    const char *name;
    /** Does @spec name a device of this kind?  Pure string/stat test. */
    bool (*match)(const char *spec);
    /** Resolve @spec to the file to mmap and the offset of the shared memory
     * in it; fills @path (IVM_SPEC_LEN) and @offset, and the usable @size. */
    int (*resolve)(const char *spec, char *path, size_t *offset, size_t *size, char *err,
                   size_t errlen);
} ivm_mapper_ops_t;

extern const ivm_mapper_ops_t ivm_mapper_file;
extern const ivm_mapper_ops_t ivm_mapper_pci;
extern const ivm_mapper_ops_t ivm_mapper_uio;

/** Sysfs root; tests point it at a fake tree. */
const char *ivm_sysfs_root(void);

#endif /* COMMON_IVM_MAPPER_H */
