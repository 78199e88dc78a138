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
 * The device layer core: mapping the device, the region format, the region
 * lock, jobs and process slots.  It has no Open MPI dependency so that the
 * admin tool (ivmctl) and the unit tests use exactly the code the components
 * use.  Errors are returned as IVM_ERR_* codes with a human-readable
 * explanation in ivm_region_t.errmsg; the Open MPI glue (common_ivm.c) turns
 * them into show_help messages.
 */

#ifndef COMMON_IVM_CORE_H
#define COMMON_IVM_CORE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "common_ivm_layout.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where the emulated VMs (contrib/ivm-vmsim) put the device, and where the
 * device layer looks when no PCI ivshmem device is present. */
#define IVM_DEFAULT_DEVICE_PATH "/run/ivm/ivshmem"
#define IVM_PCI_VENDOR 0x1af4
#define IVM_PCI_DEVICE 0x1110
#define IVM_MAX_DEVICES 8
#define IVM_SPEC_LEN 256
#define IVM_ERRMSG_LEN 512
/* Reading the device this many times slower than ordinary memory means an
 * uncached mapping (default of opal_common_ivm_uncached_threshold). */
#define IVM_UNCACHED_THRESHOLD 8.0
#define IVM_UNCACHED_PROBE_LEN (256u * 1024u)

typedef enum {
    IVM_OK = 0,
    IVM_ERR_NOT_FOUND = -1, /* no device / missing file */
    IVM_ERR_ACCESS = -2,    /* open or mmap refused */
    IVM_ERR_TOO_SMALL = -3, /* device smaller than the minimum or than its format */
    IVM_ERR_BAD_MAGIC = -4, /* neither zeroed nor an ivm region */
    IVM_ERR_VERSION = -5,   /* ivm region of another format version */
    IVM_ERR_CORRUPT = -6,   /* a value read from the region failed validation */
    IVM_ERR_TIMEOUT = -7,   /* formatting or region lock did not finish in time */
    IVM_ERR_NO_SPACE = -8,  /* no free job entry, slot or heap space */
    IVM_ERR_INVALID = -9,   /* bad argument */
    IVM_ERR_SYSTEM = -10,   /* unexpected system call failure */
    IVM_ERR_BUSY = -11      /* refused: live processes use the region */
} ivm_status_t;

struct ivm_mapper_ops;

/** A mapped device (process-local). */
typedef struct ivm_mapping {
    uint8_t *base;
    size_t size;
    int fd;
    const struct ivm_mapper_ops *ops;
    char spec[IVM_SPEC_LEN]; /* what was mapped: file path, sysfs resource, uio node */
} ivm_mapping_t;

/** An attached region (process-local).  Fields other than map/errmsg are
 * validated copies of superblock values, safe to use without re-checking. */
typedef struct ivm_region {
    ivm_mapping_t map;
    uint64_t size;
    struct ivm_layout layout;
    uint8_t region_id[IVM_ID_LEN];
    bool uncached;     /* set by ivm_region_probe_uncached() */
    uint32_t lease_ms; /* a lease older than this is expired; 0: leases not used */
    double uncached_ratio;
    char errmsg[IVM_ERRMSG_LEN];
} ivm_region_t;

typedef struct ivm_attach_opts {
    unsigned timeout_ms; /* how long to wait for a concurrent formatter */
    bool allow_format;   /* format a zeroed region (first attacher) */
    uint32_t job_count;  /* 0 = default for the region size */
    uint32_t slot_count; /* 0 = default for the region size */
} ivm_attach_opts_t;

typedef struct ivm_join_opts {
    uint8_t key[IVM_ID_LEN];
    const char *label;  /* informational, may be NULL */
    const char *host;   /* informational, may be NULL */
    uint32_t rank;      /* informational */
    uint64_t part_size; /* partition size if this call creates the job */
    unsigned lock_timeout_ms;
} ivm_join_opts_t;

/** A process's membership: its slot and its job's partition. */
typedef struct ivm_member {
    uint32_t job;
    uint32_t job_gen;
    uint32_t slot;
    uint32_t slot_gen;
    uint64_t nonce;
    uint64_t part_off;
    uint64_t part_size;
    bool created_job;
} ivm_member_t;

/** A process's handle on its job's heap (process-local; pointers into its
 * own mapping, validated at open). */
typedef struct ivm_heap {
    ivm_region_t *r;
    struct ivm_part_header *hdr;
    uint64_t part_off;
    uint64_t data_off; /* region offset of the first data chunk */
    uint32_t nchunks;
    _Atomic uint64_t *bitmap;
    _Atomic uint32_t *info;
    unsigned lock_timeout_ms;
} ivm_heap_t;

