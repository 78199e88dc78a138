/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* ivmctl: the administrator's view of an ivm region -- format, info, clean.
 * It uses the same core as the Open MPI components and nothing of Open MPI. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common_ivm_core.h"

enum {
    EXIT_USAGE = 2,
    EXIT_NOT_FOUND = 3,
    EXIT_TOO_SMALL = 4,
    EXIT_BAD_MAGIC = 5,
    EXIT_VERSION = 6,
    EXIT_CORRUPT = 7,
    EXIT_BUSY = 8
};

static const char usage_text[] =
    "Usage: ivmctl [--json] COMMAND [OPTIONS] [DEVICE]\n"
    "\n"
    "Administer the shared region of an ivm device (QEMU ivshmem BAR2 or a host file).\n"
    "\n"
    "Commands:\n"
    "  info                 show the superblock, jobs, process slots and usage\n"
    "  format               write a fresh region format (new region id); refuses while\n"
    "                       processes are attached unless --force\n"
    "      --jobs N         job table entries (default: scaled to the size)\n"
    "      --slots N        process slots (default: scaled to the size)\n"
    "      --size SIZE      create or grow DEVICE as a host file of SIZE bytes first\n"
    "                       (suffixes K, M, G)\n"
    "      --force          format even if processes are attached or the region is\n"
    "                       stuck mid-format\n"
    "  clean                free slots of dead processes and jobs left without processes:\n"
    "                       processes of this VM that are gone, and processes of any VM\n"
    "                       whose lease expired\n"
    "      --lease SECONDS  a lease older than this has expired (default 30, as\n"
    "                       opal_common_ivm_lease; 0: never)\n"
    "      --job N          also remove job N; refuses if any of its processes is alive,\n"
    "                       or lives in another VM unless --force\n"
    "      --break-lock     release the region lock (its holder must be gone)\n"
    "\n"
    "DEVICE is a host file, a PCI address (0000:00:04.0), a sysfs resource2 path or\n"
    "/dev/uioN.  Without DEVICE: the first ivshmem PCI device (1af4:1110), else\n"
    "" IVM_DEFAULT_DEVICE_PATH ".\n"
    "\n"
    "Exit status: 0 ok, 1 error, 2 usage, 3 device not found, 4 device too small,\n"
    "5 not an ivm region (wrong magic or not formatted), 6 format version mismatch,\n"
    "7 region corrupted, 8 region busy.\n";

struct options {
    bool json, force, break_lock;
    long job;
    uint32_t lease_s;
    uint32_t jobs, slots;
    uint64_t size;
    const char *device;
};

static int exit_for(int status)
{
    switch (status) {
    case IVM_OK: return 0;
    case IVM_ERR_NOT_FOUND: return EXIT_NOT_FOUND;
    case IVM_ERR_TOO_SMALL: return EXIT_TOO_SMALL;
    case IVM_ERR_BAD_MAGIC: return EXIT_BAD_MAGIC;
    case IVM_ERR_VERSION: return EXIT_VERSION;
    case IVM_ERR_CORRUPT: return EXIT_CORRUPT;
    case IVM_ERR_BUSY: return EXIT_BUSY;
    default: return 1;
    }
}

static int fail(const ivm_region_t *r, int status)
{
    fprintf(stderr, "ivmctl: %s: %s\n", ivm_strerror(status), r->errmsg);
    return exit_for(status);
}

static bool parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (0 != errno || end == s) {
        return false;
    }
    switch (*end) {
    case 'k': case 'K': v <<= 10; end++; break;
    case 'm': case 'M': v <<= 20; end++; break;
    case 'g': case 'G': v <<= 30; end++; break;
    default: break;
    }
    *out = v;
    return '\0' == *end;
}

