#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# osc/ivm: MPI one-sided communication done by the origin on the ivm
# region, across emulated VMs, tcp excluded (btl ivm,self), with osc/ivm's
# MPI_T counters proving it created every window and carried every kind of
# operation (test/progs/ivm_osc.c describes the checks).
#   2vm        2 VMs x 1 rank: MPI_Win_allocate, MPI_Win_create on
#              MPI_Alloc_mem(mpool_hints=ivm) memory, MPI_Win_allocate_shared
#              spanning the VMs (stores through MPI_Win_shared_query
#              pointers into the peer's segment), and the windows osc/ivm
#              must decline (MPI_Win_create on heap memory, dynamic windows)
#   1vm        2 ranks in one VM, osc/sm available: osc/ivm takes the
#              allocated and shared windows anyway (priority 110 > 100)
#   2vm-ppn2   2 VMs x 2 ranks, the same as 2vm
#   4vm-ppn2   4 VMs x 2 ranks, the same
#   toobig     2 VMs: a 32 MiB MPI_Win_allocate does not fit a 16 MiB
#              job partition: osc/ivm declines it with a message naming
#              opal_common_ivm_partition_size, and osc/rdma serves it
#   rma-4vm    test/progs/ivm_rma (the RMA suite of btl_rma.sh) on the windows
#              osc/ivm takes, 4 VMs x 2 ranks, its component checked by name
#   dead-lock  2 VMs x 2 ranks, opal_common_ivm_lease 3 s: the last rank holds
#              an exclusive lock and stops (SIGSTOP, as if its VM were
#              paused); the others' MPI_Win_lock must fail naming the lease
#              within the lease plus a few seconds, never hang
#   dead-fence the same with the last rank stopped before an MPI_Win_fence
# With Open MPI 4.1 the runs across VMs exclude osc/sm (--mca osc ^sm):
# 4.1's window selection gives up as soon as osc/sm's query reports that a
# shared window's ranks are not on one node (MPI_ERR_RMA_SHARED), before any
# other component is asked (ompi_osc_base_select); 5.0 asks them all.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 600
# ivm-ompi: 4.1 5.0
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu -o pipefail

cd "$(dirname "$0")/../.."
. test/integration/progs_lib.sh
progs_prepare osc ivm_osc ivm_rma

out=$(mktemp -d /tmp/ivm-osc.XXXXXX)
trap 'rm -rf "$out"' EXIT
export PATH="$PWD/contrib:$PATH" OUT="$out" BUILD="$build" IVM_VMSIM_NAME="oscivm-$$"
. test/integration/hang_lib.sh # exports its functions

# run_case NAME PROGRAM VMSIM-MPIRUN-OPTIONS... -- MPIRUN-ARGS... [-- PROGRAM-ARGS...]
# Passes when PROGRAM prints "<program>: PASS".
run_case() {
    set -eu
    local name=$1 prog=$2 rc=0 t0=$SECONDS
    shift 2
    local -a vopt=() margs=() pargs=()
    while [ "$1" != -- ]; do vopt+=("$1"); shift; done
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do margs+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; pargs=("$@"); }
    # shellcheck disable=SC2086 # NOSM: empty or two words
    hang_limit 240 "$prog" ivm-vmsim mpirun "${vopt[@]}" -- "${margs[@]}" --mca pml ob1 \
        --mca btl ivm,self --mca mpi_yield_when_idle 1 --mca osc_ivm_verbose 1 $NOSM \
        "$BUILD/$prog" "${pargs[@]}" >"$OUT/$name.log" 2>&1 || rc=$?
    echo "== $name ($((SECONDS - t0)) s): ${margs[*]} $prog ${pargs[*]}"
    # -a: Open MPI 5's launcher may put control bytes into the output
    grep -aE "^(case |pvars |window )" "$OUT/$name.log" | sort | uniq -c | sed 's/^ *//' || true
    if [ "$rc" = 0 ] && grep -aq "^$prog: PASS" "$OUT/$name.log"; then
        grep -a "^$prog: PASS" "$OUT/$name.log"
        return 0
    fi
    [ "$rc" != 124 ] || hang_report "$OUT/$name.log"
    grep -aE "^ERROR" "$OUT/$name.log" | head -20 || true
    tail -25 "$OUT/$name.log"
    echo "FAIL: $name (exit status $rc)"
    echo "$name" >>"$OUT/failed"
    return 1
}

# dead_lines LOG: the survivors' result lines (Open MPI 5's launcher may
# print something on the same line first)
dead_lines() {
    grep -ao 'DEAD,[a-z]*,[a-z]*,[0-9.]*,rank [0-9]*' "$1" 2>/dev/null
}