typedef struct ivm_reclaim_stats {
    unsigned slots_freed;
    unsigned jobs_freed;
    uint64_t bytes_freed;
    unsigned slots_unknown; /* owners in other VMs: cannot prove them dead */
} ivm_reclaim_stats_t;

enum ivm_liveness { IVM_ALIVE = 0, IVM_DEAD = 1, IVM_UNKNOWN = 2 };

/* ---- util (common_ivm_util.c) ---- */
const char *ivm_strerror(int status);
int ivm_error(ivm_region_t *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
uint32_t ivm_crc32c(uint32_t crc, const void *buf, size_t len);
int ivm_random_bytes(void *buf, size_t len);
void ivm_hash128(const void *buf, size_t len, uint8_t out[IVM_ID_LEN]);
void ivm_hex(const uint8_t *buf, size_t len, char *out); /* out: 2*len+1 */
uint64_t ivm_now_sec(void);
/* @t (seconds since the epoch, read from the region) as "YYYY-MM-DDTHH:MM:SSZ" in UTC, or
 * "invalid(<t>)" when no calendar shows it; always NUL-terminated when @len > 0. */
void ivm_format_time(uint64_t t, char *buf, size_t len);
uint64_t ivm_now_ms(void);
uint64_t ivm_now_ns(void); /* monotonic */
/* Back off between the tries of a short bounded wait (a lock word, a table
 * entry that is changing): spin, then yield, then sleep 200 us.  Not for
 * waits on another process's progress, which go through ivm_pace. */
void ivm_backoff(unsigned iteration);
/* A wait for another process that has lasted @waited_ns: past @spin_us,
 * sleep @sleep_us (< 1000000) so that a peer sharing our CPU can run. */
void ivm_pace(uint64_t waited_ns, unsigned spin_us, unsigned sleep_us);
void ivm_copy_label(char *dst, size_t dstlen, const char *src);
void ivm_sanitize_label(const char *src, size_t srclen, char *dst); /* dst: srclen+1 */

/* ---- mapping (common_ivm_mapper.c) ---- */
int ivm_device_discover(char specs[][IVM_SPEC_LEN], int max, int *count);
int ivm_map(ivm_mapping_t *m, const char *spec, bool readonly, char *err, size_t errlen);
void ivm_unmap(ivm_mapping_t *m);
const char *ivm_mapping_kind(const ivm_mapping_t *m);

/* ---- region format (common_ivm_region.c) ---- */
int ivm_layout_compute(uint64_t region_size, uint32_t job_count, uint32_t slot_count,
                       struct ivm_layout *out);
int ivm_layout_check(const struct ivm_layout *l, uint64_t region_size, char *why, size_t len);
int ivm_region_open(ivm_region_t *r, const char *spec, bool readonly);
int ivm_region_attach(ivm_region_t *r, const ivm_attach_opts_t *opts);
int ivm_region_format(ivm_region_t *r, uint32_t job_count, uint32_t slot_count);
int ivm_region_validate(ivm_region_t *r);
void ivm_region_close(ivm_region_t *r);
int ivm_region_probe_uncached(ivm_region_t *r, double threshold);
/* How many times longer a copy of @len bytes at @off of the mapping takes than
 * one of ordinary memory (best of 5 each); > IVM_UNCACHED_THRESHOLD: uncached. */
int ivm_mapping_read_ratio(const ivm_mapping_t *m, size_t off, size_t len, double *ratio);
uint32_t ivm_superblock_crc(const struct ivm_superblock *sb);
struct ivm_superblock *ivm_sb(const ivm_region_t *r);

/* ---- process identity (common_ivm_owner.c) ---- */
int ivm_owner_self(struct ivm_owner *o);
int ivm_owner_liveness(const struct ivm_owner *o);
bool ivm_owner_same_vm(const struct ivm_owner *a, const struct ivm_owner *b);

/* ---- lock words (common_ivm_lock.c) ---- */
int ivm_lockword_acquire(ivm_region_t *r, struct ivm_lockword *lw, const char *what,
                         unsigned timeout_ms, uint64_t *token);
void ivm_lockword_release(struct ivm_lockword *lw, uint64_t token);
int ivm_lock_acquire(ivm_region_t *r, unsigned timeout_ms, uint64_t *token);
void ivm_lock_release(ivm_region_t *r, uint64_t token);
int ivm_lock_break(ivm_region_t *r);

/* ---- jobs and slots (common_ivm_job.c) ---- */
void ivm_job_key_make(uint8_t key[IVM_ID_LEN], const char *jobid, const char *launch_token);
int ivm_job_join(ivm_region_t *r, const ivm_join_opts_t *o, ivm_member_t *m);
int ivm_job_leave(ivm_region_t *r, const ivm_member_t *m, unsigned lock_timeout_ms);
int ivm_reclaim(ivm_region_t *r, unsigned lock_timeout_ms, ivm_reclaim_stats_t *st);
int ivm_job_remove(ivm_region_t *r, uint32_t job, bool force, unsigned lock_timeout_ms,
                   ivm_reclaim_stats_t *st);
int ivm_job_read(ivm_region_t *r, uint32_t idx, struct ivm_job_entry *out);
int ivm_slot_read(ivm_region_t *r, uint32_t idx, struct ivm_slot_entry *out);
int ivm_slot_verify(ivm_region_t *r, uint32_t slot, uint32_t slot_gen, uint64_t nonce);
int ivm_slot_user_set(ivm_region_t *r, uint32_t slot, unsigned k, uint64_t value);
int ivm_slot_user_get(ivm_region_t *r, uint32_t slot, uint32_t job, uint32_t job_gen, unsigned k,
                      uint64_t *value);
uint8_t *ivm_ptr(const ivm_region_t *r, uint64_t off, uint64_t len);

/** IVM_ALIVE, IVM_DEAD or IVM_UNKNOWN for the owner of slot copy @s: /proc
 * in its own VM, else an expired lease (wall clock @now_ms) means dead. */
int ivm_slot_liveness(const ivm_region_t *r, const struct ivm_slot_entry *s, uint64_t now_ms);
/** The owner of @slot (generation @gen) renews its lease. */
void ivm_slot_lease_renew(ivm_region_t *r, uint32_t slot, uint32_t gen);

/** One step of a busy wait on a word another process will change: tells
 * the CPU we spin (x86 PAUSE), so that the sibling hyperthread and the
 * memory bus are spared; a compiler barrier elsewhere. */
static inline void ivm_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#else
    __asm__ __volatile__("" ::: "memory");
#endif
}