static int resolve_device(const struct options *o, char *spec)
{
    char found[IVM_MAX_DEVICES][IVM_SPEC_LEN];
    int n = 0;
    if (NULL != o->device) {
        snprintf(spec, IVM_SPEC_LEN, "%s", o->device);
        return IVM_OK;
    }
    if (IVM_OK != ivm_device_discover(found, IVM_MAX_DEVICES, &n)) {
        fprintf(stderr, "ivmctl: no ivshmem PCI device (1af4:1110) and no %s; name the "
                        "device\n", IVM_DEFAULT_DEVICE_PATH);
        return IVM_ERR_NOT_FOUND;
    }
    snprintf(spec, IVM_SPEC_LEN, "%s", found[0]);
    return IVM_OK;
}

static const char *liveness_name(int l)
{
    return IVM_ALIVE == l ? "alive" : (IVM_DEAD == l ? "dead" : "unknown");
}

/* ---- info ---- */

struct usage {
    uint32_t jobs_active, slots_claimed;
    uint64_t heap_used;
};

static void print_header(const ivm_region_t *r, const struct usage *u, bool json)
{
    struct ivm_superblock *sb = ivm_sb(r);
    char id[2 * IVM_ID_LEN + 1], when[32];
    ivm_hex(r->region_id, IVM_ID_LEN, id);
    ivm_format_time(sb->format_time, when, sizeof(when));
    uint64_t lock = atomic_load(&sb->lock.word);
    if (json) {
        printf("{\"device\":{\"spec\":\"%s\",\"kind\":\"%s\",\"mapped_size\":%zu},\n"
               " \"superblock\":{\"magic\":\"0x%016llx\",\"version\":%u,\"region_size\":%llu,"
               "\"region_id\":\"%s\",\"format_time\":\"%s\",\"job_count\":%u,"
               "\"slot_count\":%u,\"heap_offset\":%llu,\"heap_size\":%llu,"
               "\"chunk_size\":%u},\n"
               " \"usage\":{\"jobs_active\":%u,\"slots_claimed\":%u,\"heap_used\":%llu,"
               "\"heap_free\":%llu},\n \"lock\":{\"held\":%s,\"holder_pid\":%llu},\n",
               r->map.spec, ivm_mapping_kind(&r->map), r->map.size,
               (unsigned long long) IVM_MAGIC, IVM_FORMAT_VERSION, (unsigned long long) r->size,
               id, when, r->layout.job_count, r->layout.slot_count,
               (unsigned long long) r->layout.heap_off, (unsigned long long) r->layout.heap_size,
               r->layout.chunk_size, u->jobs_active, u->slots_claimed,
               (unsigned long long) u->heap_used,
               (unsigned long long) (r->layout.heap_size - u->heap_used), lock ? "true" : "false",
               lock ? (unsigned long long) sb->lock.holder.pid : 0ULL);
        return;
    }
    printf("device:       %s (%s, %zu bytes mapped)\n", r->map.spec, ivm_mapping_kind(&r->map),
           r->map.size);
    printf("format:       ivm region version %u, %llu bytes, formatted %s\n", IVM_FORMAT_VERSION,
           (unsigned long long) r->size, when);
    printf("region id:    %s\n", id);
    printf("tables:       %u jobs, %u process slots; heap %llu bytes at offset %llu\n",
           r->layout.job_count, r->layout.slot_count, (unsigned long long) r->layout.heap_size,
           (unsigned long long) r->layout.heap_off);
    printf("usage:        %u active jobs, %u attached processes, heap %llu used / %llu free\n",
           u->jobs_active, u->slots_claimed, (unsigned long long) u->heap_used,
           (unsigned long long) (r->layout.heap_size - u->heap_used));
    if (lock) {
        printf("lock:         held by pid %llu\n", (unsigned long long) sb->lock.holder.pid);
    }
}

