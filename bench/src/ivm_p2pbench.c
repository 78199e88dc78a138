/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/*
 * ivm_p2pbench: point-to-point MPI benchmark between exactly two ranks.
 *
 * Tests (-t, comma separated):
 *   lat   ping-pong; rank 0 sends, rank 1 answers with the same size.
 *         value = half the round-trip time, microseconds.
 *   bw    streaming bandwidth: rank 0 posts a window of W MPI_Isend, rank 1
 *         a window of W MPI_Irecv; after each window rank 1 answers with a
 *         4-byte ack.  value = size*W*iters/time, MB/s (10^6 bytes/s).
 *   bibw  bidirectional bandwidth: both ranks post W MPI_Irecv and W
 *         MPI_Isend per iteration and wait for all of them.
 *         value = 2*size*W*iters/time, MB/s.
 *   rate  message rate: the bw loop at small sizes.
 *         value = W*iters/time, millions of messages per second.
 *
 * Each (test, size) is measured like this: a warm-up of at least three
 * rounds, the first of -w iterations, each twice as long as the one before,
 * until it has run for a tenth of the target time (-T); from the speed of
 * its last two rounds rank 0 picks the iteration count that fills the target
 * time (clamped to [-n, -N]) and broadcasts it; then -r
 * measured loops run, each after a barrier and timed by rank 0 with
 * MPI_Wtime.  Warm-up iterations are never part of a reported value.
 *
 * Window slots use distinct buffer slices; the window shrinks for large
 * messages so that W*size stays within the buffer cap (-B).  With -a the
 * buffers come from MPI_Alloc_mem with the info hints given by -H (e.g.
 * -H mpool_hints=ivm selects mpool/ivm), otherwise from posix_memalign.
 *
 * Output (rank 0, stdout), one record per line:
 *   # free text
 *   INFO,<key>,<value>
 *   CPU,<rank>,<host>,<cpu at start>,<cpu at end>,<affinity list>,<autogroup>
 *                                  (the scheduler autogroup, i.e. the session:
 *                                  ranks in one share one CPU share under load)
 *   CVAR,<name>,<value>            MPI_T control variables (-c prefixes)
 *   RESULT,<label>,<test>,<size>,<loop>,<iters>,<window>,<seconds>,<value>
 *   PVAR,<rank>,<name>,<value>     MPI_T counters read at the end (-p)
 * Exit status 0, 1 on a usage error, 2 on a data check failure.
 */

#define _GNU_SOURCE
#include <mpi.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum test_kind { T_LAT, T_BW, T_BIBW, T_RATE, T_COUNT };
static const char *const test_names[T_COUNT] = {"lat", "bw", "bibw", "rate"};

#define MAX_SIZES 64
#define MAX_HINTS 16
#define MAX_PREFIXES 16
#define MAX_PVARS 64
#define ACK_TAG 7
#define DATA_TAG 5

static struct {
    int tests[T_COUNT];
    size_t sizes[MAX_SIZES];
    int nsizes;
    size_t rate_sizes[MAX_SIZES];
    int nrate_sizes;
    double target; /* seconds per measured loop */
    long min_iters, max_iters, min_warmup;
    int window;
    size_t buf_cap;
    int loops;
    int alloc_mem;
    char *hint_keys[MAX_HINTS], *hint_vals[MAX_HINTS];
    int nhints;
    char *cvar_prefixes[MAX_PREFIXES];
    int ncvar_prefixes;
    char *pvar_prefixes[MAX_PREFIXES];
    int npvar_prefixes;
    const char *label;
    int check;
} opt;

static int rank, peer;
static char *sbuf, *rbuf; /* buf_cap bytes each */
static char ack[4];

