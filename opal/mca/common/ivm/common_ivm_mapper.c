/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Finding and mapping the device: host files, ivshmem PCI BAR2 through sysfs,
 * and UIO nodes. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common_ivm_mapper.h"

const char *ivm_sysfs_root(void)
{
    /* Test hook: unit tests build a fake sysfs tree to exercise discovery. */
    const char *root = getenv("IVM_SYSFS_ROOT");
    return (NULL != root && '\0' != root[0]) ? root : "/sys";
}

static int read_small_file(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0) {
        return -1;
    }
    buf[n] = '\0';
    return 0;
}

static unsigned long read_hex_file(const char *dir, const char *name)
{
    char path[IVM_SPEC_LEN + 64], buf[64];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (0 != read_small_file(path, buf, sizeof(buf))) {
        return 0;
    }
    return strtoul(buf, NULL, 0);
}

/* ---- PCI: "0000:00:04.0", "00:04.0" or a sysfs .../resource2 path ---- */

static bool is_pci_address(const char *s)
{
    /* [dddd:]bb:dd.f, hex digits */
    size_t n = strlen(s), i = 0;
    if (12 == n) {
        for (; i < 4; i++) {
            if (!isxdigit((unsigned char) s[i])) {
                return false;
            }
        }
        if (':' != s[i++]) {
            return false;
        }
    } else if (7 != n) {
        return false;
    }
    return isxdigit((unsigned char) s[i]) && isxdigit((unsigned char) s[i + 1]) && ':' == s[i + 2]
           && isxdigit((unsigned char) s[i + 3]) && isxdigit((unsigned char) s[i + 4])
           && '.' == s[i + 5] && s[i + 6] >= '0' && s[i + 6] <= '7';
}

static bool pci_match(const char *spec)
{
    const char *slash = strrchr(spec, '/');
    return is_pci_address(spec)
           || (NULL != slash && 0 == strncmp(slash + 1, "resource", 8)
               && NULL != strstr(spec, "/devices/"));
}

static int file_size(const char *path, size_t *size, char *err, size_t errlen)
{
    struct stat st;
    if (0 != stat(path, &st)) {
        int rc = (ENOENT == errno) ? IVM_ERR_NOT_FOUND : IVM_ERR_ACCESS;
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return rc;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a regular file", path);
        return IVM_ERR_INVALID;
    }
    *size = (size_t) st.st_size;
    return IVM_OK;
}

static void pci_enable(const char *enable)
{
    char count = '0';
    int fd = open(enable, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (1 != read(fd, &count, 1)) {
            count = '0';
        }
        close(fd);
    }
    if ('0' != count) {
        return;
    }
    fd = open(enable, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        (void) !write(fd, "1", 1);
        close(fd);
    }
}

static int pci_resolve(const char *spec, char *path, size_t *offset, size_t *size, char *err,
                       size_t errlen)
{
    if (is_pci_address(spec)) {
        snprintf(path, IVM_SPEC_LEN, "%s/bus/pci/devices/%s%s/resource2", ivm_sysfs_root(),
                 7 == strlen(spec) ? "0000:" : "", spec);
    } else {
        snprintf(path, IVM_SPEC_LEN, "%s", spec);
    }
    /* The BAR is only decoded when the device is enabled; without a driver
     * nobody else enables it.  "enable" reads the kernel's enable count and
     * every write of 1 adds one that nobody takes back, so write only when
     * it reads 0.  Writing needs root: failure is not fatal here, the
     * mapping then fails with its own message. */
    char enable[IVM_SPEC_LEN + 16];
    snprintf(enable, sizeof(enable), "%s", path);
    char *slash = strrchr(enable, '/');
    if (NULL != slash) {
        strcpy(slash + 1, "enable");
        pci_enable(enable);
    }
    *offset = 0;
    return file_size(path, size, err, errlen);
}

const ivm_mapper_ops_t ivm_mapper_pci = {"pci", pci_match, pci_resolve};

/* ---- UIO: /dev/uioN; the shared memory is the map named "shmem" (Nahanni
 * uio_ivshmem) or else the largest map. ---- */

static bool uio_match(const char *spec)
{
    return 0 == strncmp(spec, "/dev/uio", 8);
}

static int uio_resolve(const char *spec, char *path, size_t *offset, size_t *size, char *err,
                       size_t errlen)
{
    const char *node = spec + 5; /* "uioN" */
    int best = -1;
    size_t best_size = 0;
    for (int k = 0; k < 8; k++) {
        char dir[IVM_SPEC_LEN + 64], name[64] = "";
        snprintf(dir, sizeof(dir), "%s/class/uio/%s/maps/map%d", ivm_sysfs_root(), node, k);
        unsigned long sz = read_hex_file(dir, "size");
        if (0 == sz) {
            continue;
        }
        char npath[IVM_SPEC_LEN + 80];
        snprintf(npath, sizeof(npath), "%s/name", dir);
        (void) read_small_file(npath, name, sizeof(name));
        if (0 == strncmp(name, "shmem", 5)) {
            best = k;
            best_size = sz;
            break;
        }
        if (sz > best_size) {
            best = k;
            best_size = sz;
        }
    }
    if (best < 0) {
        snprintf(err, errlen, "%s: no memory map found under %s/class/uio/%s/maps", spec,
                 ivm_sysfs_root(), node);
        return IVM_ERR_NOT_FOUND;
    }
    snprintf(path, IVM_SPEC_LEN, "%s", spec);
    /* UIO selects map N through the mmap offset N * page size. */
    *offset = (size_t) best * (size_t) sysconf(_SC_PAGESIZE);
    *size = best_size;
    return IVM_OK;
}

