/*
 * Copyright (c) 2026 The ivm authors.  All rights reserved.
 * $COPYRIGHT$
 *
 * Additional copyrights may follow
 *
 * $HEADER$
 * SPDX-License-Identifier: BSD-3-Clause
 */

/**
 * @file
 *
 * The ivm region format: the only definition of bytes that live in the
 * shared device.  Processes in different virtual machines (different
 * kernels, different address spaces, colliding pids) read and write these
 * structures, so the rules are:
 *
 *  - offsets from the region base, never pointers;
 *  - synchronisation only through C11 atomics on naturally aligned words
 *    (no futexes, no pthread objects: they assume one kernel);
 *  - every value read back is validated before use (see common_ivm_region.c),
 *    because a crashed or hostile peer can leave anything here.
 *
 * Region map (all offsets recorded in the superblock, computed once by
 * ivm_layout_compute()):
 *
 *   0                      superblock (IVM_SB_SIZE bytes)
 *   job_table_off          job_count  x struct ivm_job_entry
 *   slot_table_off         slot_count x struct ivm_slot_entry
 *   heap_off               job partitions, IVM_CHUNK_SIZE granular
 *   region_size            end
 *
 * Ownership of each field is noted as W: (writer) / R: (readers).
 */

#ifndef COMMON_IVM_LAYOUT_H
#define COMMON_IVM_LAYOUT_H

#include <stdint.h>
#include <stddef.h>
#include <stdatomic.h>

/* "IVMREGN\0" read as a little-endian 64-bit word. */
#define IVM_MAGIC 0x004e4745524d5649ULL
/* Bump on any incompatible change of this file. */
#define IVM_FORMAT_VERSION 1u

#define IVM_SB_SIZE 4096u
#define IVM_CACHELINE 64u
#define IVM_CHUNK_SIZE (64u * 1024u)
#define IVM_REGION_MIN_SIZE (1024u * 1024u)
#define IVM_JOB_COUNT_MAX 4096u
#define IVM_SLOT_COUNT_MAX 65536u
#define IVM_LABEL_LEN 32u
#define IVM_HOST_LEN 32u
#define IVM_ID_LEN 16u

/* Superblock state word: the attach handshake.  Moves 0 -> FORMATTING
 * (one CAS winner) -> READY (release store after every other superblock
 * field and the tables are written). */
enum ivm_sb_state {
    IVM_SB_ZERO = 0,
    IVM_SB_FORMATTING = 0x464d5447u, /* "GTMF": arbitrary, unlikely as garbage */
    IVM_SB_READY = 0x59444552u       /* "REDY" */
};

enum ivm_job_state { IVM_JOB_FREE = 0, IVM_JOB_ACTIVE = 1 };

enum ivm_slot_state { IVM_SLOT_FREE = 0, IVM_SLOT_CLAIMED = 1 };

/** Who owns a slot or the region lock.  vm_id hashes the kernel boot id and
 * the pid namespace, so (vm_id, pid, start_time) names one process even
 * though pids collide across VMs and pid namespaces. */
struct ivm_owner {
    uint8_t vm_id[IVM_ID_LEN];
    uint64_t pid;
    uint64_t start_time; /* /proc/<pid>/stat field 22: clock ticks since boot */
};

/** A lock word usable by processes on different kernels: taken with a CAS
 * of a random token, never a futex.  W/R: lockers.  The holder record is
 * written after taking the lock and lets waiters prove a holder dead. */
struct ivm_lockword {
    _Atomic uint64_t word;  /* 0 = free, else the holder's random token */
    _Atomic uint64_t epoch; /* bumped by every acquisition (diagnostic) */
    struct ivm_owner holder;
};

/** Region geometry, written once at format time.  W: formatter. R: all. */
struct ivm_layout {
    uint64_t job_table_off;
    uint64_t slot_table_off;
    uint64_t heap_off;
    uint64_t heap_size;
    uint32_t job_count;
    uint32_t job_entry_size;
    uint32_t slot_count;
    uint32_t slot_entry_size;
    uint32_t chunk_size;
    uint32_t reserved;
};

