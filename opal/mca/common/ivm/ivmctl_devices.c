/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* ivmctl devices (alias probe), the "ucx_info -d" of ivm: every device the
 * device layer would use, with what an admin checks first -- its size and
 * permissions, the state of the region in it, and whether this VM maps it
 * uncached (the same timed read the components do when they attach).
 * Without DEVICE operands the list is what the device layer searches:
 * the devices of OMPI_MCA_opal_common_ivm_device if that is set, every
 * ivshmem PCI device (1af4:1110, BAR2 = sysfs resource2) and the host file
 * IVM_DEFAULT_DEVICE_PATH.  Read-only: the region is opened read-only and
 * only read. */

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common_ivm_mapper.h"
#include "ivmctl.h"

#define MAX_LISTED 64
#define MCA_ENV "OMPI_MCA_opal_common_ivm_device"

struct dev {
    char spec[IVM_SPEC_LEN];
    const char *source;
};

struct dev_info {
    const struct dev *d;
    const char *kind;        /* device back end: pci, uio, file */
    char path[IVM_SPEC_LEN]; /* the file that is mapped */
    bool have_stat, readable, writable;
    struct stat st;
    char owner[64], group[64];
    bool pci, wc; /* pci: sysfs facts about the function */
    char pci_addr[64], driver[64];
    unsigned long vendor, device;
    const char *state; /* region state, see region_state() */
    int code;          /* the exit code 'ivmctl info' would give */
    char msg[IVM_ERRMSG_LEN];
    uint32_t version; /* of an incompatible region */
    char region_id[2 * IVM_ID_LEN + 1];
    uint64_t region_size;
    struct ivm_layout layout;
    struct ivmctl_usage usage;
    bool measured;
    double ratio;
};

/* ---- the list ---- */

static void add(struct dev *list, int *n, const char *spec, const char *source)
{
    for (int i = 0; i < *n; i++) {
        if (0 == strcmp(list[i].spec, spec)) {
            return;
        }
    }
    if (*n < MAX_LISTED && '\0' != spec[0] && strlen(spec) < IVM_SPEC_LEN) {
        snprintf(list[*n].spec, IVM_SPEC_LEN, "%s", spec);
        list[(*n)++].source = source;
    }
}

static void add_mca_env(struct dev *list, int *n)
{
    const char *env = getenv(MCA_ENV);
    char buf[4096], *save = NULL;
    if (NULL == env || strlen(env) >= sizeof(buf)) {
        return;
    }
    snprintf(buf, sizeof(buf), "%s", env);
    for (char *t = strtok_r(buf, ",", &save); NULL != t; t = strtok_r(NULL, ",", &save)) {
        add(list, n, t, MCA_ENV);
    }
}

static int collect(char *const *names, int nnames, struct dev *list)
{
    static char found[MAX_LISTED][IVM_SPEC_LEN];
    int n = 0, nfound = 0;
    for (int i = 0; i < nnames; i++) {
        add(list, &n, names[i], "argument");
    }
    if (nnames > 0) {
        return n;
    }
    add_mca_env(list, &n);
    (void) ivm_device_discover(found, MAX_LISTED, &nfound);
    for (int i = 0; i < nfound; i++) {
        add(list, &n, found[i],
            0 == strcmp(found[i], IVM_DEFAULT_DEVICE_PATH) ? "default path" : "pci scan");
    }
    /* discovery stops at the PCI devices when there are any; the host
     * file is listed anyway, an admin wants to see both */
    if (0 == access(IVM_DEFAULT_DEVICE_PATH, F_OK)) {
        add(list, &n, IVM_DEFAULT_DEVICE_PATH, "default path");
    }
    return n;
}

/* ---- facts about one device ---- */

static void read_line(const char *dir, const char *name, char *buf, size_t len)
{
    char path[IVM_SPEC_LEN + 64];
    buf[0] = '\0';
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "re");
    if (NULL != f) {
        if (NULL == fgets(buf, (int) len, f)) {
            buf[0] = '\0';
        }
        buf[strcspn(buf, "\n")] = '\0';
        fclose(f);
    }
}