static int count_usage(ivm_region_t *r, struct usage *u)
{
    memset(u, 0, sizeof(*u));
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry e;
        int rc = ivm_job_read(r, j, &e);
        if (IVM_OK != rc) {
            return rc;
        }
        if (IVM_JOB_ACTIVE == e.state) {
            u->jobs_active++;
            u->heap_used += e.part_size;
        }
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        int rc = ivm_slot_read(r, i, &s);
        if (IVM_OK != rc) {
            return rc;
        }
        u->slots_claimed += (IVM_SLOT_CLAIMED == s.state);
    }
    return IVM_OK;
}

static void print_jobs(ivm_region_t *r, bool json)
{
    bool first = true;
    printf(json ? " \"jobs\":[" : "\njobs:\n");
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry e;
        char key[2 * IVM_ID_LEN + 1], label[IVM_LABEL_LEN + 1], when[32];
        if (IVM_OK != ivm_job_read(r, j, &e) || IVM_JOB_ACTIVE != e.state) {
            continue;
        }
        unsigned nslots = 0;
        for (uint32_t i = 0; i < r->layout.slot_count; i++) {
            struct ivm_slot_entry s;
            nslots += IVM_OK == ivm_slot_read(r, i, &s) && IVM_SLOT_CLAIMED == s.state
                      && s.job == j && s.job_gen == e.gen;
        }
        ivm_hex(e.key, IVM_ID_LEN, key);
        ivm_sanitize_label(e.label, IVM_LABEL_LEN, label);
        ivm_format_time(e.create_time, when, sizeof(when));
        if (json) {
            printf("%s\n  {\"index\":%u,\"generation\":%u,\"key\":\"%s\",\"label\":\"%s\","
                   "\"partition_offset\":%llu,\"partition_size\":%llu,\"created\":\"%s\","
                   "\"processes\":%u}",
                   first ? "" : ",", j, e.gen, key, label, (unsigned long long) e.part_off,
                   (unsigned long long) e.part_size, when, nslots);
        } else {
            printf("  job %-3u key %.16s  label %-20s %9llu bytes at %-10llu %u processes, "
                   "created %s\n",
                   j, key, label, (unsigned long long) e.part_size,
                   (unsigned long long) e.part_off, nslots, when);
        }
        first = false;
    }
    printf(json ? "],\n" : (first ? "  (none)\n" : ""));
}

/* Seconds since a lease was renewed (negative: a clock ahead of ours). */
static void lease_age(uint64_t lease_ms, uint64_t now_ms, char *buf, size_t len)
{
    double age = ((double) now_ms - (double) lease_ms) / 1000.0;
    snprintf(buf, len, "%.1f", age);
}

static void print_slots(ivm_region_t *r, bool json)
{
    const uint64_t now_ms = ivm_wall_ms();
    bool first = true;
    printf(json ? " \"slots\":[" : "\nprocesses:\n");
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        char vm[2 * IVM_ID_LEN + 1], host[IVM_HOST_LEN + 1];
        if (IVM_OK != ivm_slot_read(r, i, &s) || IVM_SLOT_CLAIMED != s.state) {
            continue;
        }
        ivm_hex(s.owner.vm_id, 8, vm);
        ivm_sanitize_label(s.host, IVM_HOST_LEN, host);
        const char *live = liveness_name(ivm_slot_liveness(r, &s, now_ms));
        char age[32];
        lease_age(s.lease_ms, now_ms, age, sizeof(age));
        if (json) {
            printf("%s\n  {\"slot\":%u,\"job\":%u,\"rank\":%u,\"host\":\"%s\",\"vm\":\"%s\","
                   "\"pid\":%llu,\"start_time\":%llu,\"state\":\"%s\",\"lease_age\":%s}",
                   first ? "" : ",", i, s.job, s.rank, host, vm,
                   (unsigned long long) s.owner.pid, (unsigned long long) s.owner.start_time,
                   live, 0 == s.lease_ms ? "null" : age);
        } else {
            printf("  slot %-4u job %-3u rank %-5u host %-16s vm %s pid %-8llu %-7s lease %s\n",
                   i, s.job, s.rank, host, vm, (unsigned long long) s.owner.pid, live,
                   0 == s.lease_ms ? "none" : age);
        }
        first = false;
    }
    printf(json ? "]}\n" : (first ? "  (none)\n" : ""));
}

