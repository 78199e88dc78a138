/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Process identity and liveness.
 *
 * A pid means nothing across VMs, and not even across pid namespaces of one
 * kernel.  A process is named by (vm_id, pid, start_time) where vm_id hashes
 * the kernel boot id (differs per VM) with the pid namespace inode (differs
 * per container or emulated VM on one kernel).  Liveness can only be proven
 * from the same vm_id: everything else is IVM_UNKNOWN and is never reclaimed
 * automatically. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "common_ivm_core.h"

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (NULL == f) {
        return -1;
    }
    char *ok = fgets(buf, (int) len, f);
    fclose(f);
    return (NULL == ok) ? -1 : 0;
}

/* Field 22 of /proc/<pid>/stat; the command name (field 2) may contain
 * spaces and parentheses, so parse after the last ')'. */
static int proc_start_time(long pid, uint64_t *start)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (0 != read_line(path, buf, sizeof(buf))) {
        return -1;
    }
    char *p = strrchr(buf, ')');
    if (NULL == p) {
        return -1;
    }
    p++;
    /* after ')' comes field 3; skip to field 22 */
    for (int field = 3; field < 22; field++) {
        p = strchr(p + 1, ' ');
        if (NULL == p) {
            return -1;
        }
    }
    *start = strtoull(p + 1, NULL, 10);
    return 0;
}

static void vm_identity(uint8_t vm_id[IVM_ID_LEN])
{
    char material[128] = "";
    struct stat st;
    if (0 != read_line("/proc/sys/kernel/random/boot_id", material, 64)) {
        snprintf(material, 64, "no-boot-id-%ld", (long) gethostid());
    }
    size_t n = strlen(material);
    unsigned long long ino =
        (0 == stat("/proc/self/ns/pid", &st)) ? (unsigned long long) st.st_ino : 0ULL;
    snprintf(material + n, sizeof(material) - n, "/pidns:%llu", ino);
    ivm_hash128(material, strlen(material), vm_id);
}

int ivm_owner_self(struct ivm_owner *o)
{
    memset(o, 0, sizeof(*o));
    vm_identity(o->vm_id);
    o->pid = (uint64_t) getpid();
    if (0 != proc_start_time((long) getpid(), &o->start_time)) {
        o->start_time = 0;
    }
    return IVM_OK;
}

bool ivm_owner_same_vm(const struct ivm_owner *a, const struct ivm_owner *b)
{
    return 0 == memcmp(a->vm_id, b->vm_id, IVM_ID_LEN);
}

int ivm_owner_liveness(const struct ivm_owner *o)
{
    struct ivm_owner me;
    uint64_t start;

    ivm_owner_self(&me);
    if (!ivm_owner_same_vm(&me, o)) {
        return IVM_UNKNOWN;
    }
    /* values come from shared memory: a pid outside pid_t range is bogus,
     * and kill(0 or negative) would signal groups. */
    if (o->pid <= 1 || o->pid > 0x3fffffffULL) {
        return IVM_DEAD;
    }
    if (0 != kill((pid_t) o->pid, 0) && ESRCH == errno) {
        return IVM_DEAD;
    }
    if (0 != proc_start_time((long) o->pid, &start)) {
        /* exists per kill() but /proc hides it (hidepid): cannot prove */
        return (ENOENT == errno) ? IVM_DEAD : IVM_ALIVE;
    }
    /* a recycled pid has a different start time */
    return (start == o->start_time) ? IVM_ALIVE : IVM_DEAD;
}