struct ivm_superblock {
    /* --- static part, covered by header_crc; never moves between versions:
     * magic at 0 and version at 8 so any future format can be recognised. */
    uint64_t magic;                /* W: formatter */
    uint32_t version;              /* W: formatter */
    _Atomic uint32_t state;        /* W: formatter (CAS + release); R: attachers (acquire) */
    uint64_t region_size;          /* W: formatter */
    uint8_t region_id[IVM_ID_LEN]; /* W: formatter; the node identifier */
    uint64_t format_time;          /* W: formatter; seconds since the epoch, informational */
    struct ivm_layout layout;      /* W: formatter */
    uint32_t header_crc;           /* W: formatter; CRC-32C of magic..layout */
    uint32_t pad0;

    /* --- dynamic part, own cache lines. */
    _Alignas(IVM_CACHELINE) struct ivm_lockword lock; /* serialises job/slot table changes */
    _Atomic uint64_t change_count;                    /* W: lock holder; bumped per change */
    uint8_t pad1[IVM_SB_SIZE - 192];
};

/** One job: a partition of the heap shared by the processes of one MPI job
 * in this region.  Modified only under the region lock.  W: lock holder. */
struct ivm_job_entry {
    _Atomic uint32_t state;     /* enum ivm_job_state */
    uint32_t gen;               /* bumped at every (re)use, guards stale references */
    uint8_t key[IVM_ID_LEN];    /* job key; unique across VMs (see common_ivm_job.c) */
    uint64_t part_off;          /* region offset of the partition, chunk aligned */
    uint64_t part_size;         /* bytes, chunk multiple */
    uint64_t create_time;       /* seconds since the epoch, informational */
    char label[IVM_LABEL_LEN];  /* informational (e.g. jobid), NUL padded, untrusted */
    _Atomic uint64_t part_user; /* reserved for the partition's allocator (mpool) */
    uint8_t pad[40];
};

#define IVM_SLOT_USER_WORDS 2u

/** One process attached to the region.  W: lock holder (claim/release),
 * owner (user words).  R: peers (nonce proof), ivmctl. */
struct ivm_slot_entry {
    _Atomic uint32_t state; /* enum ivm_slot_state */
    uint32_t gen;           /* bumped at every claim */
    uint32_t job;           /* job table index */
    uint32_t job_gen;       /* job generation at claim time */
    _Atomic uint64_t nonce; /* random; read back by peers as proof of real sharing */
    struct ivm_owner owner;
    uint64_t claim_time; /* seconds since the epoch, informational */
    uint32_t rank;       /* informational: rank within the job */
    uint32_t pad0;
    char host[IVM_HOST_LEN];                    /* informational hostname, NUL padded, untrusted */
    _Atomic uint64_t user[IVM_SLOT_USER_WORDS]; /* owner-defined (BTL receive ring offset) */
    _Atomic uint64_t lease_ms; /* W: owner's lease thread; its wall clock in ms at the last
                                * renewal, 0 = no lease (common_ivm_lease.c) */
};

/* ---- job partition: the heap of one job (common_ivm_heap.c) ----
 *
 *   part_off + 0           struct ivm_part_header
 *             bitmap_off   one bit per data chunk, set = in use
 *             info_off     one uint32_t per data chunk (IVM_CHUNK_*)
 *             data_off     data chunks (chunk aligned)
 *
 * Small blocks (IVM_HEAP_NCLASS power-of-two classes from 64 bytes) come
 * from slabs of one chunk and are kept on lock-free per-class stacks; larger
 * blocks are runs of chunks found in the bitmap under the partition lock. */
