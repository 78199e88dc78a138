/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* Fuzz target "ivmctl": the administrator's tool on a region file that
 * peers have scribbled on.  ivmctl.c is compiled unchanged with
 * -Dmain=ivmctl_main and run as the admin would run it, on a memfd that
 * holds the fuzzed image (/proc/self/fd/N):
 *
 *   ivmctl info [--json] [--lease 0] DEV
 *   ivmctl clean [--json] [--job N [--force]] [--lease 0] DEV
 *   ivmctl [--json] format [--force] DEV  (refuses while processes are attached)
 *   ivmctl [--json] devices [--no-measure] DEV
 *
 * The exit status must be one of the documented ones (ivmctl.h), and with
 * --json the output must be one well-formed JSON document whatever the
 * status: the result or {"error":...}.
 *
 * Input: as fuzz_region.c (u8 template, u8 flags, u8 job, then patches),
 * templates 0-2 of the same kind.  clean gets --break-lock when the image's
 * region lock word is set: ivmctl waits 5 s for a held lock (and up to a
 * lease for a holder in another VM) by design, which a fuzzer must not.
 *
 * Output goes to a memory stream (checked for JSON, then dropped); the
 * tool's messages on stderr go to /dev/null. */

#include "fuzz_common.h"

#include <getopt.h>

#include "ivmctl.h"

int ivmctl_main(int argc, char **argv);

enum {
    FL_RESIGN = 0x08, /* low 3 bits: the command */
    FL_LEASE0 = 0x10,
    FL_JOB = 0x20,
    FL_FORCE = 0x40,
    FL_TEXT = 0x80
};

#define NTEMPLATES 3

static ivm_region_t image; /* our own mapping of the memfd, to write the image */
static char path[64];
static uint8_t *templates[NTEMPLATES];
static struct ivm_layout tlayout[NTEMPLATES];
static FILE *devnull;

