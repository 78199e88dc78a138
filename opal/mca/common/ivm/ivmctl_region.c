/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* ivmctl info, format and clean: one region.  Every value printed comes
 * from a private copy made by the device layer's validated readers
 * (ivm_job_read, ivm_slot_read, ivm_region_validate).  Errors are reported
 * before anything is printed, so that --json output is always one JSON
 * object: the result or {"error":...}. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ivmctl.h"

static const char *liveness_name(int l)
{
    return IVM_ALIVE == l ? "alive" : (IVM_DEAD == l ? "dead" : "unknown");
}

int ivmctl_region_check(ivm_region_t *r)
{
    static const uint8_t zero[IVM_SB_SIZE];
    int rc = ivm_region_validate(r);
    if (IVM_ERR_BAD_MAGIC == rc && r->map.size >= IVM_SB_SIZE
        && 0 == memcmp(r->map.base, zero, sizeof(zero))) {
        ivm_error(r, rc,
                  "%s is zeroed: not formatted yet (the first process to attach "
                  "formats it, or run 'ivmctl format')",
                  r->map.spec);
        return IVMCTL_EXIT_NOT_FORMATTED;
    }
    return ivmctl_exit_for(rc);
}

int ivmctl_count_usage(ivm_region_t *r, struct ivmctl_usage *u)
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

/* ---- info ---- */

static void print_header_json(const ivm_region_t *r, const struct ivmctl_usage *u, const char *id,
                              const char *when, uint64_t lock, uint64_t pid)
{
    printf("{\"device\":{\"spec\":");
    ivmctl_json_string(r->map.spec, sizeof(r->map.spec));
    printf(",\"kind\":\"%s\",\"mapped_size\":%zu},\n"
           " \"superblock\":{\"magic\":\"0x%016llx\",\"version\":%u,\"region_size\":%llu,"
           "\"region_id\":\"%s\",\"format_time\":\"%s\",\"job_count\":%u,"
           "\"slot_count\":%u,\"heap_offset\":%llu,\"heap_size\":%llu,"
           "\"chunk_size\":%u},\n"
           " \"usage\":{\"jobs_active\":%u,\"slots_claimed\":%u,\"heap_used\":%llu,"
           "\"heap_free\":%llu},\n \"lock\":{\"held\":%s,\"holder_pid\":%llu},\n",
           ivm_mapping_kind(&r->map), r->map.size, (unsigned long long) IVM_MAGIC,
           IVM_FORMAT_VERSION, (unsigned long long) r->size, id, when, r->layout.job_count,
           r->layout.slot_count, (unsigned long long) r->layout.heap_off,
           (unsigned long long) r->layout.heap_size, r->layout.chunk_size, u->jobs_active,
           u->slots_claimed, (unsigned long long) u->heap_used,
           (unsigned long long) (r->layout.heap_size - u->heap_used), lock ? "true" : "false",
           lock ? (unsigned long long) pid : 0ULL);
}

static void print_header(const ivm_region_t *r, const struct ivmctl_usage *u, bool json)
{
    struct ivm_superblock *sb = ivm_sb(r);
    char id[2 * IVM_ID_LEN + 1], when[32];
    ivm_hex(r->region_id, IVM_ID_LEN, id);
    ivm_format_time(sb->format_time, when, sizeof(when));
    uint64_t lock = atomic_load(&sb->lock.word);
    uint64_t pid = sb->lock.holder.pid;
    if (json) {
        print_header_json(r, u, id, when, lock, pid);
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
        printf("lock:         held by pid %llu\n", (unsigned long long) pid);
    }
}

static unsigned job_processes(ivm_region_t *r, uint32_t j, uint32_t gen)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        n += IVM_OK == ivm_slot_read(r, i, &s) && IVM_SLOT_CLAIMED == s.state && s.job == j
             && s.job_gen == gen;
    }
    return n;
}

