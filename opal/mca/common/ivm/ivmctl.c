/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/* ivmctl: the administrator's view of ivm devices and regions -- devices,
 * info, format, clean.  It uses the same core as the Open MPI components and
 * nothing of Open MPI.  This file: the command line and dispatch (the fuzz
 * harness test/fuzz/fuzz_ivmctl.c compiles it with -Dmain=ivmctl_main and
 * calls it many times in one process: no exit(), no state kept between
 * calls but getopt's, which the harness resets). */


#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ivmctl.h"

/* The ivm version.  One place: opal/mca/common/ivm/VERSION, which configure
 * turns into IVM_PACKAGE_VERSION (configure.m4; Makefile.am hands it to
 * ivmctl in an Open MPI tree too) or test/fuzz/Makefile into IVMCTL_VERSION. */
#if defined(IVM_PACKAGE_VERSION)
#define IVMCTL_VERSION_STRING IVM_PACKAGE_VERSION
#elif defined(IVMCTL_VERSION)
#define IVMCTL_VERSION_STRING IVMCTL_VERSION
#else
#error "define IVM_PACKAGE_VERSION or IVMCTL_VERSION (from opal/mca/common/ivm/VERSION)"
#endif

static const char usage_text[] =
    "Usage: ivmctl [--json] COMMAND [OPTIONS] [DEVICE]\n"
    "       ivmctl --help | --version\n"
    "\n"
    "Administer ivm devices (QEMU ivshmem BAR2 or a host file) and the region in them.\n"
    "\n"
    "Commands:\n"
    "  devices [DEVICE...]  (alias: probe) every device found, or those named: kind, size,\n"
    "                       permissions, region state and whether the mapping is uncached\n"
    "      --no-measure     skip the timed read that tells an uncached mapping\n"
    "  info                 show the superblock, jobs, process slots and usage\n"
    "      --lease SECONDS  a lease older than this has expired (default 30, as\n"
    "                       opal_common_ivm_lease; 0: never; at most 604800)\n"
    "  format               write a fresh region format (new region id); refuses while\n"
    "                       processes are attached unless --force\n"
    "      --jobs N         job table entries, 1-4096 (default: scaled to the size)\n"
    "      --slots N        process slots, 1-65536 (default: scaled to the size)\n"
    "      --size SIZE      create or grow DEVICE as a host file of SIZE bytes first\n"
    "                       (suffixes K, M, G, T; 1M to 16T)\n"
    "      --force          format even if processes are attached or the region is\n"
    "                       stuck mid-format\n"
    "  clean                free slots of dead processes and jobs left without processes:\n"
    "                       processes of this VM that are gone, and processes of any VM\n"
    "                       whose lease expired\n"
    "      --lease SECONDS  as for info\n"
    "      --job N          also remove job N; refuses if any of its processes is alive,\n"
    "                       or lives in another VM unless --force\n"
    "      --break-lock     release the region lock (its holder must be gone)\n"
    "\n"
    "--json: the output is one JSON object, also for errors: {\"error\":{\"code\":N,\n"
    "\"message\":\"...\"}} (and the message on stderr).\n"
    "\n"
    "DEVICE is a host file, a PCI address (0000:00:04.0), a sysfs resource2 path or\n"
    "/dev/uioN.  Without DEVICE: the first ivshmem PCI device (1af4:1110), else\n"
    "" IVM_DEFAULT_DEVICE_PATH ".\n"
    "\n"
    "Exit status: 0 ok, 1 unexpected error, 2 usage, 3 device not found, 4 device too\n"
    "small, 5 not an ivm region, 6 format version mismatch, 7 region corrupted,\n"
    "8 region busy, 9 permission denied, 10 region not formatted, 11 job not active,\n"
    "12 timed out (region lock held), 13 I/O error.  See ivmctl(1).\n";

enum { PARSE_CONTINUE = -1, PARSE_DONE = -2 };

struct command {
    const char *name;
    unsigned allowed; /* enum ivmctl_opt */
    int max_devices;
};

