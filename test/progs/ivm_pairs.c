/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_pairs: show which BTL Open MPI's pml/ob1 uses between every pair of
 * ranks.  This is the ivm demo program: across emulated or real VMs it shows
 * "tcp" today and "ivm" once the ivm BTL is selected.
 *
 * Every rank first exchanges a few messages (8 B, 4 KiB and 256 KiB, i.e. the
 * eager and the rendezvous protocols) with every other rank and checks their
 * contents, so the endpoints are fully set up.  Then each rank looks up, for
 * each peer, the BML endpoint that ob1 sends through and takes the component
 * name of the first BTL in its eager list.  Rank 0 gathers the results and
 * prints one line per pair, in rank order:
 *
 *     rank 0 (vm0) <-> rank 1 (vm1): tcp
 *
 * If the two directions of a pair differ, the line ends with
 * "(reverse: NAME)".  When the pml is not ob1 there is no BML endpoint and
 * the BTL is printed as "unknown".  Exit status: 0, or 1 if a message arrived
 * corrupted.
 *
 * This reads Open MPI internals (ompi/proc, ompi/mca/bml), so it must be
 * built against the same Open MPI it runs with; see Makefile.
 */
#include "ompi_config.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ompi/communicator/communicator.h"
#include "ompi/mca/bml/bml.h"
#include "ompi/mca/pml/base/base.h"
#include "ompi/proc/proc.h"
#include "opal/mca/btl/btl.h"

#define NAME_LEN (MCA_BASE_MAX_COMPONENT_NAME_LEN + 1)

/* Name of the BTL that ob1 uses to send to world rank `peer`. */
static void btl_for_peer(int peer, char *out)
{
    const char *pml = mca_pml_base_selected_component.pmlm_version.mca_component_name;
    ompi_proc_t *proc;
    mca_bml_base_endpoint_t *ep;
    mca_bml_base_btl_array_t *arr;
    mca_bml_base_btl_t *bml_btl;

    snprintf(out, NAME_LEN, "unknown");
    if (0 != strcmp(pml, "ob1")) {
        return; /* other pmls (cm, ucx) do not use the BML */
    }
    proc = ompi_comm_peer_lookup(MPI_COMM_WORLD, peer);
    if (NULL == proc) {
        return;
    }
    ep = (mca_bml_base_endpoint_t *) proc->proc_endpoints[OMPI_PROC_ENDPOINT_TAG_BML];
    if (NULL == ep) {
        snprintf(out, NAME_LEN, "none");
        return;
    }
    arr = &ep->btl_eager;
    if (0 == mca_bml_base_btl_array_get_size(arr)) {
        arr = &ep->btl_send;
    }
    if (0 == mca_bml_base_btl_array_get_size(arr)) {
        snprintf(out, NAME_LEN, "none");
        return;
    }
    bml_btl = mca_bml_base_btl_array_get_index(arr, 0);
    if (NULL == bml_btl || NULL == bml_btl->btl || NULL == bml_btl->btl->btl_component) {
        return;
    }
    snprintf(out, NAME_LEN, "%s", bml_btl->btl->btl_component->btl_version.mca_component_name);
}

static unsigned char pattern(int src, int dst, size_t i)
{
    return (unsigned char) (src * 31 + dst * 7 + i);
}

/* Exchange messages with every peer; returns the number of corrupt bytes. */
static long exchange(int rank, int size)
{
    static const size_t lens[] = {8, 4096, 256 * 1024};
    size_t maxlen = lens[sizeof(lens) / sizeof(lens[0]) - 1], i, k;
    unsigned char *sbuf = malloc(maxlen), *rbuf = malloc(maxlen);
    long bad = 0;
    int d;

    if (NULL == sbuf || NULL == rbuf) {
        fprintf(stderr, "ivm_pairs: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        /* Step d pairs everyone with rank+d and rank-d, so no deadlock. */
        for (d = 1; d < size; d++) {
            int dst = (rank + d) % size, src = (rank - d + size) % size;
            for (i = 0; i < lens[k]; i++) {
                sbuf[i] = pattern(rank, dst, i);
            }
            MPI_Sendrecv(sbuf, (int) lens[k], MPI_BYTE, dst, (int) k, rbuf, (int) lens[k], MPI_BYTE,
                         src, (int) k, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            for (i = 0; i < lens[k]; i++) {
                if (rbuf[i] != pattern(src, rank, i)) {
                    bad++;
                }
            }
        }
    }
    free(sbuf);
    free(rbuf);
    return bad;
}

int main(int argc, char **argv)
{
    int rank, size, r, len, i, j;
    char host[MPI_MAX_PROCESSOR_NAME];
    char *row, *table = NULL, *hosts = NULL;
    long bad, allbad = 0;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    memset(host, 0, sizeof(host));
    MPI_Get_processor_name(host, &len);

    bad = exchange(rank, size);
    MPI_Reduce(&bad, &allbad, 1, MPI_LONG, MPI_SUM, 0, MPI_COMM_WORLD);

    row = calloc((size_t) size, NAME_LEN);
    if (0 == rank) {
        table = calloc((size_t) size * size, NAME_LEN);
        hosts = calloc((size_t) size, MPI_MAX_PROCESSOR_NAME);
    }
    if (NULL == row || (0 == rank && (NULL == table || NULL == hosts))) {
        fprintf(stderr, "ivm_pairs: out of memory\n");
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    for (r = 0; r < size; r++) {
        if (r == rank) {
            snprintf(row + (size_t) r * NAME_LEN, NAME_LEN, "self");
        } else {
            btl_for_peer(r, row + (size_t) r * NAME_LEN);
        }
    }
    MPI_Gather(row, size * NAME_LEN, MPI_CHAR, table, size * NAME_LEN, MPI_CHAR, 0, MPI_COMM_WORLD);
    MPI_Gather(host, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, hosts, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, 0,
               MPI_COMM_WORLD);

    if (0 == rank) {
        if (1 == size) {
            printf("ivm_pairs: only 1 rank (%s), no pairs\n", hosts);
        }
        for (i = 0; i < size; i++) {
            for (j = i + 1; j < size; j++) {
                const char *fwd = table + ((size_t) i * size + j) * NAME_LEN;
                const char *rev = table + ((size_t) j * size + i) * NAME_LEN;
                printf("rank %d (%s) <-> rank %d (%s): %s", i,
                       hosts + (size_t) i * MPI_MAX_PROCESSOR_NAME, j,
                       hosts + (size_t) j * MPI_MAX_PROCESSOR_NAME, fwd);
                if (0 != strcmp(fwd, rev)) {
                    printf(" (reverse: %s)", rev);
                }
                printf("\n");
            }
        }
        if (allbad) {
            fprintf(stderr, "ivm_pairs: %ld corrupt bytes received\n", allbad);
        }
        fflush(stdout);
    }
    MPI_Bcast(&allbad, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    free(row);
    free(table);
    free(hosts);
    MPI_Finalize();
    return allbad ? 1 : 0;
}