# dead_case NAME HOW: the last of 4 ranks stops; the others must fail
# within the 3 s lease plus a few seconds, naming the lease
dead_case() {
    set -eu
    local name=$1 how=$2 rc=0 t0=$SECONDS log=$OUT/$1.log
    (
        # once the survivors have reported, or after 60 s, kill the stopped rank
        for _ in $(seq 1 600); do
            [ "$(dead_lines "$log" | wc -l)" -ge 3 ] && break
            sleep 0.1
        done
        for p in $(hang_pids ivm_osc); do
            grep -q '^State:.*T' "/proc/$p/status" 2>/dev/null && kill -KILL "$p"
        done
    ) &
    local killer=$!
    hang_limit 120 ivm_osc ivm-vmsim mpirun --vms 0,1 --ppn 2 -- -np 4 --mca pml ob1 \
        --mca btl ivm,self --mca mpi_yield_when_idle 1 --mca opal_common_ivm_lease 3 \
        "$BUILD/ivm_osc" "dead-$how" >"$log" 2>&1 || rc=$?
    wait "$killer" || true
    echo "== $name ($((SECONDS - t0)) s, mpirun exit $rc)"
    dead_lines "$log" || true
    local ok=1 n
    n=$(dead_lines "$log" | grep -c "^DEAD,$how,error," || true)
    [ "$rc" != 124 ] || { hang_report "$log"; ok=0; }
    [ "$n" = 3 ] || ok=0
    # every survivor gave up after the lease and within a few seconds more
    dead_lines "$log" | awk -F, '{ if ($4 < 2.5 || $4 > 12) bad = 1 } END { exit bad }' || ok=0
    grep -aq "stopped renewing its lease" "$log" || ok=0
    if [ "$ok" = 1 ]; then
        echo "$name: the 3 survivors' waits failed within the lease, naming it"
        return 0
    fi
    tail -30 "$log"
    echo "FAIL: $name"
    echo "$name" >>"$OUT/failed"
    return 1
}
export -f run_case dead_lines dead_case

# see the header: 4.1 needs osc/sm out of the way for shared windows across VMs
export IVM_OMPI_SERIES=${IVM_OMPI_SERIES:-4.1}
NOSM=
[ "$IVM_OMPI_SERIES" != 4.1 ] || NOSM="--mca osc ^sm"
export NOSM
# ivm_rma names the osc component by the shared object that holds it
t0=$SECONDS
# shellcheck disable=SC2016 # expanded by the inner bash
ivm-vmsim run --vms 4 --device-size 1G --share "$build" --share "$out" -- bash -c '
    rc=0
    big="--mca opal_common_ivm_partition_size 268435456"
    run_case 2vm ivm_osc --vms 0,1 -- -np 2 --map-by node || rc=1
    NOSM= run_case 1vm ivm_osc --vms 0 --ppn 2 -- -np 2 -- allocate shared || rc=1
    toobig() {
        run_case "$1" ivm_osc --vms 0,1 -- -np 2 --map-by node \
            --mca opal_common_ivm_partition_size 16777216 -- toobig
    }
    toobig toobig || rc=1
    # Once in about 5 runs on a loaded machine, 4.1 lost the message of
    # both ranks (the decline itself is counted by ivm_osc): one more run,
    # shown, must have the message.
    if ! grep -aq "opal_common_ivm_partition_size" "$OUT/toobig.log"; then
        echo "toobig: no message naming opal_common_ivm_partition_size; its output:"
        tail -n 20 "$OUT/toobig.log"
        toobig toobig-again || rc=1
        grep -aq "opal_common_ivm_partition_size" "$OUT/toobig-again.log" ||
            { echo "FAIL: toobig: no message naming opal_common_ivm_partition_size, twice"; rc=1; }
    fi
    run_case 2vm-ppn2 ivm_osc --vms 0,1 --ppn 2 -- -np 4 --map-by node || rc=1
    run_case 4vm-ppn2 ivm_osc --ppn 2 -- -np 8 $big || rc=1
    run_case rma-4vm ivm_rma --ppn 2 -- -np 8 $big -- --kinds create/ivm,allocate \
        --expect-osc ivm --no-ivm-check || rc=1
    dead_case dead-lock lock || rc=1
    dead_case dead-fence fence || rc=1
    exit $rc' || fail "osc/ivm: failed: $(paste -sd, "$out/failed" 2>/dev/null) (see above)"
echo "osc_ivm: all cases passed ($((SECONDS - t0)) s)"