#define IVM_PART_MAGIC 0x0054524150564949ULL /* "IIVPART\0" */
#define IVM_HEAP_MIN_CLASS_SHIFT 6
#define IVM_HEAP_NCLASS 10 /* 64 B .. 32 KiB */
#define IVM_CHUNK_TAG_SHIFT 24
#define IVM_CHUNK_FREE 0u
#define IVM_CHUNK_SLAB 1u       /* low bits: size class */
#define IVM_CHUNK_LARGE_HEAD 2u /* low bits: number of chunks */
#define IVM_CHUNK_LARGE_TAIL 3u

struct ivm_part_header {
    uint64_t magic; /* W: job creator, under the region lock */
    uint32_t version;
    uint32_t nchunks; /* data chunks */
    uint64_t part_size;
    uint64_t bitmap_off; /* offsets relative to the partition */
    uint64_t info_off;
    uint64_t data_off;
    uint32_t crc; /* CRC-32C of magic..data_off */
    uint32_t pad0;
    _Alignas(IVM_CACHELINE) struct ivm_lockword lock; /* large-block allocator */
    _Alignas(IVM_CACHELINE) _Atomic uint64_t class_head[IVM_HEAP_NCLASS]; /* tag<<32 | index+1 */
    _Atomic uint64_t bytes_in_use;
    uint8_t pad1[40];
};

/* ---- transport objects, allocated in the job heap: receive rings and
 * fast boxes (both driven by common_ivm_ring.h).  Referenced by region
 * offsets only. ---- */

#define IVM_RING_MAGIC 0x474e495256564949ULL /* "IIVVRING" */
#define IVM_FBOX_MAGIC 0x584f424656564949ULL /* "IIVVFBOX" */

/** One cell of a receive ring.  seq == position + 1 means "value is
 * published for position"; the consumer then sets position + capacity,
 * which frees the cell for the producer one lap later. */
struct ivm_ring_cell {
    _Atomic uint64_t seq;
    _Atomic uint64_t value;
};

/** A process's receive ring: bounded, many producers (every peer of the
 * job, in any VM), one consumer (the owner).  Values are region offsets
 * of message headers, low bits used as flags. */
struct ivm_ring {
    uint64_t magic;    /* W: owner at creation */
    uint32_t capacity; /* power of two */
    uint32_t owner_slot;
    uint8_t pad0[48];
    _Alignas(IVM_CACHELINE) _Atomic uint64_t tail; /* W/R: producers (CAS) */
    uint8_t pad1[56];
    _Alignas(IVM_CACHELINE) _Atomic uint64_t head; /* W: consumer; R: diagnostics */
    uint8_t pad2[56];
    struct ivm_ring_cell cells[]; /* capacity cells */
};

/** A fast box: a byte ring from one sender to one receiver for small
 * messages.  Each message starts with one 64-bit header word (see
 * IVM_FBOX_HDR_*) published with a release store by the sender, which first
 * zeroes the word where the following header will go (stale payload there
 * must never pass for a header). */
struct ivm_fbox {
    uint64_t magic; /* W: sender at creation */
    uint32_t size;  /* data bytes, power of two */
    uint32_t sender_slot;
    uint8_t pad0[48];
    _Alignas(IVM_CACHELINE) _Atomic uint64_t head; /* W: receiver (bytes consumed); R: sender */
    uint8_t pad1[56];
    uint8_t data[]; /* size bytes */
};

#define IVM_FBOX_ALIGN 16u
#define IVM_FBOX_HDR_LEN(h) ((uint32_t) ((h) &0xffffffffu))
#define IVM_FBOX_HDR_TAG(h) ((uint8_t) ((h) >> 32))
#define IVM_FBOX_HDR_FLAGS(h) ((uint8_t) ((h) >> 40))
#define IVM_FBOX_HDR_SEQ(h) ((uint16_t) ((h) >> 48))
#define IVM_FBOX_HDR(len, tag, flags, seq) \
    ((uint64_t) (len) | (uint64_t) (tag) << 32 | (uint64_t) (flags) << 40 | (uint64_t) (seq) << 48)
