/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * SPDX-License-Identifier: BSD-3-Clause
 *
 * ivm_copyfloor: what moving N bytes from one process to another costs on
 * this machine, with no MPI in the way, by three methods.  It explains the
 * large-message cells of the coll/ivm benchmark (bench/README-coll.md):
 *
 *   two      the sender copies its buffer into shared memory in chunks,
 *            the receiver copies each chunk out as soon as it is there
 *            (pipelined, 4 chunk buffers): the least any component pays
 *            for a malloc'd buffer crossing a VM boundary (coll/ivm,
 *            btl/ivm's copy-in/copy-out);
 *   one      the receiver copies straight from the sender's buffer, which
 *            never changes (the sender only signals): what vader's single
 *            copy (CMA) costs in a benchmark that sends the same buffer
 *            again and again, whose lines then stay in the receiver's
 *            cache;
 *   two-new, one-new
 *            the same, but the sender rewrites its buffer before every
 *            send, as an application producing new data does (the time
 *            includes the rewrite): the lines of a single copy now have
 *            to come from the sender's cache, and the sender of one-new
 *            may rewrite only after the receiver's copy, while two-new's
 *            rewrite overlaps the receiver's copy out.
 *
 * Two processes (fork) on CPUs 0 and 1, a MAP_SHARED anonymous mapping
 * for the buffers and the flags; C11 atomics: a release store publishes a
 * chunk or a message after the data are written, the acquire load that
 * sees it orders the reader's copy after them; the reader's release store
 * of its progress lets the writer reuse a buffer only after the copy out.
 *
 * Usage: ivm_copyfloor [SIZE...]   (bytes, K/M suffixes; default 64K 256K
 * 1M 4M).  Prints one CSV line per method and size:
 *   COPYFLOOR,method,size,median_us  (median of 7 loops of ~20 ms each)
 */

#define _GNU_SOURCE
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64u * 1024u)
#define NBUF 4u
#define LOOPS 7
#define MAX_SIZE (16u << 20)

/* the shared page: flags on separate cache lines */
struct flags {
    _Alignas(64) _Atomic uint64_t posted; /* writer: chunks or messages posted */
    _Alignas(64) _Atomic uint64_t taken;  /* reader: chunks or messages copied */
    _Alignas(64) _Atomic uint64_t stop;   /* writer: the reader may exit */
};

enum method { TWO, ONE, TWO_NEW, ONE_NEW, NMETHODS };
static const char *const method_name[NMETHODS] = {"two", "one", "two-new", "one-new"};

struct shared {
    struct flags *f;
    uint8_t *chunks; /* NBUF x CHUNK: the "region" of method two */
    uint8_t *src;    /* the sender's buffer, readable by the receiver (one*) */
};

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e6 + (double) t.tv_nsec / 1e3;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    (void) sched_setaffinity(0, sizeof(s), &s);
}

static void wait_at_least(_Atomic uint64_t *w, uint64_t v)
{
    while (atomic_load_explicit(w, memory_order_acquire) < v) {
    }
}

/* One message of @len bytes from the writer's side; @seq counts units. */
static void send_one(struct shared *s, enum method m, uint8_t *mine, size_t len, uint64_t *seq,
                     unsigned gen)
{
    if (TWO_NEW == m) {
        memset(mine, (int) (gen & 0xff), len);
    }
    if (TWO == m || TWO_NEW == m) {
        for (size_t off = 0; off < len; off += CHUNK) {
            size_t n = len - off < CHUNK ? len - off : CHUNK;
            uint64_t k = ++*seq;
            if (k > NBUF) {
                wait_at_least(&s->f->taken, k - NBUF); /* buffer free again */
            }
            memcpy(s->chunks + (k % NBUF) * CHUNK, mine + off, n);
            atomic_store_explicit(&s->f->posted, k, memory_order_release);
        }
        return;
    }
    uint64_t k = ++*seq;
    wait_at_least(&s->f->taken, k - 1); /* the reader is done with the last one */
    if (ONE_NEW == m) {
        memset(s->src, (int) (gen & 0xff), len);
    }
    atomic_store_explicit(&s->f->posted, k, memory_order_release);
}