const ivm_mapper_ops_t ivm_mapper_uio = {"uio", uio_match, uio_resolve};

/* ---- host file (emulated VMs, host processes, tests) ---- */

static bool file_match(const char *spec)
{
    return '\0' != spec[0];
}

static int file_resolve(const char *spec, char *path, size_t *offset, size_t *size, char *err,
                        size_t errlen)
{
    snprintf(path, IVM_SPEC_LEN, "%s", spec);
    *offset = 0;
    return file_size(path, size, err, errlen);
}

const ivm_mapper_ops_t ivm_mapper_file = {"file", file_match, file_resolve};

/* Order matters: the file back end accepts anything. */
static const ivm_mapper_ops_t *const ivm_mappers[] = {&ivm_mapper_uio, &ivm_mapper_pci,
                                                      &ivm_mapper_file};

const char *ivm_mapping_kind(const ivm_mapping_t *m)
{
    return (NULL != m->ops) ? m->ops->name : "none";
}

/* Touch every page so that page faults happen here and not in a timed
 * communication path later.  Reads only: the region is live. */
static void prefault(const uint8_t *base, size_t size)
{
    size_t page = (size_t) sysconf(_SC_PAGESIZE);
    volatile uint8_t sink = 0;
    for (size_t off = 0; off < size; off += page) {
        sink ^= ((const volatile uint8_t *) base)[off];
    }
    (void) sink;
}

int ivm_map(ivm_mapping_t *m, const char *spec, bool readonly, char *err, size_t errlen)
{
    const ivm_mapper_ops_t *ops = NULL;
    char path[IVM_SPEC_LEN];
    size_t offset = 0, size = 0;

    memset(m, 0, sizeof(*m));
    m->fd = -1;
    if (NULL == spec || '\0' == spec[0] || strlen(spec) >= IVM_SPEC_LEN) {
        snprintf(err, errlen, "empty or too long device specification");
        return IVM_ERR_INVALID;
    }
    for (size_t i = 0; i < sizeof(ivm_mappers) / sizeof(ivm_mappers[0]); i++) {
        if (ivm_mappers[i]->match(spec)) {
            ops = ivm_mappers[i];
            break;
        }
    }
    int rc = ops->resolve(spec, path, &offset, &size, err, errlen);
    if (IVM_OK != rc) {
        return rc;
    }
    if (size < IVM_REGION_MIN_SIZE) {
        snprintf(err, errlen, "%s: %zu bytes, the minimum is %u bytes", path, size,
                 IVM_REGION_MIN_SIZE);
        return IVM_ERR_TOO_SMALL;
    }
    int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (fd < 0) {
        rc = (ENOENT == errno) ? IVM_ERR_NOT_FOUND : IVM_ERR_ACCESS;
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    int prot = PROT_READ | (readonly ? 0 : PROT_WRITE);
    void *base = mmap(NULL, size, prot, MAP_SHARED | MAP_POPULATE, fd, (off_t) offset);
    if (MAP_FAILED == base) {
        snprintf(err, errlen, "cannot map %zu bytes of %s: %s", size, path, strerror(errno));
        close(fd);
        return IVM_ERR_ACCESS;
    }
    prefault(base, size);
    m->base = base;
    m->size = size;
    m->fd = fd;
    m->ops = ops;
    snprintf(m->spec, sizeof(m->spec), "%s", path);
    return IVM_OK;
}

void ivm_unmap(ivm_mapping_t *m)
{
    if (NULL != m->base) {
        munmap(m->base, m->size);
    }
    if (m->fd >= 0) {
        close(m->fd);
    }
    memset(m, 0, sizeof(*m));
    m->fd = -1;
}

static int cmp_spec(const void *a, const void *b)
{
    return strcmp((const char *) a, (const char *) b);
}

/* Every ivshmem PCI device (1af4:1110), in bus order; else the default path
 * of the emulated VMs if it exists. */
int ivm_device_discover(char specs[][IVM_SPEC_LEN], int max, int *count)
{
    char dirpath[IVM_SPEC_LEN];
    *count = 0;
    snprintf(dirpath, sizeof(dirpath), "%s/bus/pci/devices", ivm_sysfs_root());
    DIR *d = opendir(dirpath);
    if (NULL != d) {
        struct dirent *de;
        while (NULL != (de = readdir(d)) && *count < max) {
            char dev[IVM_SPEC_LEN + 300];
            if ('.' == de->d_name[0]) {
                continue;
            }
            snprintf(dev, sizeof(dev), "%s/%s", dirpath, de->d_name);
            if (IVM_PCI_VENDOR != read_hex_file(dev, "vendor")
                || IVM_PCI_DEVICE != read_hex_file(dev, "device")) {
                continue;
            }
            snprintf(specs[*count], IVM_SPEC_LEN, "%.200s/%.40s/resource2", dirpath, de->d_name);
            (*count)++;
        }
        closedir(d);
        qsort(specs, (size_t) *count, IVM_SPEC_LEN, cmp_spec);
    }
    if (0 == *count && max > 0 && 0 == access(IVM_DEFAULT_DEVICE_PATH, F_OK)) {
        snprintf(specs[0], IVM_SPEC_LEN, "%s", IVM_DEFAULT_DEVICE_PATH);
        *count = 1;
    }
    return (*count > 0) ? IVM_OK : IVM_ERR_NOT_FOUND;
}