static void print_job(uint32_t j, const struct ivm_job_entry *e, unsigned nslots, bool json,
                      bool first)
{
    char key[2 * IVM_ID_LEN + 1], label[IVM_LABEL_LEN + 1], when[32];
    ivm_hex(e->key, IVM_ID_LEN, key);
    ivm_format_time(e->create_time, when, sizeof(when));
    if (json) {
        printf("%s\n  {\"index\":%u,\"generation\":%u,\"key\":\"%s\",\"label\":", first ? "" : ",",
               j, e->gen, key);
        ivmctl_json_string(e->label, IVM_LABEL_LEN);
        printf(",\"partition_offset\":%llu,\"partition_size\":%llu,\"created\":\"%s\","
               "\"processes\":%u}",
               (unsigned long long) e->part_off, (unsigned long long) e->part_size, when, nslots);
        return;
    }
    ivm_sanitize_label(e->label, IVM_LABEL_LEN, label);
    printf("  job %-3u key %.16s  label %-20s %9llu bytes at %-10llu %u processes, "
           "created %s\n",
           j, key, label, (unsigned long long) e->part_size, (unsigned long long) e->part_off,
           nslots, when);
}

static void print_jobs(ivm_region_t *r, bool json)
{
    bool first = true;
    printf(json ? " \"jobs\":[" : "\njobs:\n");
    for (uint32_t j = 0; j < r->layout.job_count; j++) {
        struct ivm_job_entry e;
        if (IVM_OK != ivm_job_read(r, j, &e) || IVM_JOB_ACTIVE != e.state) {
            continue;
        }
        print_job(j, &e, job_processes(r, j, e.gen), json, first);
        first = false;
    }
    printf(json ? "],\n" : (first ? "  (none)\n" : ""));
}

static void print_slot(uint32_t i, const struct ivm_slot_entry *s, const char *live,
                       uint64_t now_ms, bool json, bool first)
{
    char vm[2 * IVM_ID_LEN + 1], host[IVM_HOST_LEN + 1], age[32] = "null";
    ivm_hex(s->owner.vm_id, 8, vm);
    if (0 != s->lease_ms) {
        /* seconds since the lease was renewed (negative: a clock ahead of ours) */
        snprintf(age, sizeof(age), "%.1f", ((double) now_ms - (double) s->lease_ms) / 1000.0);
    }
    if (json) {
        printf("%s\n  {\"slot\":%u,\"job\":%u,\"rank\":%u,\"host\":", first ? "" : ",", i, s->job,
               s->rank);
        ivmctl_json_string(s->host, IVM_HOST_LEN);
        printf(",\"vm\":\"%s\",\"pid\":%llu,\"start_time\":%llu,\"state\":\"%s\","
               "\"lease_age\":%s}",
               vm, (unsigned long long) s->owner.pid, (unsigned long long) s->owner.start_time,
               live, age);
        return;
    }
    ivm_sanitize_label(s->host, IVM_HOST_LEN, host);
    printf("  slot %-4u job %-3u rank %-5u host %-16s vm %s pid %-8llu %-7s lease %s\n", i, s->job,
           s->rank, host, vm, (unsigned long long) s->owner.pid, live,
           0 == s->lease_ms ? "none" : age);
}

static void print_slots(ivm_region_t *r, bool json)
{
    const uint64_t now_ms = ivm_wall_ms();
    bool first = true;
    printf(json ? " \"slots\":[" : "\nprocesses:\n");
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        if (IVM_OK != ivm_slot_read(r, i, &s) || IVM_SLOT_CLAIMED != s.state) {
            continue;
        }
        print_slot(i, &s, liveness_name(ivm_slot_liveness(r, &s, now_ms)), now_ms, json, first);
        first = false;
    }
    printf(json ? "]}\n" : (first ? "  (none)\n" : ""));
}

