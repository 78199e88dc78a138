/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Small helpers of the device layer core: error text, checksums, hashing,
 * randomness and time. */

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common_ivm_core.h"

const char *ivm_strerror(int status)
{
    switch (status) {
    case IVM_OK: return "success";
    case IVM_ERR_NOT_FOUND: return "device not found";
    case IVM_ERR_ACCESS: return "permission denied";
    case IVM_ERR_TOO_SMALL: return "device too small";
    case IVM_ERR_BAD_MAGIC: return "not an ivm region";
    case IVM_ERR_VERSION: return "region format version mismatch";
    case IVM_ERR_CORRUPT: return "region corrupted";
    case IVM_ERR_TIMEOUT: return "timed out";
    case IVM_ERR_NO_SPACE: return "region full";
    case IVM_ERR_INVALID: return "invalid argument";
    case IVM_ERR_SYSTEM: return "system error";
    case IVM_ERR_BUSY: return "region in use";
    default: return "unknown error";
    }
}

int ivm_error(ivm_region_t *r, int status, const char *fmt, ...)
{
    if (NULL != r) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(r->errmsg, sizeof(r->errmsg), fmt, ap);
        va_end(ap);
    }
    return status;
}

/* CRC-32C (Castagnoli), bitwise: it only covers the superblock's static part
 * and table entries, so table-free code is fast enough and has no init. */
uint32_t ivm_crc32c(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++) {
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
        }
    }
    return ~crc;
}

int ivm_random_bytes(void *buf, size_t len)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (EINTR == errno) {
                continue;
            }
            return IVM_ERR_SYSTEM;
        }
        p += n;
        len -= (size_t) n;
    }
    return IVM_OK;
}

/* Two FNV-1a passes with different bases: a cheap, stable 128-bit digest for
 * identifiers (not a security boundary: the nonce proof is). */
void ivm_hash128(const void *buf, size_t len, uint8_t out[IVM_ID_LEN])
{
    uint64_t h[2] = {0xcbf29ce484222325ULL, 0x84222325cbf29ce4ULL};
    const uint8_t *p = buf;
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < len; i++) {
            h[k] ^= p[i];
            h[k] *= 0x100000001b3ULL;
        }
        /* final avalanche so short inputs spread over all bits */
        h[k] ^= h[k] >> 33;
        h[k] *= 0xff51afd7ed558ccdULL;
        h[k] ^= h[k] >> 33;
    }
    memcpy(out, h, IVM_ID_LEN);
}

void ivm_hex(const uint8_t *buf, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[buf[i] >> 4];
        out[2 * i + 1] = digits[buf[i] & 15];
    }
    out[2 * len] = '\0';
}

uint64_t ivm_now_sec(void)
{
    return (uint64_t) time(NULL);
}

/* Time fields of the region are whatever a peer left there: print every
 * value as something, and always terminate.  A value above INT64_MAX is no
 * time_t; gmtime_r rejects one whose year does not fit an int (glibc then
 * leaves struct tm half written) and strftime leaves the buffer undefined
 * when the text does not fit.  All of these print as "invalid(<t>)". */
void ivm_format_time(uint64_t t, char *buf, size_t len)
{
    time_t tt = (time_t) t;
    struct tm tm;
    if (0 == len) {
        return;
    }
    if (t > (uint64_t) INT64_MAX || (uint64_t) tt != t || NULL == gmtime_r(&tt, &tm)
        || 0 == strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm)) {
        snprintf(buf, len, "invalid(%llu)", (unsigned long long) t);
    }
}

uint64_t ivm_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

uint64_t ivm_now_ms(void)
{
    return ivm_now_ns() / 1000000u;
}

/* Spin briefly, then yield, then sleep: waits in this layer are rare
 * (format, lock) and must not burn a core that a peer VM may need. */
void ivm_backoff(unsigned iteration)
{
    if (iteration < 64) {
        __asm__ __volatile__("" ::: "memory");
    } else if (iteration < 256) {
        sched_yield();
    } else {
        struct timespec ts = {0, 200000};
        nanosleep(&ts, NULL);
    }
}

/* sched_yield would not do: it yields only within the caller's scheduling
 * group, and processes of other VMs are in other groups. */
void ivm_pace(uint64_t waited_ns, unsigned spin_us, unsigned sleep_us)
{
    if (waited_ns > (uint64_t) spin_us * 1000u) {
        const struct timespec nap = {0, (long) sleep_us * 1000L};
        nanosleep(&nap, NULL);
    }
}

void ivm_copy_label(char *dst, size_t dstlen, const char *src)
{
    memset(dst, 0, dstlen);
    if (NULL != src) {
        strncpy(dst, src, dstlen - 1);
    }
}

/* Labels come from shared memory: never trust a terminating NUL or the
 * character set. */
void ivm_sanitize_label(const char *src, size_t srclen, char *dst)
{
    size_t i;
    for (i = 0; i < srclen && '\0' != src[i]; i++) {
        unsigned char c = (unsigned char) src[i];
        dst[i] = (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? (char) c : '?';
    }
    dst[i] = '\0';
}