static const struct command commands[] = {
    {"devices", IVMCTL_OPT_NO_MEASURE, 1 << 20},
    {"probe", IVMCTL_OPT_NO_MEASURE, 1 << 20},
    {"info", IVMCTL_OPT_LEASE, 1},
    {"format", IVMCTL_OPT_FORCE | IVMCTL_OPT_JOBS | IVMCTL_OPT_SLOTS | IVMCTL_OPT_SIZE, 1},
    {"clean", IVMCTL_OPT_FORCE | IVMCTL_OPT_JOB | IVMCTL_OPT_BREAK_LOCK | IVMCTL_OPT_LEASE, 1},
};

static const struct option longopts[] = {
    {"json", no_argument, NULL, 'j'},        {"force", no_argument, NULL, 'f'},
    {"jobs", required_argument, NULL, 'J'},  {"slots", required_argument, NULL, 'S'},
    {"size", required_argument, NULL, 's'},  {"job", required_argument, NULL, 'n'},
    {"break-lock", no_argument, NULL, 'b'},  {"help", no_argument, NULL, 'h'},
    {"lease", required_argument, NULL, 'L'}, {"version", no_argument, NULL, 'V'},
    {"no-measure", no_argument, NULL, 'M'},  {NULL, 0, NULL, 0}};

/* A usage error: what was wrong, then the synopsis (stderr). */
static int usage_error(const struct ivmctl_options *o, const char *what)
{
    ivmctl_fail(o, IVMCTL_EXIT_USAGE, "%s", what);
    fputs("Usage: ivmctl [--json] COMMAND [OPTIONS] [DEVICE]\n"
          "Commands: devices (probe), info, format, clean.  'ivmctl --help' tells more.\n",
          stderr);
    return IVMCTL_EXIT_USAGE;
}

/* A numeric option into its field; false (and @why) if out of range. */
static bool number_option(int c, const char *arg, struct ivmctl_options *o, char *why, size_t len)
{
    static const struct {
        int c;
        const char *name;
        unsigned bit;
        bool suffixes;
        uint64_t min, max;
    } spec[] = {
        {'J', "--jobs", IVMCTL_OPT_JOBS, false, 1, IVM_JOB_COUNT_MAX},
        {'S', "--slots", IVMCTL_OPT_SLOTS, false, 1, IVM_SLOT_COUNT_MAX},
        {'n', "--job", IVMCTL_OPT_JOB, false, 0, IVM_JOB_COUNT_MAX - 1},
        {'L', "--lease", IVMCTL_OPT_LEASE, false, 0, IVMCTL_LEASE_MAX_S},
        {'s', "--size", IVMCTL_OPT_SIZE, true, IVMCTL_SIZE_MIN, IVMCTL_SIZE_MAX},
    };
    size_t i = 0;
    uint64_t v;
    while (spec[i].c != c) {
        i++;
    }
    o->seen |= spec[i].bit;
    if (!ivmctl_parse_number(spec[i].name, arg, spec[i].suffixes, spec[i].min, spec[i].max, &v, why,
                             len)) {
        return false;
    }
    /* the ranges above make every narrowing below exact */
    switch (c) {
    case 'J': o->jobs = (uint32_t) v; break;
    case 'S': o->slots = (uint32_t) v; break;
    case 'n': o->job = (int64_t) v; break;
    case 'L': o->lease_s = (uint32_t) v; break;
    default: o->size = v; break;
    }
    return true;
}

/* An option getopt_long refused: unknown, or its argument missing. */
static int bad_option(int c, char **argv, const struct ivmctl_options *o)
{
    char what[256];
    const char *arg = argv[optind - 1];
    if (':' == c) {
        snprintf(what, sizeof(what), "option '%.200s' needs an argument", arg);
    } else if (0 != optopt) {
        snprintf(what, sizeof(what), "unknown option '-%c'", optopt);
    } else {
        snprintf(what, sizeof(what), "unknown option '%.200s'", arg);
    }
    return usage_error(o, what);
}

/* Options up to the next operand (getopt "+": the command and DEVICE
 * operands end a run of options; main calls this again after each). */