static void pci_facts(struct dev_info *di)
{
    char dir[IVM_SPEC_LEN], buf[64], link[IVM_SPEC_LEN + 64], target[IVM_SPEC_LEN];
    snprintf(dir, sizeof(dir), "%s", di->path);
    char *slash = strrchr(dir, '/');
    if (NULL == slash) {
        return;
    }
    *slash = '\0';
    di->pci = true;
    slash = strrchr(dir, '/');
    snprintf(di->pci_addr, sizeof(di->pci_addr), "%s", NULL != slash ? slash + 1 : dir);
    read_line(dir, "vendor", buf, sizeof(buf));
    di->vendor = strtoul(buf, NULL, 16);
    read_line(dir, "device", buf, sizeof(buf));
    di->device = strtoul(buf, NULL, 16);
    snprintf(link, sizeof(link), "%s/resource2_wc", dir);
    di->wc = 0 == access(link, F_OK);
    snprintf(link, sizeof(link), "%s/driver", dir);
    ssize_t k = readlink(link, target, sizeof(target) - 1);
    if (k > 0) {
        target[k] = '\0';
        slash = strrchr(target, '/');
        snprintf(di->driver, sizeof(di->driver), "%s", NULL != slash ? slash + 1 : target);
    }
}

static void file_facts(struct dev_info *di)
{
    char buf[1024];
    struct passwd pw, *pwp = NULL;
    struct group gr, *grp = NULL;
    if (0 != stat(di->path, &di->st)) {
        return;
    }
    di->have_stat = true;
    di->readable = 0 == access(di->path, R_OK);
    di->writable = 0 == access(di->path, W_OK);
    if (0 == getpwuid_r(di->st.st_uid, &pw, buf, sizeof(buf), &pwp) && NULL != pwp) {
        snprintf(di->owner, sizeof(di->owner), "%s", pwp->pw_name);
    } else {
        snprintf(di->owner, sizeof(di->owner), "%u", (unsigned) di->st.st_uid);
    }
    if (0 == getgrgid_r(di->st.st_gid, &gr, buf, sizeof(buf), &grp) && NULL != grp) {
        snprintf(di->group, sizeof(di->group), "%s", grp->gr_name);
    } else {
        snprintf(di->group, sizeof(di->group), "%u", (unsigned) di->st.st_gid);
    }
}

/* Which back end the device layer picks for @spec, and the file it maps. */
static void resolve(struct dev_info *di)
{
    static const ivm_mapper_ops_t *const order[] = {&ivm_mapper_uio, &ivm_mapper_pci,
                                                    &ivm_mapper_file};
    size_t off, size;
    char err[IVM_ERRMSG_LEN];
    snprintf(di->path, sizeof(di->path), "%s", di->d->spec);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        if (order[i]->match(di->d->spec)) {
            di->kind = order[i]->name;
            (void) order[i]->resolve(di->d->spec, di->path, &off, &size, err, sizeof(err));
            break;
        }
    }
    if (0 == strcmp(di->kind, "pci")) {
        pci_facts(di);
    }
    file_facts(di);
}

/* The state names of the "region" field, by exit code of 'ivmctl info'. */
static const char *state_name(int code)
{
    switch (code) {
    case IVMCTL_EXIT_OK: return "formatted";
    case IVMCTL_EXIT_NOT_FORMATTED: return "not formatted";
    case IVMCTL_EXIT_NOT_IVM: return "not an ivm region";
    case IVMCTL_EXIT_VERSION: return "incompatible version";
    case IVMCTL_EXIT_CORRUPT: return "corrupted";
    case IVMCTL_EXIT_TOO_SMALL: return "too small";
    case IVMCTL_EXIT_NOT_FOUND: return "missing";
    case IVMCTL_EXIT_ACCESS: return "no permission";
    case IVMCTL_EXIT_BUSY: return "busy";
    default: return "error";
    }
}

static void region_facts(struct dev_info *di, ivm_region_t *r)
{
    di->code = ivmctl_region_check(r);
    if (IVMCTL_EXIT_VERSION == di->code) {
        struct ivm_superblock head;
        memcpy(&head, r->map.base, offsetof(struct ivm_superblock, state));
        di->version = head.version;
    }
    if (IVMCTL_EXIT_OK == di->code) {
        int rc = ivmctl_count_usage(r, &di->usage);
        di->code = ivmctl_exit_for(rc);
        ivm_hex(r->region_id, IVM_ID_LEN, di->region_id);
        di->region_size = r->size;
        di->layout = r->layout;
    }
    if (IVMCTL_EXIT_OK != di->code) {
        snprintf(di->msg, sizeof(di->msg), "%s", r->errmsg);
    }
}

