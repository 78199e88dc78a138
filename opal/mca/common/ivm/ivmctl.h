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
 * ivmctl, the administrator's tool: what its files share.
 *
 *   ivmctl.c          command line, dispatch, --help/--version
 *   ivmctl_parse.c    numbers and sizes from the command line
 *   ivmctl_out.c      JSON strings and error reports (text and JSON)
 *   ivmctl_region.c   info, format, clean: one region
 *   ivmctl_devices.c  devices (probe): every device the device layer would find
 *
 * The exit codes are part of the interface: scripts test them.  They are
 * listed in ivmctl --help, doc/ivmctl.1 and README.md; keep the four in step.
 */

#ifndef IVMCTL_H
#define IVMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common_ivm_core.h"

enum ivmctl_exit {
    IVMCTL_EXIT_OK = 0,
    IVMCTL_EXIT_FAILURE = 1,        /* unexpected: a system call failed, out of memory */
    IVMCTL_EXIT_USAGE = 2,          /* bad command line */
    IVMCTL_EXIT_NOT_FOUND = 3,      /* no such device or file */
    IVMCTL_EXIT_TOO_SMALL = 4,      /* below the minimum, or too small for its format/tables */
    IVMCTL_EXIT_NOT_IVM = 5,        /* neither zeroed nor an ivm region (wrong magic) */
    IVMCTL_EXIT_VERSION = 6,        /* an ivm region of another format version */
    IVMCTL_EXIT_CORRUPT = 7,        /* a value in the region failed validation */
    IVMCTL_EXIT_BUSY = 8,           /* live processes use it, or a format is under way */
    IVMCTL_EXIT_ACCESS = 9,         /* permission denied */
    IVMCTL_EXIT_NOT_FORMATTED = 10, /* zeroed: no region format yet */
    IVMCTL_EXIT_JOB = 11,           /* the job named with --job is not active */
    IVMCTL_EXIT_TIMEOUT = 12,       /* the region lock was not released in time */
    IVMCTL_EXIT_IO = 13             /* creating, sizing or reading a file failed */
};
#define IVMCTL_EXIT_MAX IVMCTL_EXIT_IO

/* Options seen on the command line (struct ivmctl_options.seen), to refuse
 * one that the command does not use. */
enum ivmctl_opt {
    IVMCTL_OPT_FORCE = 1u << 0,
    IVMCTL_OPT_JOBS = 1u << 1,
    IVMCTL_OPT_SLOTS = 1u << 2,
    IVMCTL_OPT_SIZE = 1u << 3,
    IVMCTL_OPT_JOB = 1u << 4,
    IVMCTL_OPT_BREAK_LOCK = 1u << 5,
    IVMCTL_OPT_LEASE = 1u << 6,
    IVMCTL_OPT_NO_MEASURE = 1u << 7
};

struct ivmctl_options {
    bool json, force, break_lock, no_measure;
    unsigned seen; /* enum ivmctl_opt bits */
    int64_t job;   /* -1: none */
    uint32_t lease_s;
    uint32_t jobs, slots; /* 0: scaled to the size */
    uint64_t size;        /* 0: do not create/grow */
};

/* Allowed ranges of the numeric options (inclusive). */
#define IVMCTL_LEASE_MAX_S (7u * 24u * 3600u) /* * 1000 still fits a uint32_t of ms */
#define IVMCTL_SIZE_MIN ((uint64_t) IVM_REGION_MIN_SIZE)
#define IVMCTL_SIZE_MAX ((uint64_t) 1 << 44) /* 16 TiB */

/* ---- ivmctl_parse.c ---- */
/* Parse @s (decimal digits; with @suffixes also K, M, G, T: powers of 1024)
 * into [min, max].  On failure writes why into @why, naming option @name,
 * and returns false.  No sign, space or overflow gets through. */
bool ivmctl_parse_number(const char *name, const char *s, bool suffixes, uint64_t min, uint64_t max,
                         uint64_t *out, char *why, size_t whylen);

/* ---- ivmctl_out.c ---- */
/* @len bytes of @s at most (stops at a NUL) as a JSON string on stdout,
 * quotes included; bytes that are not UTF-8 become \udc80-\udcff. */
void ivmctl_json_string(const char *s, size_t len);
/* The name of an exit code, e.g. "device not found". */
const char *ivmctl_exit_name(int code);
/* Exit code for an IVM_ERR_* status. */
int ivmctl_exit_for(int status);
/* Report a failure: "ivmctl: NAME: MESSAGE" on stderr and, with --json, the
 * JSON object {"error":{"code":CODE,"message":MESSAGE}} on stdout.
 * Returns @code. */
int ivmctl_fail(const struct ivmctl_options *o, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* ivmctl_fail() for a device-layer status and the message it left in @r. */
int ivmctl_fail_region(const struct ivmctl_options *o, const ivm_region_t *r, int status);

/* ---- ivmctl_region.c ---- */
struct ivmctl_usage {
    uint32_t jobs_active, slots_claimed;
    uint64_t heap_used;
};
/* Validate an opened region; a zeroed one is IVMCTL_EXIT_NOT_FORMATTED.
 * Returns an exit code, the explanation in r->errmsg. */
int ivmctl_region_check(ivm_region_t *r);
int ivmctl_count_usage(ivm_region_t *r, struct ivmctl_usage *u);
/* info, format and clean on @device (NULL: the first device found). */
int ivmctl_region_command(const char *cmd, const char *device, const struct ivmctl_options *o);

/* ---- ivmctl_devices.c ---- */
/* devices / probe: the @n named devices, or every device found. */
int ivmctl_devices(char *const *devices, int n, const struct ivmctl_options *o);

#endif /* IVMCTL_H */
