/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Formatting and attaching: the first attacher formats a zeroed region,
 * later attachers see the same region id, and every kind of bad superblock
 * gets its own error code. */

#include <sys/mman.h>

#include "ivm_test.h"

static ivm_attach_opts_t quick = {200, true, 0, 0};

static void resign(ivm_region_t *r)
{
    struct ivm_superblock *sb = ivm_sb(r);
    sb->header_crc = ivm_superblock_crc(sb);
}

static void test_first_attach(const char *path)
{
    ivm_region_t a, b;
    ivm_test_open(&a, path);
    CHECK_RC(ivm_region_attach(&a, &quick), IVM_OK);
    CHECK(a.size == 8u << 20);
    CHECK(a.layout.slot_count >= 32 && a.layout.job_count >= 16);
    ivm_test_open(&b, path);
    CHECK_RC(ivm_region_attach(&b, &quick), IVM_OK);
    CHECK(0 == memcmp(a.region_id, b.region_id, IVM_ID_LEN));
    /* explicit re-format gives a new identity */
    CHECK_RC(ivm_region_format(&b, 20, 40), IVM_OK);
    CHECK(0 != memcmp(a.region_id, b.region_id, IVM_ID_LEN));
    CHECK(b.layout.job_count == 20 && b.layout.slot_count == 40);
    CHECK_RC(ivm_region_validate(&a), IVM_OK);
    CHECK(0 == memcmp(a.region_id, b.region_id, IVM_ID_LEN));
    /* on a normal file mapping the uncached probe stays quiet */
    CHECK_RC(ivm_region_probe_uncached(&a, 8.0), IVM_OK);
    CHECK(!a.uncached);
    ivm_region_close(&a);
    ivm_region_close(&b);
}

static void test_bad_superblocks(const char *path)
{
    ivm_region_t r, s;
    ivm_test_open(&r, path);
    CHECK_RC(ivm_region_attach(&r, &quick), IVM_OK);
    struct ivm_superblock *sb = ivm_sb(&r);
    struct ivm_superblock saved;
    memcpy(&saved, sb, sizeof(saved));
    ivm_test_open(&s, path);

    sb->version = IVM_FORMAT_VERSION + 1;
    resign(&r);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_VERSION);
    CHECK(NULL != strstr(s.errmsg, "version"));
    memcpy(sb, &saved, sizeof(saved));

    sb->magic ^= 1;
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_BAD_MAGIC);
    memcpy(sb, &saved, sizeof(saved));

    sb->format_time ^= 1; /* covered by the checksum */
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_CORRUPT);
    memcpy(sb, &saved, sizeof(saved));

    sb->layout.slot_count += 1000; /* consistent checksum, impossible geometry */
    resign(&r);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_CORRUPT);
    memcpy(sb, &saved, sizeof(saved));

    sb->region_size = 1ull << 40; /* larger than the device */
    resign(&r);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_TOO_SMALL);
    memcpy(sb, &saved, sizeof(saved));

    atomic_store(&sb->state, 0x12345678u);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_CORRUPT);
    /* a formatter that died mid-way: bounded wait, then a clear error */
    atomic_store(&sb->state, IVM_SB_FORMATTING);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_TIMEOUT);
    CHECK(NULL != strstr(s.errmsg, "ivmctl format"));
    memcpy(sb, &saved, sizeof(saved));
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_OK);

    /* garbage that is not zero and not ours is never formatted over */
    memset(sb, 0xa5, 64);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_ERR_BAD_MAGIC);
    memset(sb, 0, IVM_SB_SIZE);
    ivm_attach_opts_t noformat = quick;
    noformat.allow_format = false;
    CHECK_RC(ivm_region_attach(&s, &noformat), IVM_ERR_BAD_MAGIC);
    CHECK_RC(ivm_region_attach(&s, &quick), IVM_OK);
    ivm_region_close(&r);
    ivm_region_close(&s);
}

static void test_open_errors(void)
{
    ivm_region_t r;
    char small[256];
    CHECK_RC(ivm_region_open(&r, "/nonexistent/ivm-device", false), IVM_ERR_NOT_FOUND);
    CHECK(NULL != strstr(r.errmsg, "/nonexistent/ivm-device"));
    ivm_test_device(small, IVM_REGION_MIN_SIZE - 4096);
    CHECK_RC(ivm_region_open(&r, small, false), IVM_ERR_TOO_SMALL);
    unlink(small);
    CHECK_RC(ivm_region_open(&r, "/tmp", false), IVM_ERR_INVALID);
    CHECK_RC(ivm_region_open(&r, "", false), IVM_ERR_INVALID);
}

int main(void)
{
    char path[256];
    ivm_test_device(path, 8u << 20);
    test_first_attach(path);
    test_bad_superblocks(path);
    test_open_errors();
    unlink(path);
    return ivm_test_done("test_format");
}