static void usage(FILE *f)
{
    fprintf(f, "Usage: ivm_p2pbench [options]   (run with exactly 2 MPI ranks)\n"
               "  -t LIST    tests: lat,bw,bibw,rate (default: all four)\n"
               "  -s LIST    sizes for lat/bw/bibw: comma list of sizes and ranges LO:HI\n"
               "             (LO, then powers of two up to HI); K/M suffixes allowed\n"
               "             (default 0:4M, i.e. 0 and 1, 2, 4, ... 4 MiB)\n"
               "  -S LIST    sizes for rate (default 1:1K)\n"
               "  -T MS      target time of one measured loop, milliseconds (default 100)\n"
               "  -n N       minimum measured iterations (default 5)\n"
               "  -N N       maximum measured iterations (default 2000000)\n"
               "  -w N       minimum warm-up iterations (default 2)\n"
               "  -W N       window of the bw/bibw/rate tests (default 64)\n"
               "  -B BYTES   buffer cap per direction: the window shrinks so that\n"
               "             window*size <= BYTES, at least 1 (default 8M)\n"
               "  -r N       measured loops per test and size (default 1)\n"
               "  -a         allocate the buffers with MPI_Alloc_mem\n"
               "  -H KEY=VAL info hint for MPI_Alloc_mem (repeatable; implies -a),\n"
               "             e.g. -H mpool_hints=ivm\n"
               "  -c PREFIX  print MPI_T control variables whose name starts with PREFIX\n"
               "             (repeatable)\n"
               "  -p PREFIX  print MPI_T performance variables (counters) whose name\n"
               "             starts with PREFIX, per rank, at the end (repeatable)\n"
               "  -l LABEL   label written into every RESULT line (default: run)\n"
               "  -C         check the received data of the last iteration of each loop\n"

               "  -h         this help\n");
}

static int parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) {
        return -1;
    }
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default: break;
    }
    if (*end != '\0') {
        return -1;
    }
    *out = (size_t) v;
    return 0;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *) a, y = *(const size_t *) b;
    return x < y ? -1 : x > y;
}

/* "0:4M,8,100" -> sorted, de-duplicated list */
static int parse_sizes(const char *arg, size_t *out, int *n)
{
    char *copy = strdup(arg), *save = NULL, *tok;
    int k = 0;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *colon = strchr(tok, ':');
        size_t lo, hi;
        if (colon) {
            *colon = '\0';
            if (parse_size(tok, &lo) || parse_size(colon + 1, &hi) || hi < lo) {
                free(copy);
                return -1;
            }
            if (k < MAX_SIZES) {
                out[k++] = lo;
            }
            size_t p = 1;
            while (p <= lo) {
                p <<= 1;
            }
            for (; p <= hi && k < MAX_SIZES; p <<= 1) {
                out[k++] = p;
            }
        } else {
            if (parse_size(tok, &lo)) {
                free(copy);
                return -1;
            }
            if (k < MAX_SIZES) {
                out[k++] = lo;
            }
        }
    }
    free(copy);
    qsort(out, k, sizeof(size_t), cmp_size);
    int m = 0;
    for (int i = 0; i < k; i++) {
        if (m == 0 || out[m - 1] != out[i]) {
            out[m++] = out[i];
        }
    }
    *n = m;
    return m > 0 ? 0 : -1;
}

static void set_defaults(void)
{
    opt.target = 0.1;
    opt.min_iters = 5;
    opt.max_iters = 2000000;
    opt.min_warmup = 2;
    opt.window = 64;
    opt.buf_cap = 8u << 20;
    opt.loops = 1;
    opt.label = "run";
    parse_sizes("0:4M", opt.sizes, &opt.nsizes);
    parse_sizes("1:1K", opt.rate_sizes, &opt.nrate_sizes);
}

static int tests_named; /* -t named at least one test */

/* -t NAME,...: the tests to run; -1 on an unknown name */
static int parse_tests(const char *arg)
{
    char *copy = strdup(arg), *save = NULL, *tok;
    for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int i;
        for (i = 0; i < T_COUNT && strcmp(tok, test_names[i]); i++) {
        }
        if (i == T_COUNT) {
            fprintf(stderr, "ivm_p2pbench: unknown test '%s'\n", tok);
            free(copy);
            return -1;
        }
        opt.tests[i] = 1;
        tests_named = 1;
    }
    free(copy);
    return 0;
}

