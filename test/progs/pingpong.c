/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pingpong: latency and bandwidth between ranks 0 and 1, with data checks.
 *
 * For every message size (default 0, 8, 64, 512, 4 KiB, 32 KiB, 256 KiB,
 * 1 MiB) it runs:
 *   1. a checked phase: CHECK round trips in which every message carries a
 *      pattern derived from (size, iteration, direction) and the receiver
 *      verifies every byte;
 *   2. a timed ping-pong (no per-message checks, but the last message of each
 *      direction is verified): one-way latency = round trip / 2;
 *   3. for sizes >= 4 KiB a timed stream: WINDOW non-blocking sends back to
 *      back, then a zero-byte acknowledgement, repeated; bandwidth in MB/s
 *      (10^6 bytes per second).
 * Rank 0 prints one line per size:
 *     pingpong size=8 lat_us=1.234 bw_MBps=- iters=1000 checked=20
 * and "pingpong: ok" at the end.  Ranks other than 0 and 1 only take part in
 * the final barrier.  Exit status: 0, 1 on a data mismatch (reported with the
 * size, iteration and byte offset), 2 on bad usage.
 *
 * Usage: pingpong [-s SIZE[,SIZE...]] [-n ITERS] [-b BYTES] [-c CHECK] [-w WINDOW]
 *   -n  timed round trips per size (default 1000), fewer for large sizes:
 *   -b  at most BYTES per direction and size (but at least 10 round trips;
 *       default 64 MiB), so slow transports finish in reasonable time
 *   -c  checked round trips per size (default 20)
 *   -w  messages in flight in the bandwidth test (default 16)
 */
#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_SIZES 32

static int rank, nproc;

/* options */
static size_t sizes[MAX_SIZES] = {0, 8, 64, 512, 4096, 32768, 262144, 1048576};
static int nsizes = 8, window = 16;
static double budget = 64.0 * 1024 * 1024;
static long iters = 1000, check = 20;

/* buffers: maxsize + 1 bytes each */
static unsigned char *sbuf, *rbuf, **wbuf;
static MPI_Request *req;

static unsigned char pattern_byte(size_t size, long iter, int dir, size_t off)
{
    uint64_t x = (uint64_t) size * 0x9e3779b97f4a7c15ULL ^ (uint64_t) iter * 0xbf58476d1ce4e5b9ULL
                 ^ (uint64_t) dir * 0x94d049bb133111ebULL ^ (uint64_t) off * 0x2545f4914f6cdd1dULL;
    x ^= x >> 29;
    return (unsigned char) (x ^ (x >> 17));
}

static void fill(unsigned char *buf, size_t size, long iter, int dir)
{
    for (size_t i = 0; i < size; i++) {
        buf[i] = pattern_byte(size, iter, dir, i);
    }
}

static void verify(const unsigned char *buf, size_t size, long iter, int dir)
{
    for (size_t i = 0; i < size; i++) {
        if (buf[i] != pattern_byte(size, iter, dir, i)) {
            fprintf(stderr,
                    "pingpong: rank %d: data mismatch: size %zu, iteration %ld, direction %d, "
                    "byte %zu: got 0x%02x, expected 0x%02x\n",
                    rank, size, iter, dir, i, buf[i], pattern_byte(size, iter, dir, i));
            MPI_Abort(MPI_COMM_WORLD, 1);
        }
    }
}

static void usage(void)
{
    if (0 == rank) {
        fprintf(stderr, "usage: pingpong [-s SIZE[,SIZE...]] [-n ITERS] [-b BYTES] [-c CHECK] "
                        "[-w WINDOW]\n");
    }
    MPI_Finalize();
    exit(2);
}

/* -s SIZE,... into sizes[] */
static void parse_sizes(const char *arg)
{
    const char *p = arg;
    char *end;
    nsizes = 0;
    while (*p && nsizes < MAX_SIZES) {
        sizes[nsizes++] = strtoul(p, &end, 10);
        if (end == p) {
            usage();
        }
        p = (',' == *end) ? end + 1 : end;
    }
}

/* false (after the message) when the options or the job do not fit */
static bool parse_args(int argc, char **argv)
{
    int opt;
    while (-1 != (opt = getopt(argc, argv, "s:n:b:c:w:"))) {
        switch (opt) {
        case 's': parse_sizes(optarg); break;
        case 'n': iters = atol(optarg); break;
        case 'b': budget = atof(optarg); break;
        case 'c': check = atol(optarg); break;
        case 'w': window = atoi(optarg); break;
        default: usage();
        }
    }
    if (nproc < 2 || iters < 1 || check < 0 || window < 1 || nsizes < 1 || budget <= 0) {
        if (0 == rank) {
            fprintf(stderr, "pingpong: needs at least 2 ranks and positive counts\n");
        }
        return false;
    }
    return true;
}

