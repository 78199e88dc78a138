/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_fbox_hdr: user data that looks like a fast-box header must arrive as
 * data (regression test for btl/ivm, used by test/integration/btl_p2p.sh;
 * the bug it reproduced was fixed in 6b9901d: the sender now zeroes the
 * next header's place before publishing a header).
 *
 * btl/ivm copies small messages into a fast box, a byte ring: an 8-byte
 * header (length, tag, flags, 16-bit sequence number) at a 16-byte aligned
 * offset, then the payload.  The receiver polls the header word at its
 * read position.  The ring is reused lap after lap, and message boundaries
 * move, so the word at the next read position is often a stale *payload*
 * word of the previous lap.  If stale payload can pass for a valid header,
 * the receiver takes garbage for a message.
 *
 * This program ping-pongs small messages of pseudo-random sizes (so that
 * message boundaries move from lap to lap) between ranks 0 and 1.  In every message, each 8-byte word that lands on
 * a 16-byte aligned fast-box offset (user byte 10 + 16k: 8 bytes of box
 * header and 14 bytes of ob1 match header precede the data) is a header
 * with the VALID flag, the length --len (default 0xffffff, impossible) and
 * a random sequence number (or V with --seq V).  Each time the receiver
 * waits at a stale word, the word passes for the next header with
 * probability 2^-16, so the default 1,000,000 round trips meet such a word
 * a few dozen times.  Any transport must deliver every message intact; the
 * data is verified byte by byte.
 *
 * With the default length a receiver that trusts the stale word reports
 * the sender as broken ("wrote an impossible message header into its fast
 * box") and the job is aborted; with a small --len it desynchronises from
 * the sender and hangs.  Before the fix, 1,000,000 round trips on an idle
 * machine failed about 99% of the time (fewer under CPU load, when the
 * receiver is less often caught up at a stale word); a variant with a
 * fixed cycle of sizes and every word carrying sequence 0x1234 failed
 * every time, when the box sequence number reached 0x1234.
 *
 * Output: "ivm_fbox_hdr: PASS ..." or "ivm_fbox_hdr: FAIL ...".
 * Usage: ivm_fbox_hdr [--iters N] [--seconds T] [--seq V] [--len L] [--seed S]
 *                     [--random]
 *   --iters N, --seconds T: stop after N round trips (default 1000000) or
 *             T seconds (default 20), whichever comes first.  Under CPU
 *             load the receiver waits less often at a stale word: fewer
 *             chances to see the failure.
 *   --seq V:  every word carries sequence number V (the box passes V once
 *             every 65536 messages)
 *   --random: uniformly random payload bytes instead of crafted words
 *             (the same failure, found by chance: about one stale word in
 *             2^17 passes for a header)
 */
#include <mpi.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXLEN 2034 /* the largest payload ob1 + btl/ivm put in a fast box */

static uint64_t rng = 0x243f6a8885a308d3ULL;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct {
    long iters;
    double seconds; /* or stop after this long (checked every 4096) */
    unsigned long seq, len;
    int random, fixed_seq;
} opt = {.iters = 1000000, .seconds = 20, .seq = 0, .len = 0xffffff};
static int rank;
static unsigned char buf[MAXLEN], rb[MAXLEN];
static uint64_t word; /* a header word: VALID, ob1's tag, opt.len and opt.seq */

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (0 == strcmp(argv[i], "--iters") && i + 1 < argc) {
            opt.iters = atol(argv[++i]);
        } else if (0 == strcmp(argv[i], "--seq") && i + 1 < argc) {
            opt.seq = strtoul(argv[++i], NULL, 0);
            opt.fixed_seq = 1;
        } else if (0 == strcmp(argv[i], "--len") && i + 1 < argc) {
            opt.len = strtoul(argv[++i], NULL, 0);
        } else if (0 == strcmp(argv[i], "--seconds") && i + 1 < argc) {
            opt.seconds = atof(argv[++i]);
        } else if (0 == strcmp(argv[i], "--seed") && i + 1 < argc) {
            rng = strtoull(argv[++i], NULL, 0) | 1;
        } else if (0 == strcmp(argv[i], "--random")) {
            opt.random = 1;
        } else {
            if (0 == rank) fprintf(stderr, "ivm_fbox_hdr: unknown argument %s\n", argv[i]);
            MPI_Abort(MPI_COMM_WORLD, 2);
        }
    }
}