static void build_templates(void)
{
    ivm_region_t *r = &image;
    for (int t = 0; t < NTEMPLATES; t++) {
        memset(r->map.base, 0, r->map.size);
        fz_region_reset(r);
        if (t > 0) {
            fz_must(ivm_region_format(r, 0, 0), r, "format");
        }
        if (2 == t) {
            ivm_member_t m;
            ivm_join_opts_t jo = {.label = "job \"a\"\\",
                                  .host = "host\n",
                                  .rank = 0,
                                  .part_size = 2 * IVM_CHUNK_SIZE,
                                  .lock_timeout_ms = 1000};
            ivm_job_key_make(jo.key, "fuzz-job-a", "token");
            fz_must(ivm_job_join(r, &jo, &m), r, "join");
            fz_foreign_slot(r, 1, m.job, 1, 1000);
            fz_foreign_slot(r, 2, m.job, 2, 3600u * 1000u);
            fz_foreign_slot(r, 3, m.job, 3, 0);
        }
        fz_keep_template(r, t, templates, tlayout);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    fz_region_memfd(&image, FZ_REGION_SIZE, path);
    build_templates();
    /* the tool's error messages: not ours to see (libFuzzer and the
     * sanitizers keep writing to the real stderr, fd 2) */
    devnull = fopen("/dev/null", "w");
    if (NULL == devnull) {
        exit(2);
    }
    stderr = devnull;
    return 0;
}

/* ---- a strict little JSON checker ---- */

typedef struct {
    const char *p, *end;
    int depth;
} js_t;

static void js_ws(js_t *j)
{
    while (j->p < j->end && (' ' == *j->p || '\n' == *j->p || '\t' == *j->p || '\r' == *j->p)) {
        j->p++;
    }
}

static bool js_value(js_t *j);

static bool js_string(js_t *j)
{
    if (j->p >= j->end || '"' != *j->p) {
        return false;
    }
    for (j->p++; j->p < j->end; j->p++) {
        unsigned char c = (unsigned char) *j->p;
        if ('"' == c) {
            j->p++;
            return true;
        }
        if (c < 0x20) {
            return false;
        }
        if ('\\' == c) {
            if (++j->p >= j->end || NULL == strchr("\"\\/bfnrtu", *j->p)) {
                return false;
            }
        }
    }
    return false;
}

static bool js_digits(js_t *j)
{
    const char *s = j->p;
    while (j->p < j->end && *j->p >= '0' && *j->p <= '9') {
        j->p++;
    }
    return j->p > s;
}

static bool js_number(js_t *j)
{
    if (j->p < j->end && '-' == *j->p) {
        j->p++;
    }
    if (!js_digits(j)) {
        return false;
    }
    if (j->p < j->end && '.' == *j->p) {
        j->p++;
        if (!js_digits(j)) {
            return false;
        }
    }
    if (j->p < j->end && ('e' == *j->p || 'E' == *j->p)) {
        j->p++;
        if (j->p < j->end && ('+' == *j->p || '-' == *j->p)) {
            j->p++;
        }
        return js_digits(j);
    }
    return true;
}

static bool js_word(js_t *j, const char *w)
{
    size_t n = strlen(w);
    if ((size_t) (j->end - j->p) < n || 0 != memcmp(j->p, w, n)) {
        return false;
    }
    j->p += n;
    return true;
}

static bool js_list(js_t *j, char close, bool members)
{
    j->p++;
    js_ws(j);
    if (j->p < j->end && close == *j->p) {
        j->p++;
        return true;
    }
    for (;;) {
        js_ws(j);
        if (members) {
            if (!js_string(j)) {
                return false;
            }
            js_ws(j);
            if (j->p >= j->end || ':' != *j->p++) {
                return false;
            }
        }
        if (!js_value(j)) {
            return false;
        }
        js_ws(j);
        if (j->p >= j->end) {
            return false;
        }
        if (close == *j->p) {
            j->p++;
            return true;
        }
        if (',' != *j->p++) {
            return false;
        }
    }
}

static bool js_value(js_t *j)
{
    js_ws(j);
    if (j->p >= j->end || ++j->depth > 32) {
        return false;
    }
    bool ok;
    switch (*j->p) {
    case '{': ok = js_list(j, '}', true); break;
    case '[': ok = js_list(j, ']', false); break;
    case '"': ok = js_string(j); break;
    case 't': ok = js_word(j, "true"); break;
    case 'f': ok = js_word(j, "false"); break;
    case 'n': ok = js_word(j, "null"); break;
    default: ok = js_number(j); break;
    }
    j->depth--;
    return ok;
}

static bool json_ok(const char *s, size_t len)
{
    js_t j = {s, s + len, 0};
    if (!js_value(&j)) {
        return false;
    }
    js_ws(&j);
    return j.p == j.end;
}

/* ---- the target ---- */

static int run(int argc, char **argv, char **out, size_t *outlen)
{
    FILE *mem = open_memstream(out, outlen);
    FILE *saved = stdout;
    if (NULL == mem) {
        exit(2);
    }
    stdout = mem;
    optind = 0; /* fresh getopt state for every run */
    int rc = ivmctl_main(argc, argv);
    fflush(mem);
    stdout = saved;
    fclose(mem);
    return rc;
}

/* Loads template t with the input's patches (re-signed with FL_RESIGN);
 * returns whether the image's region lock is held. */
static bool load_image(fz_t *f, unsigned t, uint8_t flags)
{
    ivm_region_t *r = &image;
    memcpy(r->map.base, templates[t], r->map.size);
    while (fz_patch(f, r->map.base, r->map.size, &tlayout[t], tlayout[t].heap_off)) {
    }
    struct ivm_superblock *sb = ivm_sb(r);
    if (flags & FL_RESIGN) {
        sb->header_crc = ivm_superblock_crc(sb);
    }
    return 0 != atomic_load(&sb->lock.word);
}

/* The command line the flags name, as an administrator would type it
 * (clean breaks a held lock: it must not wait); returns argc.  *json:
 * whether the output must be JSON. */
static int command_line(uint8_t flags, bool locked, char *jobarg, char **argv, bool *json)
{
    int argc = 0;
    argv[argc++] = "ivmctl";
    *json = !(flags & FL_TEXT);
    switch (flags & 7) {
    case 0:
    case 1:
    case 2:
        if (*json) {
            argv[argc++] = "--json";
        }
        argv[argc++] = "info";
        break;
    case 3:
    case 4:
    case 5:
        argv[argc++] = "clean";
        if (*json) {
            argv[argc++] = "--json";
        }
        if (flags & FL_JOB) {
            argv[argc++] = "--job";
            argv[argc++] = jobarg;
        }
        if (flags & FL_FORCE) {
            argv[argc++] = "--force";
        }
        if (locked) {
            argv[argc++] = "--break-lock";
        }
        break;
    case 6:
        if (*json) {
            argv[argc++] = "--json";
        }
        argv[argc++] = "format";
        if (flags & FL_FORCE) {
            argv[argc++] = "--force";
        }
        break;
    default:
        if (*json) {
            argv[argc++] = "--json";
        }
        argv[argc++] = "devices";
        if (!(flags & FL_FORCE)) {
            argv[argc++] = "--no-measure";
        }
        break;
    }
    if ((flags & FL_LEASE0) && (flags & 7) < 6) { /* info and clean take --lease */
        argv[argc++] = "--lease";
        argv[argc++] = "0";
    }
    argv[argc++] = path;
    argv[argc] = NULL;
    return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_t f = {data, size};
    const unsigned t = fz_u8(&f) % NTEMPLATES;
    const uint8_t flags = fz_u8(&f), job = fz_u8(&f);
    const bool locked = load_image(&f, t, flags);

    char jobarg[16];
    snprintf(jobarg, sizeof(jobarg), "%u", job % 40u);
    char *argv[12];
    bool json;
    int argc = command_line(flags, locked, jobarg, argv, &json);

    static const char *const cmds[] = {"info",  "info",  "info",   "clean",
                                       "clean", "clean", "format", "devices"};
    const char *cmd = cmds[flags & 7];
    char *out = NULL;
    size_t outlen = 0;
    int rc = run(argc, argv, &out, &outlen);
    FZ_CHECK(rc >= 0 && rc <= IVMCTL_EXIT_MAX && IVMCTL_EXIT_USAGE != rc, "ivmctl %s exited %d",
             cmd, rc);
    if (json) {
        FZ_CHECK(json_ok(out, outlen), "ivmctl %s --json (exit %d) printed malformed JSON:\n%.*s",
                 cmd, rc, (int) (outlen > 4000 ? 4000 : outlen), out);
    }
    free(out);
    return 0;
}