/* -H KEY=VALUE: an MPI_Alloc_mem info hint (implies -a) */
static int parse_hint(const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || opt.nhints == MAX_HINTS) {
        fprintf(stderr, "ivm_p2pbench: -H wants KEY=VALUE\n");
        return -1;
    }
    opt.hint_keys[opt.nhints] = strndup(arg, eq - arg);
    opt.hint_vals[opt.nhints++] = strdup(eq + 1);
    opt.alloc_mem = 1;
    return 0;
}

/* a size list (-s, -S) */
static int parse_size_opt(const char *arg, size_t *list, int *n)
{
    if (parse_sizes(arg, list, n)) {
        fprintf(stderr, "ivm_p2pbench: bad size list '%s'\n", arg);
        return -1;
    }
    return 0;
}

/* One option @c with @arg: 0 done, 1 help, -1 bad */
static int parse_opt(int c, char *arg)
{
    switch (c) {
    case 't': return parse_tests(arg);
    case 's': return parse_size_opt(arg, opt.sizes, &opt.nsizes);
    case 'S': return parse_size_opt(arg, opt.rate_sizes, &opt.nrate_sizes);
    case 'T': opt.target = atof(arg) / 1000.0; return 0;
    case 'n': opt.min_iters = atol(arg); return 0;
    case 'N': opt.max_iters = atol(arg); return 0;
    case 'w': opt.min_warmup = atol(arg); return 0;
    case 'W': opt.window = atoi(arg); return 0;
    case 'B':
        if (parse_size(arg, &opt.buf_cap)) {
            fprintf(stderr, "ivm_p2pbench: bad size '%s'\n", arg);
            return -1;
        }
        return 0;
    case 'r': opt.loops = atoi(arg); return 0;
    case 'a': opt.alloc_mem = 1; return 0;
    case 'H': return parse_hint(arg);
    case 'c':
        if (opt.ncvar_prefixes < MAX_PREFIXES) {
            opt.cvar_prefixes[opt.ncvar_prefixes++] = arg;
        }
        return 0;
    case 'p':
        if (opt.npvar_prefixes < MAX_PREFIXES) {
            opt.pvar_prefixes[opt.npvar_prefixes++] = arg;
        }
        return 0;
    case 'l': opt.label = arg; return 0;
    case 'C': opt.check = 1; return 0;
    case 'h': return 1;
    default: return -1;
    }
}

