#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# btl/ivm point-to-point correctness across emulated VMs (ivm-vmsim), with
# tcp excluded from the btl list, every byte verified by test/progs/ivm_p2p
# and btl/ivm's MPI_T counters checked to prove that ivm carried the
# traffic (see ivm_p2p.c for the phases and checks):
#   2vm-np2     2 VMs, 1 rank each, btl ivm,self: sizes 0 B .. 64 MiB,
#               datatypes, wildcards, order, flood, nonblocking,
#               persistent, synchronous, probes; MPI_Alloc_mem(ivm) buffers
#               up to 64 MiB must take the single-copy path (RGET, counted
#               by the receiver)
#   4vm-np8     4 VMs, 2 ranks each, btl ivm,vader,self: vader inside a
#               VM, ivm across VMs, up to 16 MiB
#   2vm-np3     3 ranks on 2 VMs (two share vm0), btl ivm,self so that ivm
#               also carries the same-VM pair, with tiny rings, fast boxes
#               and free lists (queued sends, full rings, fragment reuse)
#   fbox-hdr    test/progs/ivm_fbox_hdr: small messages whose data looks
#               like fast-box headers must arrive intact (regression test:
#               before 6b9901d the receiver took a stale payload word at its
#               read position for a header and aborted the job, "wrote an
#               impossible message header into its fast box", or hung)
# Runtime: about 50 s on 2 cores (up to 100 s under heavy load).
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 480
# ivm-ompi: 4.1 5.0
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu

cd "$(dirname "$0")/../.."
. test/integration/progs_lib.sh
progs_prepare btl ivm_p2p ivm_fbox_hdr

out=$(mktemp -d /tmp/ivm-btl-p2p.XXXXXX)
trap 'rm -rf "$out"' EXIT
export PATH="$PWD/contrib:$PATH" OUT="$out" BUILD="$build" IVM_VMSIM_NAME="btlp2p-$$"

# p2p_case NAME SECONDS VMSIM-MPIRUN-OPTIONS... -- MPIRUN-ARGS... -- PROGRAM-ARGS...
# Runs ivm_p2p; passes when it prints "ivm_p2p: PASS"; shows phases and
# counters.
p2p_case() {
    set -eu
    local name=$1 limit=$2 rc=0 t0=$SECONDS
    shift 2
    local -a vopt=() margs=() pargs=()
    while [ "$1" != -- ]; do vopt+=("$1"); shift; done
    shift
    while [ "$1" != -- ]; do margs+=("$1"); shift; done
    shift
    pargs=("$@")
    hang_limit "$limit" ivm_p2p ivm-vmsim mpirun "${vopt[@]}" -- "${margs[@]}" --mca pml ob1 \
        "$BUILD/ivm_p2p" "${pargs[@]}" >"$OUT/$name.log" 2>&1 || rc=$?
    echo "== $name ($((SECONDS - t0)) s): ${margs[*]}"
    grep -E "^(phase |ivm counters|  rank |  \(|   )" "$OUT/$name.log" || true
    if [ "$rc" = 124 ]; then
        hang_report "$OUT/$name.log"
        echo "FAIL: $name: no result within $limit s (hang?)"
        return 1
    fi
    if ! grep -q "^ivm_p2p: PASS" "$OUT/$name.log" || [ "$rc" != 0 ]; then
        grep -E "^ERROR" "$OUT/$name.log" | head -20 || true
        tail -15 "$OUT/$name.log"
        echo "FAIL: $name: $(grep "^ivm_p2p: FAIL" "$OUT/$name.log" || echo "exit status $rc, no summary line")"
        return 1
    fi
    grep "^ivm_p2p: PASS" "$OUT/$name.log"
}
. test/integration/hang_lib.sh # exports its functions
export -f p2p_case

# fbox_case: the fast-box header regression test must pass.
fbox_case() {
    set -eu
    local rc=0 t0=$SECONDS
    hang_limit 150 ivm_fbox_hdr ivm-vmsim mpirun --vms 0,1 -- -np 2 --map-by node --mca pml ob1 \
        --mca btl ivm,self "$BUILD/ivm_fbox_hdr" >"$OUT/fbox.log" 2>&1 || rc=$?
    echo "== fbox-hdr ($((SECONDS - t0)) s)"
    if [ "$rc" = 0 ] && grep -q "^ivm_fbox_hdr: PASS" "$OUT/fbox.log"; then
        grep "^ivm_fbox_hdr: PASS" "$OUT/fbox.log"
        return 0
    fi
    if [ "$rc" = 124 ]; then
        hang_report "$OUT/fbox.log"
        echo "FAIL: fbox-hdr: no result within 150 s (hang?)"
        return 1
    fi
    tail -30 "$OUT/fbox.log"
    if grep -q "impossible message header into its fast box" "$OUT/fbox.log"; then
        echo "FAIL: fbox-hdr: header-like user data was taken for a fast-box header"
    else
        echo "FAIL: fbox-hdr: exit status $rc, $(grep "^ivm_fbox_hdr: FAIL" "$OUT/fbox.log" || echo "no PASS")"
    fi
    return 1
}
export -f fbox_case

t0=$SECONDS
# One instance of 4 VMs serves every case (2-VM cases use vm0 and vm1).  A
# 1 GiB sparse device: the 64 MiB MPI_Alloc_mem buffers of 2vm-np2 need a
# 320 MiB job partition.
# Every case runs even when an earlier one failed.
ivm-vmsim run --vms 4 --device-size 1G --share "$build" --share "$out" -- bash -c '
    rc=0
    p2p_case 2vm-np2 200 --vms 0,1 -- -np 2 --map-by node --mca btl ivm,self \
        --mca opal_common_ivm_partition_size 335544320 -- --max-size 67108864 || rc=1
    p2p_case 4vm-np8 240 --ppn 2 -- -np 8 --mca btl ivm,vader,self \
        --mca mpi_yield_when_idle 1 --mca opal_common_ivm_partition_size 268435456 \
        -- --max-size 16777221 --flood 1000 || rc=1
    p2p_case 2vm-np3 200 --vms 0,1 --ppn 2 -- -np 3 --map-by node --mca btl ivm,self \
        --mca mpi_yield_when_idle 1 --mca btl_ivm_ring_size 16 --mca btl_ivm_fbox_size 1024 \
        --mca btl_ivm_fbox_threshold 2 --mca btl_ivm_free_list_max 16 \
        --mca opal_common_ivm_partition_size 134217728 --mca opal_common_ivm_verbose 5 \
        -- --max-size 4194304 --flood 2000 || rc=1
    fbox_case || rc=1
    exit $rc' || fail "btl/ivm point-to-point: a case failed (see above)"
# Open MPI 5: the job key hashes rank 0's random word as well as the
# namespace (host name and pid, which collide across VMs); every rank of
# 2vm-np3 says so, and they found each other, so they agreed on it.
if [ "${IVM_OMPI_SERIES:-4.1}" != 4.1 ]; then
    n=$(grep -c "common:ivm: job key: job .*, launcher token .* and rank 0's random word" "$out/2vm-np3.log" || true)
    [ "$n" = 3 ] || fail "2vm-np3: $n of 3 ranks keyed the job with rank 0's random word"
    echo "2vm-np3: all 3 ranks keyed the job with rank 0's random word"
fi
echo "btl_p2p: all cases passed ($((SECONDS - t0)) s)"