#define IVM_FBOX_F_VALID 0x80u /* never zero: a zeroed word is "nothing here" */
#define IVM_FBOX_F_WRAP 0x40u  /* skip to the start of the ring */

/** Header of a message sent through a receive ring, at the start of a
 * fragment buffer in the sender's job heap; the payload follows. */
struct ivm_msg_hdr {
    uint32_t src_slot; /* sender's slot: where to return the fragment */
    uint32_t len;      /* payload bytes */
    uint8_t tag;       /* BTL active-message tag */
    uint8_t flags;     /* IVM_MSG_F_* */
    uint16_t pad0;
    uint32_t cookie;   /* sender-local fragment index, echoed back */
    uint64_t fbox_off; /* IVM_MSG_F_SETUP_FBOX: region offset of the fast box */
    uint64_t reserved;
};
#define IVM_MSG_F_SETUP_FBOX 0x01u
#define IVM_RING_V_RETURN 0x1u /* ring value flag: a fragment coming home */

/* The format is an ABI between kernels: pin every size and offset. */
_Static_assert(sizeof(struct ivm_ring_cell) == 16, "ring cell size");
_Static_assert(offsetof(struct ivm_ring, tail) == 64 && offsetof(struct ivm_ring, head) == 128
                   && sizeof(struct ivm_ring) == 192,
               "ring header: producers and consumer on separate lines");
_Static_assert(offsetof(struct ivm_fbox, head) == 64 && sizeof(struct ivm_fbox) == 128,
               "fast box header");
_Static_assert(sizeof(struct ivm_msg_hdr) == 32, "message header size");
_Static_assert(sizeof(struct ivm_part_header) == 256, "partition header size");
_Static_assert(offsetof(struct ivm_part_header, crc) == 48, "partition crc");
_Static_assert(sizeof(struct ivm_owner) == 32, "ivm_owner size");
_Static_assert(sizeof(struct ivm_lockword) == 48, "ivm_lockword size");
_Static_assert(sizeof(struct ivm_layout) == 56, "ivm_layout size");
_Static_assert(offsetof(struct ivm_superblock, magic) == 0, "magic at 0");
_Static_assert(offsetof(struct ivm_superblock, version) == 8, "version at 8");
_Static_assert(offsetof(struct ivm_superblock, state) == 12, "state at 12");
_Static_assert(offsetof(struct ivm_superblock, region_id) == 24, "region id at 24");
_Static_assert(offsetof(struct ivm_superblock, layout) == 48, "layout at 48");
_Static_assert(offsetof(struct ivm_superblock, header_crc) == 104, "crc at 104");
_Static_assert(offsetof(struct ivm_superblock, lock) == 128, "lock on its own line");
_Static_assert(offsetof(struct ivm_superblock, change_count) == 176, "change count");
_Static_assert(sizeof(struct ivm_superblock) == IVM_SB_SIZE, "superblock is one page");
_Static_assert(sizeof(struct ivm_job_entry) == 128, "job entry size");
_Static_assert(sizeof(struct ivm_slot_entry) == 128, "slot entry size");
_Static_assert(offsetof(struct ivm_slot_entry, user) == 104
                   && offsetof(struct ivm_slot_entry, lease_ms) == 120,
               "slot user words, then the lease (formerly the third user word, always 0)");
_Static_assert(sizeof(_Atomic uint64_t) == 8 && sizeof(_Atomic uint32_t) == 4,
               "atomics must have plain layout");
_Static_assert(IVM_CHUNK_SIZE % IVM_SB_SIZE == 0, "chunks are page multiples");

/* The components' own areas: same format, same version. */
#include "common_ivm_layout_btl.h"
#include "common_ivm_layout_coll.h"
#include "common_ivm_layout_osc.h"

_Static_assert((IVM_FBOX_F_REF & (IVM_FBOX_F_VALID | IVM_FBOX_F_WRAP)) == 0,
               "btl/ivm's fast-box flag shares the byte of the layout's own flags");

#endif /* COMMON_IVM_LAYOUT_H */
