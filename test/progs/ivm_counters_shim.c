/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ivm_counters_shim.c: an LD_PRELOAD PMPI shim for the client_*.sh
 * integration tests.  It wraps MPI_Finalize of an unmodified MPI program
 * (NetPIPE, hpcc, LAMMPS, ...) and, just before the real MPI_Finalize,
 * reads btl/ivm's MPI_T performance counters and prints one line per rank
 * on stderr:
 *
 *   ivm-counters: rank R host H fbox_messages=N fbox_bytes=N ring_messages=N
 *     ring_bytes=N single_copy_operations=N single_copy_bytes=N
 *     atomic_operations=N
 *
 * (one line): what this rank sent through ivm between MPI_Init and
 * MPI_Finalize.  A counter that
 * does not exist (btl/ivm not loaded) is printed as "-1", and the line then
 * ends in "status=unavailable" instead of "status=ok".
 *
 * Build: make -C test/progs (it becomes libivm_counters_shim.so), or
 *        mpicc -shared -fPIC -o libivm_counters_shim.so ivm_counters_shim.c
 * Use:   mpirun -x LD_PRELOAD=/path/libivm_counters_shim.so ... PROGRAM
 */
#include <mpi.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *const names[] = {
    "btl_ivm_fbox_messages",          "btl_ivm_fbox_bytes",
    "btl_ivm_ring_messages",          "btl_ivm_ring_bytes",
    "btl_ivm_single_copy_operations", "btl_ivm_single_copy_bytes",
    "btl_ivm_atomic_operations",
};
#define NCOUNTERS ((int) (sizeof(names) / sizeof(names[0])))

static MPI_T_pvar_session session;
static MPI_T_pvar_handle handles[NCOUNTERS];
static int bound[NCOUNTERS];
static int session_ok;

/* Open MPI's MPI_T counters count from the moment a handle is allocated
 * (a handle remembers the variable's value then and reports the growth
 * since), so the handles are bound right after MPI_Init. */
static void bind_counters(void)
{
    int provided, idx, n;

    if (MPI_SUCCESS != MPI_T_init_thread(MPI_THREAD_SINGLE, &provided)) return;
    if (MPI_SUCCESS != MPI_T_pvar_session_create(&session)) return;
    session_ok = 1;
    for (int i = 0; i < NCOUNTERS; i++) {
        if (MPI_SUCCESS == MPI_T_pvar_get_index(names[i], MPI_T_PVAR_CLASS_COUNTER, &idx)
            && MPI_SUCCESS == MPI_T_pvar_handle_alloc(session, idx, NULL, &handles[i], &n)
            && 1 == n)
            bound[i] = 1;
    }
}

int MPI_Init(int *argc, char ***argv)
{
    int rc = PMPI_Init(argc, argv);
    if (MPI_SUCCESS == rc) bind_counters();
    return rc;
}

int MPI_Init_thread(int *argc, char ***argv, int required, int *provided)
{
    int rc = PMPI_Init_thread(argc, argv, required, provided);
    if (MPI_SUCCESS == rc) bind_counters();
    return rc;
}

int MPI_Finalize(void)
{
    int rank = -1, ok = session_ok;
    char host[256] = "?", line[1024];
    size_t len;

    PMPI_Comm_rank(MPI_COMM_WORLD, &rank);
    gethostname(host, sizeof(host) - 1);
    len = (size_t) snprintf(line, sizeof(line), "ivm-counters: rank %d host %s", rank, host);
    for (int i = 0; i < NCOUNTERS && len < sizeof(line); i++) {
        unsigned long long v = 0;
        long long shown = -1;
        if (session_ok && bound[i] && MPI_SUCCESS == MPI_T_pvar_read(session, handles[i], &v))
            shown = (long long) v;
        else ok = 0;
        len += (size_t) snprintf(line + len, sizeof(line) - len, " %s=%lld",
                                 names[i] + strlen("btl_ivm_"), shown);
    }
    if (session_ok) {
        for (int i = 0; i < NCOUNTERS; i++)
            if (bound[i]) MPI_T_pvar_handle_free(session, &handles[i]);
        MPI_T_pvar_session_free(&session);
        MPI_T_finalize();
    }
    if (len < sizeof(line))
        snprintf(line + len, sizeof(line) - len, " status=%s", ok ? "ok" : "unavailable");
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    return PMPI_Finalize();
}