static int cmd_info(ivm_region_t *r, const struct ivmctl_options *o)
{
    struct ivmctl_usage u;
    int code = ivmctl_region_check(r);
    if (IVMCTL_EXIT_OK != code) {
        return ivmctl_fail(o, code, "%s", r->errmsg);
    }
    int rc = ivmctl_count_usage(r, &u);
    if (IVM_OK != rc) {
        return ivmctl_fail_region(o, r, rc);
    }
    print_header(r, &u, o->json);
    print_jobs(r, o->json);
    print_slots(r, o->json);
    return IVMCTL_EXIT_OK;
}

/* ---- format ---- */

static int errno_exit(int err)
{
    switch (err) {
    case ENOENT:
    case ENOTDIR: return IVMCTL_EXIT_NOT_FOUND;
    case EACCES:
    case EPERM:
    case EROFS: return IVMCTL_EXIT_ACCESS;
    default: return IVMCTL_EXIT_IO;
    }
}

static int create_file(const char *path, uint64_t size, const struct ivmctl_options *o)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
    struct stat st;
    if (fd < 0 || 0 != fstat(fd, &st)) {
        int err = errno;
        if (fd >= 0) {
            close(fd);
        }
        return ivmctl_fail(o, errno_exit(err), "cannot create %s: %s", path, strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return ivmctl_fail(o, IVMCTL_EXIT_USAGE, "--size: %s is not a regular file", path);
    }
    if ((uint64_t) st.st_size < size && 0 != ftruncate(fd, (off_t) size)) {
        int err = errno;
        close(fd);
        return ivmctl_fail(o, errno_exit(err), "cannot size %s to %llu bytes: %s", path,
                           (unsigned long long) size, strerror(err));
    }
    close(fd);
    return IVMCTL_EXIT_OK;
}

/* Processes alive, or in other VMs (not provably dead), in a valid region. */
static unsigned attached_processes(ivm_region_t *r)
{
    unsigned n = 0;
    if (IVM_OK != ivm_region_validate(r)) {
        return 0; /* not a valid region: nothing can be attached */
    }
    for (uint32_t i = 0; i < r->layout.slot_count; i++) {
        struct ivm_slot_entry s;
        n += IVM_OK == ivm_slot_read(r, i, &s) && IVM_SLOT_CLAIMED == s.state
             && IVM_DEAD != ivm_owner_liveness(&s.owner);
    }
    return n;
}

static int cmd_format(ivm_region_t *r, const struct ivmctl_options *o)
{
    unsigned n = attached_processes(r);
    if (n > 0 && !o->force) {
        return ivmctl_fail(o, IVMCTL_EXIT_BUSY,
                           "%u processes (alive or in other VMs) are "
                           "attached to %s; stop them or use --force",
                           n, r->map.spec);
    }
    if (IVM_SB_FORMATTING == atomic_load(&ivm_sb(r)->state) && !o->force) {
        return ivmctl_fail(o, IVMCTL_EXIT_BUSY,
                           "%s is being formatted right now; use --force "
                           "if the formatting process died",
                           r->map.spec);
    }
    int rc = ivm_region_format(r, o->jobs, o->slots);
    if (IVM_OK != rc) {
        return ivmctl_fail_region(o, r, rc);
    }
    char id[2 * IVM_ID_LEN + 1];
    ivm_hex(r->region_id, IVM_ID_LEN, id);
    if (o->json) {
        printf("{\"formatted\":");
        ivmctl_json_string(r->map.spec, sizeof(r->map.spec));
        printf(",\"region_id\":\"%s\",\"region_size\":%llu,\"job_count\":%u,"
               "\"slot_count\":%u}\n",
               id, (unsigned long long) r->size, r->layout.job_count, r->layout.slot_count);
    } else {
        printf("formatted %s: region id %s, %llu bytes, %u jobs, %u slots\n", r->map.spec, id,
               (unsigned long long) r->size, r->layout.job_count, r->layout.slot_count);
    }
    return IVMCTL_EXIT_OK;
}