/* After resolve(). */
static void describe(struct dev_info *di, const struct ivmctl_options *o)
{
    ivm_region_t r;
    int rc = ivm_region_open(&r, di->d->spec, true);
    if (IVM_OK != rc) {
        di->code = ivmctl_exit_for(rc);
        di->state = state_name(di->code);
        snprintf(di->msg, sizeof(di->msg), "%s", r.errmsg);
        return;
    }
    region_facts(di, &r);
    di->state = state_name(di->code);
    if (!o->no_measure) {
        /* formatted: the heap, as the components measure it; otherwise the
         * start of the device -- the same memory behind the same mapping */
        size_t off = IVMCTL_EXIT_OK == di->code ? di->layout.heap_off : 0;
        size_t avail = IVMCTL_EXIT_OK == di->code ? di->layout.heap_size : r.map.size;
        size_t len = avail < IVM_UNCACHED_PROBE_LEN ? avail : IVM_UNCACHED_PROBE_LEN;
        di->measured = IVM_OK == ivm_mapping_read_ratio(&r.map, off, len, &di->ratio);
    }
    ivm_region_close(&r);
}

/* ---- output ---- */

static void json_str_field(const char *name, const char *value, size_t len, bool comma)
{
    printf("%s\"%s\":", comma ? "," : "", name);
    if ('\0' == value[0]) {
        printf("null");
    } else {
        ivmctl_json_string(value, len);
    }
}

static void print_json(const struct dev_info *di, bool first)
{
    printf("%s\n  {", first ? "" : ",");
    json_str_field("spec", di->d->spec, IVM_SPEC_LEN, false);
    json_str_field("source", di->d->source, 64, true);
    json_str_field("kind", di->kind, 16, true);
    json_str_field("path", di->path, IVM_SPEC_LEN, true);
    if (di->have_stat) {
        printf(",\"size\":%llu,\"mode\":\"%04o\"", (unsigned long long) di->st.st_size,
               (unsigned) (di->st.st_mode & 07777));
        json_str_field("owner", di->owner, sizeof(di->owner), true);
        json_str_field("group", di->group, sizeof(di->group), true);
    } else {
        printf(",\"size\":null,\"mode\":null,\"owner\":null,\"group\":null");
    }
    printf(",\"readable\":%s,\"writable\":%s", di->readable ? "true" : "false",
           di->writable ? "true" : "false");
    if (di->pci) {
        printf(",\"pci\":{");
        json_str_field("address", di->pci_addr, sizeof(di->pci_addr), false);
        printf(",\"vendor\":\"0x%04lx\",\"device\":\"0x%04lx\",\"resource2_wc\":%s", di->vendor,
               di->device, di->wc ? "true" : "false");
        json_str_field("driver", di->driver, sizeof(di->driver), true);
        printf("}");
    }
    printf(",\"region\":{\"state\":\"%s\",\"code\":%d", di->state, di->code);
    json_str_field("message", di->msg, sizeof(di->msg), true);
    if (IVMCTL_EXIT_VERSION == di->code) {
        printf(",\"version\":%u", di->version);
    } else if (IVMCTL_EXIT_OK == di->code) {
        printf(",\"version\":%u,\"region_id\":\"%s\",\"region_size\":%llu,\"job_count\":%u,"
               "\"jobs_active\":%u,\"slot_count\":%u,\"slots_claimed\":%u",
               IVM_FORMAT_VERSION, di->region_id, (unsigned long long) di->region_size,
               di->layout.job_count, di->usage.jobs_active, di->layout.slot_count,
               di->usage.slots_claimed);
    }
    if (di->measured) {
        printf("},\"mapping\":{\"read_ratio\":%.2f,\"threshold\":%.1f,\"uncached\":%s}}", di->ratio,
               IVM_UNCACHED_THRESHOLD, di->ratio > IVM_UNCACHED_THRESHOLD ? "true" : "false");
    } else {
        printf("},\"mapping\":null}");
    }
}