static void *alloc_or_abort(size_t n)
{
    void *p = malloc(n);
    if (NULL == p) {
        fprintf(stderr, "pingpong: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    return p;
}

static void alloc_buffers(void)
{
    size_t maxsize = 0;
    for (int k = 0; k < nsizes; k++) {
        maxsize = sizes[k] > maxsize ? sizes[k] : maxsize;
    }
    sbuf = alloc_or_abort(maxsize + 1);
    rbuf = alloc_or_abort(maxsize + 1);
    wbuf = alloc_or_abort(sizeof(*wbuf) * window);
    req = alloc_or_abort(sizeof(*req) * window);
    for (int w = 0; w < window; w++) {
        wbuf[w] = alloc_or_abort(maxsize + 1);
    }
}

/* 1. every byte checked */
static void checked_phase(size_t size, int peer)
{
    for (long it = 0; it < check; it++) {
        if (0 == rank) {
            fill(sbuf, size, it, 0);
            MPI_Send(sbuf, (int) size, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
            MPI_Recv(rbuf, (int) size, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            verify(rbuf, size, it, 1);
        } else {
            MPI_Recv(rbuf, (int) size, MPI_BYTE, peer, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            verify(rbuf, size, it, 0);
            fill(sbuf, size, it, 1);
            MPI_Send(sbuf, (int) size, MPI_BYTE, peer, 1, MPI_COMM_WORLD);
        }
    }
}

/* 2. timed ping-pong of @n round trips; the last message of each direction
 * is checked.  Returns the one-way latency in microseconds. */
static double timed_pingpong(size_t size, int peer, long n)
{
    fill(sbuf, size, -1, rank);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (long it = 0; it < n; it++) {
        if (0 == rank) {
            MPI_Send(sbuf, (int) size, MPI_BYTE, peer, 2, MPI_COMM_WORLD);
            MPI_Recv(rbuf, (int) size, MPI_BYTE, peer, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Recv(rbuf, (int) size, MPI_BYTE, peer, 2, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            MPI_Send(sbuf, (int) size, MPI_BYTE, peer, 2, MPI_COMM_WORLD);
        }
    }
    double lat = (MPI_Wtime() - t0) / n / 2.0 * 1e6;
    verify(rbuf, size, -1, peer);
    return lat;
}

/* 3. timed stream of WINDOW messages, acknowledged; returns MB/s */
static double timed_stream(size_t size, int peer, long n)
{
    long nbw = n / window < 4 ? 4 : n / window;
    for (int w = 0; w < window; w++) {
        fill(wbuf[w], size, w, 2);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = MPI_Wtime();
    for (long it = 0; it < nbw; it++) {
        for (int w = 0; w < window; w++) {
            if (0 == rank) {
                MPI_Isend(wbuf[w], (int) size, MPI_BYTE, peer, 3, MPI_COMM_WORLD, &req[w]);
            } else {
                MPI_Irecv(wbuf[w], (int) size, MPI_BYTE, peer, 3, MPI_COMM_WORLD, &req[w]);
            }
        }
        MPI_Waitall(window, req, MPI_STATUSES_IGNORE);
        if (0 == rank) {
            MPI_Recv(NULL, 0, MPI_BYTE, peer, 4, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Send(NULL, 0, MPI_BYTE, peer, 4, MPI_COMM_WORLD);
        }
    }
    double bw = (double) size * window * nbw / (MPI_Wtime() - t0) / 1e6;
    if (1 == rank) {
        for (int w = 0; w < window; w++) {
            verify(wbuf[w], size, w, 2);
        }
    }
    return bw;
}

/* The three phases for one size (ranks 0 and 1); rank 0 prints its line */
static void one_size(size_t size)
{
    int peer = 1 - rank;
    long n = iters;
    double bw = -1.0;

    /* BYTES per direction at most, but at least 10 round trips */
    if (size > 0 && (double) n * size > budget) {
        n = (long) (budget / size);
        n = n < 10 ? 10 : n;
    }
    checked_phase(size, peer);
    double lat = timed_pingpong(size, peer, n);
    if (size >= 4096) {
        bw = timed_stream(size, peer, n);
    }
    if (0 == rank) {
        if (bw >= 0) {
            printf("pingpong size=%zu lat_us=%.3f bw_MBps=%.1f iters=%ld checked=%ld\n", size, lat,
                   bw, n, check);
        } else {
            printf("pingpong size=%zu lat_us=%.3f bw_MBps=- iters=%ld checked=%ld\n", size, lat, n,
                   check);
        }
        fflush(stdout);
    }
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nproc);
    if (!parse_args(argc, argv)) {
        MPI_Finalize();
        return 2;
    }
    alloc_buffers();
    for (int k = 0; k < nsizes && rank < 2; k++) {
        one_size(sizes[k]);
    }

    MPI_Barrier(MPI_COMM_WORLD);
    if (0 == rank) {
        printf("pingpong: ok\n");
    }
    for (int w = 0; w < window; w++) {
        free(wbuf[w]);
    }
    free(wbuf);
    free(req);
    free(sbuf);
    free(rbuf);
    MPI_Finalize();
    return 0;
}