static int cmd_info(ivm_region_t *r, const struct options *o)
{
    struct usage u;
    int rc = ivm_region_validate(r);
    if (IVM_OK != rc) {
        static const uint8_t zero[64];
        if (IVM_ERR_BAD_MAGIC == rc && 0 == memcmp(r->map.base, zero, sizeof(zero))) {
            ivm_error(r, rc, "%s is zeroed: not formatted yet (the first process to attach "
                             "formats it, or run 'ivmctl format')", r->map.spec);
        }
        return fail(r, rc);
    }
    rc = count_usage(r, &u);
    if (IVM_OK != rc) {
        return fail(r, rc);
    }
    print_header(r, &u, o->json);
    print_jobs(r, o->json);
    print_slots(r, o->json);
    return 0;
}

/* ---- format ---- */

static int create_file(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    struct stat st;
    if (fd < 0 || 0 != fstat(fd, &st)) {
        fprintf(stderr, "ivmctl: cannot create %s: %s\n", path, strerror(errno));
        return fd < 0 ? EXIT_NOT_FOUND : 1;
    }
    if ((uint64_t) st.st_size < size && 0 != ftruncate(fd, (off_t) size)) {
        fprintf(stderr, "ivmctl: cannot size %s: %s\n", path, strerror(errno));
        close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

static int attached_processes(ivm_region_t *r, unsigned *n)
{
    *n = 0;
    if (IVM_OK != ivm_region_validate(r)) {
        return IVM_OK; /* not a valid region: nothing can be attached */
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        if (IVM_OK == ivm_slot_read(r, i, &s) && IVM_SLOT_CLAIMED == s.state
            && IVM_DEAD != ivm_owner_liveness(&s.owner)) {
            (*n)++;
        }
    }
    return IVM_OK;
}

static int cmd_format(ivm_region_t *r, const struct options *o)
{
    unsigned n;
    attached_processes(r, &n);
    if (n > 0 && !o->force) {
        ivm_error(r, IVM_ERR_BUSY, "%u processes (alive or in other VMs) are attached to %s; "
                                   "stop them or use --force", n, r->map.spec);
        return fail(r, IVM_ERR_BUSY);
    }
    uint32_t state = atomic_load(&ivm_sb(r)->state);
    if (IVM_SB_FORMATTING == state && !o->force) {
        ivm_error(r, IVM_ERR_BUSY, "%s is being formatted right now; use --force if the "
                                   "formatting process died", r->map.spec);
        return fail(r, IVM_ERR_BUSY);
    }
    int rc = ivm_region_format(r, o->jobs, o->slots);
    if (IVM_OK != rc) {
        return fail(r, rc);
    }
    char id[2 * IVM_ID_LEN + 1];
    ivm_hex(r->region_id, IVM_ID_LEN, id);
    if (o->json) {
        printf("{\"formatted\":\"%s\",\"region_id\":\"%s\",\"region_size\":%llu,"
               "\"job_count\":%u,\"slot_count\":%u}\n",
               r->map.spec, id, (unsigned long long) r->size, r->layout.job_count,
               r->layout.slot_count);
    } else {
        printf("formatted %s: region id %s, %llu bytes, %u jobs, %u slots\n", r->map.spec, id,
               (unsigned long long) r->size, r->layout.job_count, r->layout.slot_count);
    }
    return 0;
}

/* ---- clean ---- */

static int cmd_clean(ivm_region_t *r, const struct options *o)
{
    ivm_reclaim_stats_t st = {0}, st2 = {0};
    int rc = ivm_region_validate(r);
    if (IVM_OK != rc) {
        return fail(r, rc);
    }
    if (o->break_lock) {
        ivm_lock_break(r);
    }
    rc = ivm_reclaim(r, 5000, &st);
    if (IVM_OK == rc && o->job >= 0) {
        rc = ivm_job_remove(r, (uint32_t) o->job, o->force, 5000, &st2);
    }
    if (IVM_OK != rc) {
        return fail(r, rc);
    }
    st.slots_freed += st2.slots_freed;
    st.jobs_freed += st2.jobs_freed;
    st.bytes_freed += st2.bytes_freed;
    if (o->json) {
        printf("{\"slots_freed\":%u,\"jobs_freed\":%u,\"bytes_freed\":%llu,"
               "\"slots_in_other_vms\":%u}\n",
               st.slots_freed, st.jobs_freed, (unsigned long long) st.bytes_freed,
               st.slots_unknown);
    } else {
        printf("freed %u process slots and %u jobs (%llu bytes); %u processes live in other "
               "VMs, hold a lease that has not expired, and were left alone\n",
               st.slots_freed, st.jobs_freed, (unsigned long long) st.bytes_freed,
               st.slots_unknown);
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},   {"force", no_argument, NULL, 'f'},
        {"jobs", required_argument, NULL, 'J'}, {"slots", required_argument, NULL, 'S'},
        {"size", required_argument, NULL, 's'}, {"job", required_argument, NULL, 'n'},
        {"break-lock", no_argument, NULL, 'b'}, {"help", no_argument, NULL, 'h'},
        {"lease", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0}};
    int c;
    uint64_t v;
    while (-1 != (c = getopt_long(argc, argv, "+jfh", longopts, NULL))) {
        switch (c) {
        case 'j': o->json = true; break;
        case 'f': o->force = true; break;
        case 'b': o->break_lock = true; break;
        case 'h': fputs(usage_text, stdout); exit(0);
        case 'J': case 'S': case 'n': case 'L':
            if (!parse_size(optarg, &v) || v > IVM_SLOT_COUNT_MAX) {
                fprintf(stderr, "ivmctl: bad number '%s'\n", optarg);
                return EXIT_USAGE;
            }
            if ('J' == c) o->jobs = (uint32_t) v;
            else if ('S' == c) o->slots = (uint32_t) v;
            else if ('L' == c) o->lease_s = (uint32_t) v;
            else o->job = (long) v;
            break;
        case 's':
            if (!parse_size(optarg, &o->size)) {
                fprintf(stderr, "ivmctl: bad size '%s'\n", optarg);
                return EXIT_USAGE;
            }
            break;
        default: fputs(usage_text, stderr); return EXIT_USAGE;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct options o = {.job = -1, .lease_s = 30};
    ivm_region_t r;
    char spec[IVM_SPEC_LEN];
    const char *cmd;
    int rc;

    /* options may come before and after the command */
    if (0 != (rc = parse_options(argc, argv, &o))) {
        return rc;
    }
    if (optind >= argc) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    cmd = argv[optind++];
    if (0 != (rc = parse_options(argc, argv, &o))) {
        return rc;
    }
    if (optind < argc) {
        o.device = argv[optind++];
    }
    if (optind < argc || (0 != strcmp(cmd, "info") && 0 != strcmp(cmd, "format")
                          && 0 != strcmp(cmd, "clean"))) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    if (IVM_OK != resolve_device(&o, spec)) {
        return EXIT_NOT_FOUND;
    }
    if (0 != o.size && 0 == strcmp(cmd, "format") && 0 != (rc = create_file(spec, o.size))) {
        return rc;
    }
    rc = ivm_region_open(&r, spec, 0 == strcmp(cmd, "info"));
    if (IVM_OK != rc) {
        return fail(&r, rc);
    }
    r.lease_ms = o.lease_s * 1000u;
    if (0 == strcmp(cmd, "info")) {
        rc = cmd_info(&r, &o);
    } else if (0 == strcmp(cmd, "format")) {
        rc = cmd_format(&r, &o);
    } else {
        rc = cmd_clean(&r, &o);
    }
    ivm_region_close(&r);
    return rc;
}