static int parse_options(int argc, char **argv, struct ivmctl_options *o)
{
    char why[256];
    int c;
    opterr = 0; /* our messages, also under --json */
    while (-1 != (c = getopt_long(argc, argv, "+:jfhV", longopts, NULL))) {
        switch (c) {
        case 'j': o->json = true; break;
        case 'f':
            o->force = true;
            o->seen |= IVMCTL_OPT_FORCE;
            break;
        case 'b':
            o->break_lock = true;
            o->seen |= IVMCTL_OPT_BREAK_LOCK;
            break;
        case 'M':
            o->no_measure = true;
            o->seen |= IVMCTL_OPT_NO_MEASURE;
            break;
        case 'h': fputs(usage_text, stdout); return PARSE_DONE;
        case 'V':
            if (o->json) {
                printf("{\"ivmctl\":\"%s\",\"region_format_version\":%u}\n", IVMCTL_VERSION_STRING,
                       IVM_FORMAT_VERSION);
            } else {
                printf("ivmctl (ivm) %s\nregion format version %u\n", IVMCTL_VERSION_STRING,
                       IVM_FORMAT_VERSION);
            }
            return PARSE_DONE;
        case 'J':
        case 'S':
        case 'n':
        case 'L':
        case 's':
            if (!number_option(c, optarg, o, why, sizeof(why))) {
                return usage_error(o, why);
            }
            break;
        default: return bad_option(c, argv, o);
        }
    }
    return PARSE_CONTINUE;
}

/* --json anywhere (before a "--"): known before any error is reported. */
static bool wants_json(int argc, char **argv)
{
    for (int i = 1; i < argc && 0 != strcmp(argv[i], "--"); i++) {
        if (0 == strcmp(argv[i], "--json")) {
            return true;
        }
    }
    return false;
}

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (0 == strcmp(commands[i].name, name)) {
            return &commands[i];
        }
    }
    return NULL;
}

/* The option among @bits that comes first in longopts, for messages. */
static const char *option_name(unsigned bits)
{
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{IVMCTL_OPT_FORCE, "--force"}, {IVMCTL_OPT_JOBS, "--jobs"},
                 {IVMCTL_OPT_SLOTS, "--slots"}, {IVMCTL_OPT_SIZE, "--size"},
                 {IVMCTL_OPT_JOB, "--job"},     {IVMCTL_OPT_BREAK_LOCK, "--break-lock"},
                 {IVMCTL_OPT_LEASE, "--lease"}, {IVMCTL_OPT_NO_MEASURE, "--no-measure"}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (bits & names[i].bit) {
            return names[i].name;
        }
    }
    return "?";
}

int main(int argc, char **argv)
{
    struct ivmctl_options o = {.job = -1, .lease_s = 30};
    char what[256], *devices[argc > 0 ? argc : 1];
    int ndev = 0, rc;

    o.json = wants_json(argc, argv);
    /* options may come before, between and after the operands */
    while (PARSE_CONTINUE == (rc = parse_options(argc, argv, &o)) && optind < argc) {
        if (0 == strcmp(argv[optind - 1], "--")) { /* getopt ate "--": operands only */
            while (optind < argc) {
                devices[ndev++] = argv[optind++];
            }
            break;
        }
        devices[ndev++] = argv[optind++];
    }
    if (PARSE_CONTINUE != rc) {
        return PARSE_DONE == rc ? IVMCTL_EXIT_OK : rc;
    }
    if (0 == ndev) {
        return usage_error(&o, "no command given");
    }
    const struct command *cmd = find_command(devices[0]);
    if (NULL == cmd) {
        snprintf(what, sizeof(what), "unknown command '%.100s'", devices[0]);
        return usage_error(&o, what);
    }
    if (0 != (o.seen & ~cmd->allowed)) {
        snprintf(what, sizeof(what), "%s does not apply to '%s'",
                 option_name(o.seen & ~cmd->allowed), cmd->name);
        return usage_error(&o, what);
    }
    if (ndev - 1 > cmd->max_devices) {
        snprintf(what, sizeof(what), "'%s' takes one DEVICE at most, not %d", cmd->name, ndev - 1);
        return usage_error(&o, what);
    }
    if (0 == strcmp(cmd->name, "devices") || 0 == strcmp(cmd->name, "probe")) {
        return ivmctl_devices(devices + 1, ndev - 1, &o);
    }
    return ivmctl_region_command(cmd->name, ndev > 1 ? devices[1] : NULL, &o);
}