static void print_region_text(const struct dev_info *di)
{
    if (IVMCTL_EXIT_OK == di->code) {
        printf("  region:   formatted, version %u, id %s, %u of %u jobs active, %u of %u "
               "process slots in use\n",
               IVM_FORMAT_VERSION, di->region_id, di->usage.jobs_active, di->layout.job_count,
               di->usage.slots_claimed, di->layout.slot_count);
    } else if (IVMCTL_EXIT_VERSION == di->code) {
        printf("  region:   incompatible: format version %u, this ivmctl reads version %u\n",
               di->version, IVM_FORMAT_VERSION);
    } else {
        printf("  region:   %s: %s\n", di->state, di->msg);
    }
}

static void print_text(const struct dev_info *di, int index)
{
    printf("%sdevice %d: %s (%s)\n", 0 == index ? "" : "\n", index, di->d->spec, di->d->source);
    printf("  kind:     %s, maps %s\n", di->kind, di->path);
    if (di->pci) {
        printf("  pci:      %s, %04lx:%04lx, driver %s, resource2_wc %s\n", di->pci_addr,
               di->vendor, di->device, '\0' != di->driver[0] ? di->driver : "none",
               di->wc ? "present" : "absent");
    }
    if (di->have_stat) {
        printf("  size:     %llu bytes (%llu MiB)\n", (unsigned long long) di->st.st_size,
               (unsigned long long) di->st.st_size >> 20);
        printf("  access:   mode %04o, %s:%s; this user can %s\n",
               (unsigned) (di->st.st_mode & 07777), di->owner, di->group,
               di->readable ? (di->writable ? "read and write" : "read only")
                            : (di->writable ? "write only" : "neither read nor write"));
    } else {
        printf("  size:     unknown (%s)\n", di->msg);
    }
    print_region_text(di);
    if (di->measured) {
        printf("  mapping:  reading it takes %.1fx as long as ordinary memory: %s\n", di->ratio,
               di->ratio > IVM_UNCACHED_THRESHOLD ? "UNCACHED (see ivmctl(1))" : "cached");
    }
}

static bool already_shown(char mapped[][IVM_SPEC_LEN], int n, const char *path)
{
    for (int i = 0; i < n; i++) {
        if (0 == strcmp(mapped[i], path)) {
            return true;
        }
    }
    return false;
}

int ivmctl_devices(char *const *devices, int n, const struct ivmctl_options *o)
{
    static struct dev list[MAX_LISTED];
    for (int i = 0; i < n; i++) {
        if ('\0' == devices[i][0] || strlen(devices[i]) >= IVM_SPEC_LEN) {
            return ivmctl_fail(o, IVMCTL_EXIT_USAGE, "DEVICE must have 1 to %d bytes",
                               IVM_SPEC_LEN - 1);
        }
    }
    static char mapped[MAX_LISTED][IVM_SPEC_LEN];
    int count = collect(devices, n, list), shown = 0;
    if (0 == count) {
        return ivmctl_fail(o, IVMCTL_EXIT_NOT_FOUND,
                           "no ivshmem PCI device (%04x:%04x), no "
                           "%s and %s not set",
                           IVM_PCI_VENDOR, IVM_PCI_DEVICE, IVM_DEFAULT_DEVICE_PATH, MCA_ENV);
    }
    if (o->json) {
        printf("{\"devices\":[");
    }
    for (int i = 0; i < count; i++) {
        struct dev_info di;
        memset(&di, 0, sizeof(di));
        di.d = &list[i];
        di.kind = "file";
        resolve(&di);
        if (already_shown(mapped, shown, di.path)) {
            continue; /* e.g. a PCI address and the resource2 path it names */
        }
        snprintf(mapped[shown], IVM_SPEC_LEN, "%s", di.path);
        describe(&di, o);
        if (o->json) {
            print_json(&di, 0 == shown);
        } else {
            print_text(&di, shown);
        }
        shown++;
        fflush(stdout); /* a slow measurement of the next device: show this one now */
    }
    if (o->json) {
        printf("]}\n");
    }
    return IVMCTL_EXIT_OK;
}