static void receive_one(struct shared *s, enum method m, uint8_t *dst, size_t len, uint64_t *seq)
{
    if (TWO == m || TWO_NEW == m) {
        for (size_t off = 0; off < len; off += CHUNK) {
            size_t n = len - off < CHUNK ? len - off : CHUNK;
            uint64_t k = ++*seq;
            wait_at_least(&s->f->posted, k);
            memcpy(dst + off, s->chunks + (k % NBUF) * CHUNK, n);
            atomic_store_explicit(&s->f->taken, k, memory_order_release);
        }
        return;
    }
    uint64_t k = ++*seq;
    wait_at_least(&s->f->posted, k);
    memcpy(dst, s->src, len);
    atomic_store_explicit(&s->f->taken, k, memory_order_release);
}

/* Messages per timed loop: about 20 ms at a rough 4 GB/s, both sides agree. */
static long iterations(size_t len)
{
    double est_us = (double) len / 4000.0 + 0.5;
    long n = (long) (20000.0 / est_us);
    return n < 10 ? 10 : n > 100000 ? 100000 : n;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* The reader (child): LOOPS + 1 loops of iterations(len) messages. */
static void reader(struct shared *s, enum method m, size_t len)
{
    uint8_t *dst = malloc(len);
    uint64_t seq = 0;
    if (NULL == dst) {
        _exit(1);
    }
    pin(1);
    memset(dst, 0, len);
    for (long i = 0; i < (LOOPS + 1) * iterations(len); i++) {
        receive_one(s, m, dst, len, &seq);
    }
    free(dst);
    _exit(0);
}

/* The writer (parent): times each loop until the reader has taken all. */
static double writer(struct shared *s, enum method m, size_t len)
{
    double t[LOOPS + 1];
    uint8_t *mine = malloc(len);
    uint64_t seq = 0;
    unsigned gen = 0;
    if (NULL == mine) {
        return -1.0;
    }
    pin(0);
    memset(mine, 1, len);
    memset(s->src, 1, len);
    for (int l = 0; l <= LOOPS; l++) {
        double t0 = now_us();
        for (long i = 0; i < iterations(len); i++) {
            send_one(s, m, mine, len, &seq, ++gen);
        }
        wait_at_least(&s->f->taken, seq);
        t[l] = (now_us() - t0) / (double) iterations(len);
    }
    free(mine);
    qsort(t + 1, LOOPS, sizeof(double), cmp_double); /* loop 0 warms up */
    return t[1 + LOOPS / 2];
}

static double measure(struct shared *s, enum method m, size_t len)
{
    atomic_store(&s->f->posted, 0);
    atomic_store(&s->f->taken, 0);
    pid_t pid = fork();
    if (pid < 0) {
        return -1.0;
    }
    if (0 == pid) {
        reader(s, m, len);
    }
    double us = writer(s, m, len);
    int status = 0;
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || 0 != WEXITSTATUS(status)) {
        return -1.0;
    }
    return us;
}

static size_t parse_size(const char *a)
{
    char *end;
    unsigned long long v = strtoull(a, &end, 10);
    if ('K' == *end) {
        v <<= 10, end++;
    } else if ('M' == *end) {
        v <<= 20, end++;
    }
    return ('\0' != *end || 0 == v || v > MAX_SIZE) ? 0 : (size_t) v;
}

int main(int argc, char **argv)
{
    static const char *const dflt[] = {"64K", "256K", "1M", "4M"};
    const int nsizes = argc > 1 ? argc - 1 : 4;
    const size_t map = 4096 + NBUF * CHUNK + MAX_SIZE;
    uint8_t *base = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (MAP_FAILED == base) {
        perror("ivm_copyfloor: mmap");
        return 1;
    }
    struct shared s = {(struct flags *) base, base + 4096, base + 4096 + NBUF * CHUNK};
    memset(base, 0, map);
    for (int i = 0; i < nsizes; i++) {
        const char *arg = argc > 1 ? argv[i + 1] : dflt[i];
        size_t len = parse_size(arg);
        if (0 == len) {
            fprintf(stderr, "ivm_copyfloor: bad size '%s' (1 byte to 16M, K/M suffixes)\n", arg);
            return 2;
        }
        for (int m = 0; m < NMETHODS; m++) {
            double us = measure(&s, (enum method) m, len);
            if (us < 0) {
                fprintf(stderr, "ivm_copyfloor: %s at %zu bytes failed\n", method_name[m], len);
                return 1;
            }
            printf("COPYFLOOR,%s,%zu,%.3f\n", method_name[m], len, us);
            fflush(stdout);
        }
    }
    return 0;
}