/* ---- leases (common_ivm_lease.c) ---- */
/** A waiter's view of one peer's lease: the last value seen, and when (by
 * the waiter's monotonic clock) it was first seen.  Zero-initialise. */
typedef struct ivm_lease_watch {
    uint64_t value;
    uint64_t since_ns;
} ivm_lease_watch_t;

/** The thread that renews this process's lease. */
typedef struct ivm_lease_keeper {
    pthread_t thread;
    ivm_region_t *region;
    uint32_t slot, gen;
    unsigned period_ms;
    _Atomic bool stop;
    bool running;
} ivm_lease_keeper_t;

uint64_t ivm_wall_ms(void); /* CLOCK_REALTIME in ms */
/** Has lease word @lease stayed the same for more than @lease_ns of our
 * monotonic time (@now_ns)?  A lease of 0 (none) is never stale. */
bool ivm_lease_watch_stale(ivm_lease_watch_t *w, uint64_t lease, uint64_t now_ns,
                           uint64_t lease_ns);
/** Why the process that holds @slot (generation @gen, @nonce) is gone, as
 * a sentence for an error message, or NULL while it looks alive: it left
 * the slot, /proc in its own VM says it is dead, or its lease stopped
 * moving for longer than the region's lease (@w: the caller's watch of
 * it, @now_ns: the caller's monotonic time).  The waits of coll/ivm and
 * osc/ivm share it. */
const char *ivm_slot_gone(ivm_region_t *r, uint32_t slot, uint32_t gen, uint64_t nonce,
                          ivm_lease_watch_t *w, uint64_t now_ns);
/** Is lease word @lease more than @lease_ms older than wall time @now_ms?
 * 0 (none) and times from the future are not. */
bool ivm_lease_expired_wall(uint64_t lease, uint64_t now_ms, uint64_t lease_ms);
int ivm_lease_keeper_start(ivm_lease_keeper_t *k, ivm_region_t *r, uint32_t slot, uint32_t gen,
                           unsigned period_ms);
void ivm_lease_keeper_stop(ivm_lease_keeper_t *k);

/* ---- job heap (common_ivm_heap.c) ---- */
uint64_t ivm_heap_min_partition(void);
int ivm_heap_init(ivm_region_t *r, uint64_t part_off, uint64_t part_size);
int ivm_heap_open(ivm_heap_t *h, ivm_region_t *r, uint64_t part_off, uint64_t part_size,
                  unsigned lock_timeout_ms);
int ivm_heap_alloc(ivm_heap_t *h, uint64_t size, uint64_t align, uint64_t *off);
int ivm_heap_free(ivm_heap_t *h, uint64_t off);
uint64_t ivm_heap_in_use(const ivm_heap_t *h);

#ifdef __cplusplus
}
#endif

#endif /* COMMON_IVM_CORE_H */
