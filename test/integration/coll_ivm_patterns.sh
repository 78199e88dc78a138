#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# coll/ivm under the call patterns of benchmarks and applications
# (test/progs/coll_pattern.c), every result checked:
#  - back-to-back bcasts and reduces with rotating roots and no barrier
#    between them, through the bcast ring, one chunk and several chunks;
#  - an 8-byte bcast burst whose root runs ahead of the ring's depth;
#  - one loop mixing six collectives and seven sizes;
#  - 4 MiB (2 MiB at np 8) of a strided, non-contiguous datatype in bcast,
#    allgather and alltoall;
#  - broadcasts, allgathers, alltoalls, reduces and allreduces (in place
#    too) on MPI_Alloc_mem (mpool_hints=ivm) buffers: single copy straight
#    out of the others' region buffers (coll_ivm_single_copy_calls, counted
#    apart for the reductions);
# on 2 VMs with one and two ranks each and on 4 VMs with two ranks each,
# MPI_T counters proving coll/ivm ran the calls (btl tcp excluded).  Then
# the hand-over by size: coll_ivm_alltoall_handover=0- sends every
# alltoall to the next component, counted in coll_ivm_alltoall_handovers,
# results unchanged; with 0-:2 a 4-rank communicator keeps them; a
# malformed range makes coll/ivm step aside with a message, and the job
# still passes on the other components.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 420
# ivm-ompi: 4.1 5.0
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu
# shellcheck source=coll_ivm_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/coll_ivm_lib.sh"

coll_setup
PROG=$BUILDDIR/coll_pattern
N2=cpat2-$$
N4=cpat4-$$

# pattern_run NAME WHAT VMSIM-OPTS... -- MPIRUN-ARGS...: coll_pattern passes
pattern_run() {
	local name=$1 what=$2 log rc=0
	shift 2
	log=$COLL_TMP/$(echo "$what" | tr -c 'a-zA-Z0-9\n' '_').log
	coll_mpirun "$name" "$log" "$@" || rc=$?
	if [ "$rc" = 124 ]; then
		hang_report "$log"
		fail "$what: no result within the time limit (stacks above)"
	fi
	if [ "$rc" != 0 ] || ! grep -q '^coll_pattern: PASS' "$log"; then
		grep -E 'FAIL|error|Error' "$log" | head -n 15
		fail "$what: coll_pattern did not pass (exit $rc)"
	fi
	echo "$what: $(grep '^PVARS' "$log")"
	! grep -q '^SINGLE_COPY' "$log" || echo "$what: $(grep '^SINGLE_COPY' "$log" | tr '\n' ' ')"
	LAST_LOG=$log
}

coll_up "$N2" --vms 2 --device-size 256M
pattern_run "$N2" "np 2, 2 VMs" -- -np 2 --mca btl self,vader,ivm \
	"$PROG" --iters 600 --expect ivm --expect-single-copy
pattern_run "$N2" "np 4, 2 VMs x 2" --ppn 2 -- -np 4 --mca btl self,vader,ivm \
	"$PROG" --iters 400 --expect ivm --expect-single-copy
pattern_run "$N2" "np 2, alltoall handed over" -- -np 2 --mca btl self,vader,ivm \
	--mca coll_ivm_alltoall_handover 0- "$PROG" --iters 120 --expect ivm --expect-handover alltoall
grep -q 'alltoall=0/0/[1-9]' "$LAST_LOG" ||
	fail "with coll_ivm_alltoall_handover=0-, coll/ivm still ran alltoall calls"
pattern_run "$N2" "np 4, hand-over limited to 2 ranks" --ppn 2 -- -np 4 --mca btl self,vader,ivm \
	--mca coll_ivm_alltoall_handover 0-:2 "$PROG" --iters 60 --expect ivm
grep -q 'alltoall=[1-9][0-9]*/0/0' "$LAST_LOG" ||
	fail "coll_ivm_alltoall_handover=0-:2 handed over calls of a 4-rank communicator"
pattern_run "$N2" "np 2, malformed hand-over range" -- -np 2 --mca btl self,vader,ivm \
	--mca coll_ivm_bcast_handover 4M-1M "$PROG" --iters 60 --expect none
grep -q 'coll_ivm_<collective>_handover parameter is not a list' "$LAST_LOG" ||
	fail "a malformed coll_ivm_bcast_handover gave no message"
"$VMSIM" down --name "$N2" >/dev/null 2>&1 || true

coll_up "$N4" --vms 4 --device-size 256M
pattern_run "$N4" "np 8, 4 VMs x 2" --ppn 2 -- -np 8 --mca btl self,vader,ivm \
	"$PROG" --iters 160 --large 2097152 --expect ivm
echo "PASS: coll/ivm call patterns: np 2, 4 (2 VMs) and 8 (4 VMs), hand-over counted, bad range refused"
