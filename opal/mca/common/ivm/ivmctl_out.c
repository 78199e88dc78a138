/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 */

/* ivmctl: JSON strings and error reports.  Strings in ivmctl's JSON come
 * from file names (any bytes but '/' and NUL), from sysfs and from the
 * region (labels and host names written by peers), so every one goes
 * through ivmctl_json_string(). */

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ivmctl.h"

/* Length of the well-formed UTF-8 sequence at @p (@n bytes left), 0 if the
 * bytes there are not one (overlong forms, surrogates and code points above
 * U+10FFFF are not). */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    unsigned cp, min;
    size_t len;
    if (p[0] < 0x80) {
        return 1;
    } else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
        len = 2, cp = p[0] & 0x1fu, min = 0x80;
    } else if (p[0] >= 0xe0 && p[0] <= 0xef) {
        len = 3, cp = p[0] & 0x0fu, min = 0x800;
    } else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
        len = 4, cp = p[0] & 0x07u, min = 0x10000;
    } else {
        return 0;
    }
    if (n < len) {
        return 0;
    }
    for (size_t i = 1; i < len; i++) {
        if (0x80 != (p[i] & 0xc0u)) {
            return 0;
        }
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return len;
}

/* A byte that is not part of valid UTF-8 is written as the lone surrogate
 * U+DC00+byte, as Python's "surrogateescape" does: json.loads() then gives a
 * str that os.fsencode() turns back into the exact file name. */
void ivmctl_json_string(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *) s;
    size_t n = strnlen(s, len);
    putchar('"');
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        size_t k = utf8_len(p + i, n - i);
        if ('"' == c || '\\' == c) {
            printf("\\%c", c);
        } else if ('\n' == c) {
            fputs("\\n", stdout);
        } else if ('\t' == c) {
            fputs("\\t", stdout);
        } else if ('\r' == c) {
            fputs("\\r", stdout);
        } else if (c < 0x20 || 0x7f == c) {
            printf("\\u%04x", c);
        } else if (0 == k) {
            printf("\\u%04x", 0xdc00u + c);
            k = 1;
        } else {
            fwrite(p + i, 1, k, stdout);
        }
        i += (0 == k) ? 1 : k;
    }
    putchar('"');
}

const char *ivmctl_exit_name(int code)
{
    switch (code) {
    case IVMCTL_EXIT_OK: return "success";
    case IVMCTL_EXIT_USAGE: return "usage";
    case IVMCTL_EXIT_NOT_FOUND: return "device not found";
    case IVMCTL_EXIT_TOO_SMALL: return "device too small";
    case IVMCTL_EXIT_NOT_IVM: return "not an ivm region";
    case IVMCTL_EXIT_VERSION: return "region format version mismatch";
    case IVMCTL_EXIT_CORRUPT: return "region corrupted";
    case IVMCTL_EXIT_BUSY: return "region busy";
    case IVMCTL_EXIT_ACCESS: return "permission denied";
    case IVMCTL_EXIT_NOT_FORMATTED: return "region not formatted";
    case IVMCTL_EXIT_JOB: return "job not active";
    case IVMCTL_EXIT_TIMEOUT: return "timed out";
    case IVMCTL_EXIT_IO: return "I/O error";
    default: return "error";
    }
}

int ivmctl_exit_for(int status)
{
    switch (status) {
    case IVM_OK: return IVMCTL_EXIT_OK;
    case IVM_ERR_NOT_FOUND: return IVMCTL_EXIT_NOT_FOUND;
    case IVM_ERR_ACCESS: return IVMCTL_EXIT_ACCESS;
    case IVM_ERR_TOO_SMALL: return IVMCTL_EXIT_TOO_SMALL;
    case IVM_ERR_BAD_MAGIC: return IVMCTL_EXIT_NOT_IVM;
    case IVM_ERR_VERSION: return IVMCTL_EXIT_VERSION;
    case IVM_ERR_CORRUPT: return IVMCTL_EXIT_CORRUPT;
    case IVM_ERR_BUSY: return IVMCTL_EXIT_BUSY;
    case IVM_ERR_TIMEOUT: return IVMCTL_EXIT_TIMEOUT;
    default: return IVMCTL_EXIT_FAILURE; /* NO_SPACE, INVALID, SYSTEM: not expected here */
    }
}

static int vfail(const struct ivmctl_options *o, int code, const char *fmt, va_list ap)
{
    char msg[IVM_ERRMSG_LEN + 256];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    fprintf(stderr, "ivmctl: %s: %s\n", ivmctl_exit_name(code), msg);
    if (NULL != o && o->json) {
        printf("{\"error\":{\"code\":%d,\"message\":", code);
        ivmctl_json_string(msg, sizeof(msg));
        printf("}}\n");
    }
    return code;
}

int ivmctl_fail(const struct ivmctl_options *o, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(o, code, fmt, ap);
    va_end(ap);
    return code;
}

int ivmctl_fail_region(const struct ivmctl_options *o, const ivm_region_t *r, int status)
{
    return ivmctl_fail(o, ivmctl_exit_for(status), "%s", r->errmsg);
}
