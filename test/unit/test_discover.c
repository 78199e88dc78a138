/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Device discovery and the back ends, on a fake sysfs tree (IVM_SYSFS_ROOT):
 * ivshmem PCI devices are found in bus order and their BAR2 mapped; other
 * PCI devices are ignored; PCI addresses and UIO nodes resolve to the right
 * file and map. */

#include <sys/stat.h>

#include "ivm_test.h"
#include "common_ivm_mapper.h"

static char root[256];

static void put(const char *rel, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    for (char *p = path + strlen(root) + 1; *p; p++) {
        if ('/' == *p) {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void bar(const char *rel, size_t size)
{
    char path[512];
    put(rel, "");
    snprintf(path, sizeof(path), "%s/%s", root, rel);
    CHECK(0 == truncate(path, (off_t) size));
}

int main(void)
{
    char specs[IVM_MAX_DEVICES][IVM_SPEC_LEN], want[512];
    int n = -1;
    ivm_mapping_t m;
    char err[IVM_ERRMSG_LEN];

    snprintf(root, sizeof(root), "/tmp/ivm-sysfs-XXXXXX");
    CHECK(NULL != mkdtemp(root));
    setenv("IVM_SYSFS_ROOT", root, 1);

    put("bus/pci/devices/0000:00:05.0/vendor", "0x1af4\n");
    put("bus/pci/devices/0000:00:05.0/device", "0x1110\n");
    bar("bus/pci/devices/0000:00:05.0/resource2", 2u << 20);
    put("bus/pci/devices/0000:00:04.0/vendor", "0x1af4\n");
    put("bus/pci/devices/0000:00:04.0/device", "0x1110\n");
    bar("bus/pci/devices/0000:00:04.0/resource2", 4u << 20);
    put("bus/pci/devices/0000:00:03.0/vendor", "0x1af4\n"); /* virtio-net: not ours */
    put("bus/pci/devices/0000:00:03.0/device", "0x1000\n");
    bar("bus/pci/devices/0000:00:03.0/resource2", 4u << 20);

    CHECK_RC(ivm_device_discover(specs, IVM_MAX_DEVICES, &n), IVM_OK);
    CHECK(2 == n);
    snprintf(want, sizeof(want), "%s/bus/pci/devices/0000:00:04.0/resource2", root);
    CHECK(0 == strcmp(specs[0], want));
    snprintf(want, sizeof(want), "%s/bus/pci/devices/0000:00:05.0/resource2", root);
    CHECK(0 == strcmp(specs[1], want));

    /* a PCI address, with and without the domain */
    CHECK_RC(ivm_map(&m, "00:04.0", false, err, sizeof(err)), IVM_OK);
    CHECK(4u << 20 == m.size && 0 == strcmp("pci", ivm_mapping_kind(&m)));
    ivm_unmap(&m);
    CHECK_RC(ivm_map(&m, "0000:00:05.0", false, err, sizeof(err)), IVM_OK);
    CHECK(2u << 20 == m.size);
    ivm_unmap(&m);
    CHECK_RC(ivm_map(&m, "0000:00:09.0", false, err, sizeof(err)), IVM_ERR_NOT_FOUND);
    CHECK(NULL != strstr(err, "0000:00:09.0"));

    /* UIO: the map named "shmem" is the shared memory, chosen by offset */
    put("class/uio/uio7/maps/map0/name", "registers\n");
    put("class/uio/uio7/maps/map0/size", "0x100\n");
    put("class/uio/uio7/maps/map1/name", "shmem\n");
    put("class/uio/uio7/maps/map1/size", "0x400000\n");
    CHECK_RC(ivm_map(&m, "/dev/uio7", false, err, sizeof(err)), IVM_ERR_NOT_FOUND);
    CHECK(NULL != strstr(err, "/dev/uio7")); /* resolved, but no such node here */
    size_t off = 0, size = 0;
    char file[IVM_SPEC_LEN];
    CHECK_RC(ivm_mapper_uio.resolve("/dev/uio7", file, &off, &size, err, sizeof(err)), IVM_OK);
    CHECK(0 == strcmp(file, "/dev/uio7") && 0x400000 == size);
    CHECK((size_t) sysconf(_SC_PAGESIZE) == off);
    CHECK(ivm_mapper_uio.match("/dev/uio7") && !ivm_mapper_pci.match("/dev/uio7"));
    CHECK(ivm_mapper_pci.match("/sys/devices/pci0000:00/0000:00:04.0/resource2"));
    CHECK(!ivm_mapper_pci.match("/dev/shm/ivshmem") && ivm_mapper_file.match("/dev/shm/x"));
    CHECK_RC(ivm_map(&m, "/dev/uio8", false, err, sizeof(err)), IVM_ERR_NOT_FOUND);
    CHECK(NULL != strstr(err, "no memory map"));

    /* nothing in sysfs: falls back to the default path only if it exists */
    setenv("IVM_SYSFS_ROOT", "/nonexistent", 1);
    int rc = ivm_device_discover(specs, IVM_MAX_DEVICES, &n);
    if (0 == access(IVM_DEFAULT_DEVICE_PATH, F_OK)) {
        CHECK(IVM_OK == rc && 1 == n && 0 == strcmp(specs[0], IVM_DEFAULT_DEVICE_PATH));
    } else {
        CHECK(IVM_ERR_NOT_FOUND == rc && 0 == n);
    }
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
    CHECK(0 == system(cmd));
    return ivm_test_done("test_discover");
}
