#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# coll/ivm, hierarchical mode: communicators whose ranks sit on several
# devices (emulated hosts), or have no device at all.
#  - 4 VMs on 2 devices (--devices 2 --map 0,0,1,1), one and two ranks per
#    VM: every collective checked (barrier, bcast, reduce, allreduce,
#    allgather, gather and scatter with ivm inside each device and the next
#    component between the leaders, proved by coll/ivm's counters; the rest
#    handed to the next component),
#    including communicators whose ranks of one device are not consecutive
#    (non-commutative operations then go to the next component);
#  - VMs 0-2 only: vm2 is alone on its device (a group of one);
#  - a rank started without a device (opal_common_ivm_device pointing
#    nowhere) joins as a group of its own;
#  - 2 VMs on different devices: no two ranks share a region, coll/ivm
#    declines MPI_COMM_WORLD and runs nothing.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 420
# ivm-ompi: 4.1 5.0
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu
# shellcheck source=coll_ivm_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/coll_ivm_lib.sh"

coll_setup
CHECK=$BUILDDIR/coll_check
N=chier-$$
coll_up "$N" --vms 4 --devices 2 --map 0,0,1,1
BTL=(--mca btl self,vader,ivm,tcp)

for ppn in 1 2; do
	log=$COLL_TMP/np4x$ppn.log
	rc=0
	coll_mpirun "$N" "$log" --ppn "$ppn" -- -np $((4 * ppn)) "${BTL[@]}" \
		"$CHECK" --quick --expect hier --intercomm || rc=$?
	coll_expect_pass "$log" "np $((4 * ppn)) on 2 devices" "$rc"
	grep -q "MPI_COMM_WORLD (cid 0, size $((4 * ppn))): served hierarchically, 2 groups" "$log" ||
		fail "np $((4 * ppn)): MPI_COMM_WORLD not served hierarchically in 2 groups"
done
grep -q 'served hierarchically, 2 groups (largest 4 ranks), ranks not in blocks' "$COLL_TMP/np4x2.log" ||
	fail "np 8: the interleaved communicator was not seen as non-consecutive groups"

log=$COLL_TMP/single.log
rc=0
coll_mpirun "$N" "$log" --vms 0,1,2 -- -np 3 "${BTL[@]}" "$CHECK" --quick --expect hier || rc=$?
coll_expect_pass "$log" "np 3, vm2 alone on its device" "$rc"
grep -q 'MPI_COMM_WORLD (cid 0, size 3): served hierarchically, 2 groups (largest 2 ranks)' "$log" ||
	fail "np 3: expected 2 groups, one of them a single rank"

log=$COLL_TMP/nodev.log
rc=0
coll_mpirun "$N" "$log" --vms 0,1,2,3 -- "${BTL[@]}" -np 3 "$CHECK" --quick --expect hier : \
	-np 1 -x OMPI_MCA_opal_common_ivm_device=/run/ivm/no-such-device "$CHECK" --quick --expect hier || rc=$?
coll_expect_pass "$log" "np 4 with one rank without a device" "$rc"
grep -q 'MPI_COMM_WORLD (cid 0, size 4): served hierarchically, 3 groups' "$log" ||
	fail "np 4 with a device-less rank: expected 3 groups"

"$VMSIM" down --name "$N" >/dev/null 2>&1 || true
N2=csep-$$
coll_up "$N2" --vms 2 --devices 2 --map 0,1
log=$COLL_TMP/sep.log
rc=0
coll_mpirun "$N2" "$log" -- -np 2 --mca btl self,vader,ivm,tcp "$CHECK" --quick --expect none || rc=$?
coll_expect_pass "$log" "np 2 on separate devices" "$rc"
grep -q 'MPI_COMM_WORLD (cid 0, size 2): not served: no two of its ranks share an ivm region' "$log" ||
	fail "np 2 on separate devices: MPI_COMM_WORLD was not declined"
echo "PASS: coll/ivm hierarchical: np 4 and 8 on 2 devices, a single-rank group, a rank without device; declined across devices"