static int parse_args(int argc, char **argv)
{
    int c, rc;
    set_defaults();
    while ((c = getopt(argc, argv, "t:s:S:T:n:N:w:W:B:r:aH:c:p:l:Ch")) != -1) {
        if (0 != (rc = parse_opt(c, optarg))) {
            return rc;
        }
    }
    if (optind != argc || opt.target <= 0 || opt.min_iters < 1 || opt.max_iters < opt.min_iters
        || opt.min_warmup < 1 || opt.window < 1 || opt.loops < 1 || opt.buf_cap < 64) {
        fprintf(stderr, "ivm_p2pbench: bad arguments\n");
        return -1;
    }
    if (!tests_named) {
        for (int i = 0; i < T_COUNT; i++) {
            opt.tests[i] = 1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* buffers */

static char *alloc_buf(size_t len)
{
    void *p = NULL;
    if (opt.alloc_mem) {
        MPI_Info info = MPI_INFO_NULL;
        if (opt.nhints > 0) {
            MPI_Info_create(&info);
            for (int i = 0; i < opt.nhints; i++) {
                MPI_Info_set(info, opt.hint_keys[i], opt.hint_vals[i]);
            }
        }
        if (MPI_SUCCESS != MPI_Alloc_mem((MPI_Aint) len, info, &p)) {
            p = NULL;
        }
        if (info != MPI_INFO_NULL) {
            MPI_Info_free(&info);
        }
    } else if (posix_memalign(&p, 4096, len)) {
        p = NULL;
    }
    if (p == NULL) {
        fprintf(stderr, "ivm_p2pbench: rank %d: cannot allocate %zu bytes\n", rank, len);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    memset(p, 0, len); /* fault the pages in before timing */
    return p;
}

static void free_buf(char *p)
{
    if (opt.alloc_mem) {
        MPI_Free_mem(p);
    } else {
        free(p);
    }
}

static size_t stride_for(size_t size)
{
    return size < 64 ? 64 : (size + 63) & ~(size_t) 63;
}

static int window_for(enum test_kind t, size_t size)
{
    if (t == T_LAT) {
        return 1;
    }
    size_t w = opt.buf_cap / stride_for(size);
    if (w > (size_t) opt.window) {
        w = opt.window;
    }
    return w < 1 ? 1 : (int) w;
}

/* ------------------------------------------------------------------ */
/* kernels: run @iters iterations, return rank 0's elapsed time */

static double run_lat(size_t size, long iters)
{
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (rank == 0) {
        for (long i = 0; i < iters; i++) {
            MPI_Send(sbuf, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD);
            MPI_Recv(rbuf, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    } else {
        for (long i = 0; i < iters; i++) {
            MPI_Recv(rbuf, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(sbuf, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD);
        }
    }
    return MPI_Wtime() - t0;
}

static MPI_Request reqs[2 * 1024];

static double run_bw(size_t size, int w, long iters)
{
    size_t stride = stride_for(size);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    if (rank == 0) {
        for (long i = 0; i < iters; i++) {
            for (int j = 0; j < w; j++) {
                MPI_Isend(sbuf + j * stride, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD,
                          &reqs[j]);
            }
            MPI_Waitall(w, reqs, MPI_STATUSES_IGNORE);
            MPI_Recv(ack, 4, MPI_CHAR, peer, ACK_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        }
    } else {
        for (long i = 0; i < iters; i++) {
            for (int j = 0; j < w; j++) {
                MPI_Irecv(rbuf + j * stride, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD,
                          &reqs[j]);
            }
            MPI_Waitall(w, reqs, MPI_STATUSES_IGNORE);
            MPI_Send(ack, 4, MPI_CHAR, peer, ACK_TAG, MPI_COMM_WORLD);
        }
    }
    return MPI_Wtime() - t0;
}

static double run_bibw(size_t size, int w, long iters)
{
    size_t stride = stride_for(size);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (long i = 0; i < iters; i++) {
        for (int j = 0; j < w; j++) {
            MPI_Irecv(rbuf + j * stride, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD,
                      &reqs[j]);
        }
        for (int j = 0; j < w; j++) {
            MPI_Isend(sbuf + j * stride, (int) size, MPI_CHAR, peer, DATA_TAG, MPI_COMM_WORLD,
                      &reqs[w + j]);
        }
        MPI_Waitall(2 * w, reqs, MPI_STATUSES_IGNORE);
    }
    return MPI_Wtime() - t0;
}

static double run_kernel(enum test_kind t, size_t size, int w, long iters)
{
    switch (t) {
    case T_LAT: return run_lat(size, iters);
    case T_BIBW: return run_bibw(size, w, iters);
    default: return run_bw(size, w, iters);
    }
}

static double value_of(enum test_kind t, size_t size, int w, long iters, double secs)
{
    switch (t) {
    case T_LAT: return secs * 1e6 / (2.0 * iters);
    case T_BW: return (double) size * w * iters / secs / 1e6;
    case T_BIBW: return 2.0 * size * w * iters / secs / 1e6;
    default: return (double) w * iters / secs / 1e6;
    }
}

/* Fill the send slices with a pattern that names sender, slice and round
 * so that -C can tell a stale or misplaced message from a right one. */
static unsigned char pattern(int sender, int slice, size_t i)
{
    return (unsigned char) (sender * 131 + slice * 31 + i * 7 + 1);
}

static void fill_send(size_t size, int w)
{
    size_t stride = stride_for(size);
    for (int j = 0; j < w; j++) {
        for (size_t i = 0; i < size; i++) {
            sbuf[j * stride + i] = (char) pattern(rank, j, i);
        }
    }
    memset(rbuf, 0, w * stride < opt.buf_cap ? w * stride : opt.buf_cap);
}

static int verify(enum test_kind t, size_t size, int w)
{
    size_t stride = stride_for(size);
    int bad = 0;
    int receives = (t == T_LAT || t == T_BIBW) || rank == 1;
    if (receives) {
        for (int j = 0; j < w && !bad; j++) {
            for (size_t i = 0; i < size; i++) {
                if ((unsigned char) rbuf[j * stride + i] != pattern(peer, j, i)) {
                    fprintf(stderr,
                            "ivm_p2pbench: rank %d: %s size %zu: byte %zu of slice %d wrong\n",
                            rank, test_names[t], size, i, j);
                    bad = 1;
                    break;
                }
            }
        }
    }
    int any;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return any;
}

static int measure(enum test_kind t, size_t size)
{
    int w = window_for(t, size);
    long k = opt.min_warmup, done = 0, iters, prev_k = 0;
    int rounds = 0;
    double spent = 0, secs = 0, prev_secs = 0;

    if (opt.check) {
        fill_send(size, w);
    }
    /* warm-up: doubling rounds until a tenth of the target time has passed */
    for (;;) {
        prev_secs = secs;
        prev_k = rounds ? k / 2 : 0;
        secs = run_kernel(t, size, w, k);
        spent += secs;
        done += k;
        rounds++;
        int more = (spent < opt.target / 10 || rounds < 3) && done < opt.max_iters;
        MPI_Bcast(&more, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (!more) {
            break;
        }
        k *= 2;
    }
    if (rank == 0) {
        /* speed of the last two rounds (two thirds of the warm-up) */
        double per = (secs + prev_secs) / (double) (k + prev_k);
        double want = per > 0 ? opt.target / per : (double) opt.max_iters;
        iters = want < opt.min_iters   ? opt.min_iters
                : want > opt.max_iters ? opt.max_iters
                                       : (long) want;
    }
    MPI_Bcast(&iters, 1, MPI_LONG, 0, MPI_COMM_WORLD);

    for (int loop = 0; loop < opt.loops; loop++) {
        double loop_secs = run_kernel(t, size, w, iters);
        if (rank == 0) {
            printf("RESULT,%s,%s,%zu,%d,%ld,%d,%.9f,%.6g\n", opt.label, test_names[t], size, loop,
                   iters, w, loop_secs, value_of(t, size, w, iters, loop_secs));
            fflush(stdout);
        }
        if (opt.check && verify(t, size, w)) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* where the ranks run */

static void cpu_report(int cpu_start)
{
    char line[512], host[64];
    cpu_set_t set;
    int len = 0;

    gethostname(host, sizeof(host));
    host[sizeof(host) - 1] = '\0';
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof(set), &set);
    char aff[256] = "";
    for (int c = 0; c < CPU_SETSIZE && len < (int) sizeof(aff) - 8; c++) {
        if (CPU_ISSET(c, &set)) {
            len += snprintf(aff + len, sizeof(aff) - len, "%s%d", len ? " " : "", c);
        }
    }
    char group[64] = "?";
    FILE *f = fopen("/proc/self/autogroup", "r");
    if (f) {
        if (fgets(group, sizeof(group), f)) {
            group[strcspn(group, " \n")] = '\0';
        }
        fclose(f);
    }
    snprintf(line, sizeof(line), "CPU,%d,%s,%d,%d,%s,%s", rank, host, cpu_start, sched_getcpu(),
             aff, group);
    char all[2][512];
    MPI_Gather(line, 512, MPI_CHAR, all, 512, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (rank == 0) {
        printf("%s\n%s\n", all[0], all[1]);
    }
}

/* ------------------------------------------------------------------ */
/* MPI_T */

static int has_prefix(const char *name, char **prefixes, int n)
{
    for (int i = 0; i < n; i++) {
        if (0 == strncmp(name, prefixes[i], strlen(prefixes[i]))) {
            return 1;
        }
    }
    return 0;
}

static void print_cvars(void)
{
    int num;
    if (opt.ncvar_prefixes == 0 || rank != 0 || MPI_SUCCESS != MPI_T_cvar_get_num(&num)) {
        return;
    }
    for (int i = 0; i < num; i++) {
        char name[256], desc[16];
        int nlen = sizeof(name), dlen = sizeof(desc), verb, bind, scope, count;
        MPI_Datatype dt;
        MPI_T_enum et;
        MPI_T_cvar_handle h;
        if (MPI_SUCCESS
                != MPI_T_cvar_get_info(i, name, &nlen, &verb, &dt, &et, desc, &dlen, &bind, &scope)
            || !has_prefix(name, opt.cvar_prefixes, opt.ncvar_prefixes)
            || MPI_SUCCESS != MPI_T_cvar_handle_alloc(i, NULL, &h, &count)) {
            continue;
        }
        union {
            int i;
            unsigned u;
            unsigned long ul;
            unsigned long long ull;
            double d;
            char s[1024];
        } v;
        memset(&v, 0, sizeof(v));
        if (dt == MPI_CHAR && count > (int) sizeof(v.s)) {
            MPI_T_cvar_handle_free(&h);
            continue;
        }
        if (MPI_SUCCESS == MPI_T_cvar_read(h, &v)) {
            if (dt == MPI_INT) {
                char ename[128] = "";
                int n, elen = sizeof(ename), ev;
                if (et != MPI_T_ENUM_NULL
                    && MPI_SUCCESS == MPI_T_enum_get_info(et, &n, desc, &dlen)) {
                    for (int e = 0; e < n; e++) {
                        elen = sizeof(ename);
                        if (MPI_SUCCESS == MPI_T_enum_get_item(et, e, &ev, ename, &elen)
                            && ev == v.i) {
                            break;
                        }
                        ename[0] = '\0';
                    }
                }
                if (ename[0]) {
                    printf("CVAR,%s,%s\n", name, ename);
                } else {
                    printf("CVAR,%s,%d\n", name, v.i);
                }
            } else if (dt == MPI_UNSIGNED) {
                printf("CVAR,%s,%u\n", name, v.u);
            } else if (dt == MPI_UNSIGNED_LONG) {
                printf("CVAR,%s,%lu\n", name, v.ul);
            } else if (dt == MPI_UNSIGNED_LONG_LONG || dt == MPI_COUNT) {
                printf("CVAR,%s,%llu\n", name, v.ull);
            } else if (dt == MPI_DOUBLE) {
                printf("CVAR,%s,%g\n", name, v.d);
            } else if (dt == MPI_CHAR) {
                v.s[sizeof(v.s) - 1] = '\0';
                /* CSV: commas in values become '|' */
                for (char *p = v.s; *p; p++) {
                    if (*p == ',') *p = '|';
                }
                printf("CVAR,%s,%s\n", name, v.s);
            }
        }
        MPI_T_cvar_handle_free(&h);
    }
    fflush(stdout);
}

static MPI_T_pvar_session pv_session;
static MPI_T_pvar_handle pv_handles[MAX_PVARS];
static char pv_names[MAX_PVARS][128];
static int npv;

static void start_pvars(void)
{
    int num;
    if (opt.npvar_prefixes == 0 || MPI_SUCCESS != MPI_T_pvar_get_num(&num)
        || MPI_SUCCESS != MPI_T_pvar_session_create(&pv_session)) {
        return;
    }
    /* Both ranks run the same binary with the same components, so the
     * variables and their order match and can be gathered by index. */
    for (int i = 0; i < num && npv < MAX_PVARS; i++) {
        char name[128], desc[16];
        int nlen = sizeof(name), dlen = sizeof(desc), verb, cls, bind, ro, cont, atomic, count;
        MPI_Datatype dt;
        MPI_T_enum et;
        if (MPI_SUCCESS
                != MPI_T_pvar_get_info(i, name, &nlen, &verb, &cls, &dt, &et, desc, &dlen, &bind,
                                       &ro, &cont, &atomic)
            || !has_prefix(name, opt.pvar_prefixes, opt.npvar_prefixes)
            || cls != MPI_T_PVAR_CLASS_COUNTER || dt != MPI_UNSIGNED_LONG_LONG
            || bind != MPI_T_BIND_NO_OBJECT
            || MPI_SUCCESS
                   != MPI_T_pvar_handle_alloc(pv_session, i, NULL, &pv_handles[npv], &count)) {
            continue;
        }
        if (count != 1) {
            MPI_T_pvar_handle_free(pv_session, &pv_handles[npv]);
            continue;
        }
        if (!cont) {
            MPI_T_pvar_start(pv_session, pv_handles[npv]);
        }
        snprintf(pv_names[npv++], sizeof(pv_names[0]), "%s", name);
    }
}

static void print_pvars(void)
{
    unsigned long long mine[MAX_PVARS] = {0}, all[2][MAX_PVARS];
    int n = npv, n1 = 0;
    if (opt.npvar_prefixes == 0) {
        return;
    }
    for (int i = 0; i < npv; i++) {
        MPI_T_pvar_read(pv_session, pv_handles[i], &mine[i]);
    }
    MPI_Allreduce(&n, &n1, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    MPI_Gather(mine, MAX_PVARS, MPI_UNSIGNED_LONG_LONG, all, MAX_PVARS, MPI_UNSIGNED_LONG_LONG, 0,
               MPI_COMM_WORLD);
    if (rank == 0) {
        for (int r = 0; r < 2; r++) {
            for (int i = 0; i < n1; i++) {
                printf("PVAR,%d,%s,%llu\n", r, pv_names[i], all[r][i]);
            }
        }
        fflush(stdout);
    }
}

/* ------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    int size, provided, rc, cpu_start = sched_getcpu();

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    rc = parse_args(argc, argv);
    if (rc != 0) {
        if (rank == 0) {
            usage(rc > 0 ? stdout : stderr);
        }
        MPI_Finalize();
        return rc > 0 ? 0 : 1;
    }
    if (size != 2) {
        if (rank == 0) {
            fprintf(stderr, "ivm_p2pbench: needs exactly 2 ranks (got %d)\n", size);
        }
        MPI_Finalize();
        return 1;
    }
    peer = 1 - rank;
    MPI_T_init_thread(MPI_THREAD_SINGLE, &provided);

    if (rank == 0) {
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len;
        MPI_Get_library_version(lib, &len);
        char *nl = strchr(lib, ',');
        if (nl) *nl = '\0';
        printf("# ivm_p2pbench\n");
        printf("INFO,label,%s\nINFO,library,%s\n", opt.label, lib);
        printf("INFO,alloc,%s\n", opt.alloc_mem ? "MPI_Alloc_mem" : "posix_memalign");
        for (int i = 0; i < opt.nhints; i++) {
            printf("INFO,hint,%s=%s\n", opt.hint_keys[i], opt.hint_vals[i]);
        }
        printf("INFO,target_ms,%g\nINFO,window,%d\nINFO,buf_cap,%zu\nINFO,loops,%d\n",
               opt.target * 1e3, opt.window, opt.buf_cap, opt.loops);
        fflush(stdout);
    }
    print_cvars();

    sbuf = alloc_buf(opt.buf_cap);
    rbuf = alloc_buf(opt.buf_cap);
    start_pvars();

    /* Establish the connection (and whatever a BTL sets up lazily) before
     * the first warm-up, so that cost lands in no test. */
    for (int i = 0; i < 4; i++) {
        run_lat(1, 8);
    }

    rc = 0;
    for (int t = 0; t < T_COUNT && rc == 0; t++) {
        if (!opt.tests[t]) {
            continue;
        }
        const size_t *sz = t == T_RATE ? opt.rate_sizes : opt.sizes;
        int n = t == T_RATE ? opt.nrate_sizes : opt.nsizes;
        for (int i = 0; i < n && rc == 0; i++) {
            if (sz[i] > opt.buf_cap || sz[i] > (size_t) INT32_MAX) {
                continue;
            }
            rc = measure((enum test_kind) t, sz[i]);
        }
    }
    cpu_report(cpu_start);
    print_pvars();

    free_buf(sbuf);
    free_buf(rbuf);
    MPI_T_finalize();
    MPI_Finalize();
    return rc ? 2 : 0;
}
