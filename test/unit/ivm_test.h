/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Minimal assertion helpers for the device-layer unit tests: plain C, no
 * MPI, each program exits non-zero when any check failed. */

#ifndef IVM_TEST_H
#define IVM_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common_ivm_core.h"

static int ivm_test_failures = 0;

#define CHECK(_cond)                                                                  \
    do {                                                                              \
        if (!(_cond)) {                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #_cond); \
            ivm_test_failures++;                                                      \
        }                                                                             \
    } while (0)

#define CHECK_RC(_expr, _want)                                                                    \
    do {                                                                                          \
        int _got = (_expr);                                                                       \
        if (_got != (_want)) {                                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n", __FILE__, __LINE__, \
                    #_expr, _got, ivm_strerror(_got), (_want), ivm_strerror(_want));              \
            ivm_test_failures++;                                                                  \
        }                                                                                         \
    } while (0)

static inline int ivm_test_done(const char *name)
{
    printf("%s: %s (%d failed checks)\n", name, ivm_test_failures ? "FAIL" : "PASS",
           ivm_test_failures);
    return ivm_test_failures ? 1 : 0;
}

/* A fresh zero-filled device file of @size bytes in $TMPDIR; the path is
 * written to @path (at least 256 bytes). */
static inline void ivm_test_device(char *path, size_t size)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, 256, "%s/ivm-unit-XXXXXX", dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0 || 0 != ftruncate(fd, (off_t) size)) {
        perror("ivm_test_device");
        exit(2);
    }
    close(fd);
}

static inline void ivm_test_open(ivm_region_t *r, const char *path)
{
    int rc = ivm_region_open(r, path, false);
    if (IVM_OK != rc) {
        fprintf(stderr, "cannot open %s: %s\n", path, r->errmsg);
        exit(2);
    }
}

/* Active jobs in the region (each entry read the checked way). */
static inline int ivm_test_active_jobs(ivm_region_t *r)
{
    int n = 0;
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry je;
        n += IVM_OK == ivm_job_read(r, j, &je) && IVM_JOB_ACTIVE == je.state;
    }
    return n;
}

#endif