/* The header word, at every 16-byte aligned fast-box offset of buf */
static void init_message(void)
{
    /* layout of common_ivm_layout.h: len 32 bits, tag 8, flags 8 (0x80
     * VALID), sequence 16; tag 65 is ob1's match tag */
    word = (uint64_t) (opt.len & 0xffffffffu) | (uint64_t) 65 << 32 | (uint64_t) 0x80 << 40
           | (uint64_t) (opt.seq & 0xffff) << 48;
    memset(buf, 0, sizeof(buf));
    for (int j = 10; j + 8 <= MAXLEN; j += 16) {
        memcpy(buf + j, &word, 8);
    }
}

/* Message @i of @n bytes in buf; both ranks draw the same stream */
static void fill_message(long i, int n)
{
    if (opt.random) {
        for (int j = 0; j < n; j += 8) {
            uint64_t x = next_rand();
            memcpy(buf + j, &x, (size_t) (n - j < 8 ? n - j : 8));
        }
    } else if (!opt.fixed_seq) {
        for (int j = 10; j + 8 <= n; j += 16) {
            uint64_t w = (word & ~((uint64_t) 0xffff << 48)) | (next_rand() & 0xffff) << 48;
            memcpy(buf + j, &w, 8);
        }
    }
    /* mark the message so that a stale or repeated one is detected */
    memcpy(buf, &i, n < 8 ? (size_t) n : 8);
}

/* One round trip of message @i (@n bytes); true if it came back intact */
static bool round_trip(long i, int n)
{
    fill_message(i, n);
    memset(rb, 0xee, (size_t) n);
    if (0 == rank) {
        MPI_Send(buf, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD);
        MPI_Recv(rb, n, MPI_BYTE, 1, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    } else {
        MPI_Recv(rb, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        MPI_Send(rb, n, MPI_BYTE, 0, 1, MPI_COMM_WORLD);
    }
    return 0 == memcmp(rb, buf, (size_t) n);
}

int main(int argc, char **argv)
{
    int size, bad = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    parse_args(argc, argv);
    if (2 != size) {
        if (0 == rank) printf("ivm_fbox_hdr: FAIL needs exactly 2 ranks\n");
        MPI_Finalize();
        return 1;
    }
    init_message();

    double t0 = MPI_Wtime();
    long i;
    /* both ranks run every iteration even after a mismatch: lockstep */
    for (i = 0; i < opt.iters; i++) {
        if (i > 0 && 0 == i % 4096) {
            int stop = MPI_Wtime() - t0 > opt.seconds;
            MPI_Bcast(&stop, 1, MPI_INT, 0, MPI_COMM_WORLD);
            if (stop) {
                break;
            }
        }
        /* 0..MAXLEN bytes, the same on both ranks */
        int n = (int) (next_rand() % (MAXLEN + 1));
        if (!round_trip(i, n) && bad++ < 5) {
            printf("ivm_fbox_hdr: rank %d: round trip %ld (%d bytes) arrived corrupted\n", rank, i,
                   n);
        }
    }
    int any;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (0 == rank) {
        if (any) {
            printf("ivm_fbox_hdr: FAIL data corrupted\n");
        } else {
            printf("ivm_fbox_hdr: PASS %ld round trips of %s payloads (%.1f s)\n", i,
                   opt.random ? "random" : "header-like", MPI_Wtime() - t0);
        }
    }
    MPI_Finalize();
    return any ? 1 : 0;
}