/* ---- clean ---- */

static int remove_job(ivm_region_t *r, const struct ivmctl_options *o, ivm_reclaim_stats_t *st)
{
    if ((uint64_t) o->job >= r->layout.job_count) {
        return ivmctl_fail(o, IVMCTL_EXIT_JOB, "job %lld is not active: %s has jobs 0 to %u",
                           (long long) o->job, r->map.spec, r->layout.job_count - 1);
    }
    int rc = ivm_job_remove(r, (uint32_t) o->job, o->force, 5000, st);
    if (IVM_ERR_NOT_FOUND == rc) {
        /* the device is mapped: what was not found is the job */
        return ivmctl_fail(o, IVMCTL_EXIT_JOB, "%s", r->errmsg);
    }
    return (IVM_OK == rc) ? IVMCTL_EXIT_OK : ivmctl_fail_region(o, r, rc);
}

static int cmd_clean(ivm_region_t *r, const struct ivmctl_options *o)
{
    ivm_reclaim_stats_t st = {0}, st2 = {0};
    int code = ivmctl_region_check(r);
    if (IVMCTL_EXIT_OK != code) {
        return ivmctl_fail(o, code, "%s", r->errmsg);
    }
    if (o->break_lock) {
        ivm_lock_break(r);
    }
    int rc = ivm_reclaim(r, 5000, &st);
    if (IVM_OK != rc) {
        return ivmctl_fail_region(o, r, rc);
    }
    if (o->job >= 0 && IVMCTL_EXIT_OK != (code = remove_job(r, o, &st2))) {
        return code;
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
    return IVMCTL_EXIT_OK;
}

/* ---- one region ---- */

static int resolve_device(const char *device, char *spec, const struct ivmctl_options *o)
{
    char found[IVM_MAX_DEVICES][IVM_SPEC_LEN];
    int n = 0;
    if (NULL != device) {
        if ('\0' == device[0] || strlen(device) >= IVM_SPEC_LEN) {
            return ivmctl_fail(o, IVMCTL_EXIT_USAGE, "DEVICE must have 1 to %d bytes",
                               IVM_SPEC_LEN - 1);
        }
        snprintf(spec, IVM_SPEC_LEN, "%s", device);
        return IVMCTL_EXIT_OK;
    }
    if (IVM_OK != ivm_device_discover(found, IVM_MAX_DEVICES, &n)) {
        return ivmctl_fail(o, IVMCTL_EXIT_NOT_FOUND,
                           "no ivshmem PCI device (%04x:%04x) and no "
                           "%s; name the device",
                           IVM_PCI_VENDOR, IVM_PCI_DEVICE, IVM_DEFAULT_DEVICE_PATH);
    }
    snprintf(spec, IVM_SPEC_LEN, "%s", found[0]);
    return IVMCTL_EXIT_OK;
}

int ivmctl_region_command(const char *cmd, const char *device, const struct ivmctl_options *o)
{
    char spec[IVM_SPEC_LEN];
    ivm_region_t r;
    const bool info = 0 == strcmp(cmd, "info"), format = 0 == strcmp(cmd, "format");
    int code = resolve_device(device, spec, o);
    if (IVMCTL_EXIT_OK != code) {
        return code;
    }
    if (0 != o->size && format && IVMCTL_EXIT_OK != (code = create_file(spec, o->size, o))) {
        return code;
    }
    int rc = ivm_region_open(&r, spec, info);
    if (IVM_OK != rc) {
        return ivmctl_fail_region(o, &r, rc);
    }
    r.lease_ms = o->lease_s * 1000u;
    if (info) {
        code = cmd_info(&r, o);
    } else if (format) {
        code = cmd_format(&r, o);
    } else {
        code = cmd_clean(&r, o);
    }
    ivm_region_close(&r);
    return code;
}
