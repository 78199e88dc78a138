#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# coll/ivm, flat mode: every rank of the communicators shares one device.
#  - 2 VMs, one rank each: every collective, 0 B to 16 MiB, all roots,
#    MPI_IN_PLACE, predefined and user-defined (non-commutative) operations,
#    derived datatypes, on MPI_COMM_WORLD and a reversed copy; results
#    checked against independently computed values; coll/ivm's MPI_T
#    counters prove it ran every collective; an intercommunicator is
#    declined and still works; 30 rounds of dup/split/free leave the job
#    heap's in-use bytes unchanged; 300 communicators alive at once exhaust
#    coll/ivm's share of the region: the rest fall back, results stay right
#    and everything is returned.
#  - 2 VMs, two ranks each, btl self,tcp: coll/ivm works without btl/ivm
#    (it publishes its co-location data itself).
#  - coll/ivm's MPI_T counter is read after MPI_Finalize, when the
#    component is closed and unloaded, and with coll/ivm unloaded during
#    MPI_Init (coll_ivm_priority -1): no crash either way.
#  - 4 VMs, one and two ranks each (np 4: one-step barrier; np 8 with
#    coll_ivm_barrier_all_max 4: the fan-in tree).
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
N2=cflat2-$$
N4=cflat4-$$
coll_up "$N2" --vms 2

log=$COLL_TMP/np2.log
rc=0
coll_mpirun "$N2" "$log" -- -np 2 --mca btl self,vader,ivm,tcp \
	"$CHECK" --max-bytes 16777216 --expect flat --leak 30 --many 300 --intercomm || rc=$?
coll_expect_pass "$log" "np 2, 2 VMs" "$rc"
grep -q 'MPI_COMM_WORLD (cid 0, size 2): served flat' "$log" ||
	fail "np 2: no 'served flat' verbose line for MPI_COMM_WORLD"
grep -q 'not served: intercommunicator' "$log" || fail "np 2: the intercommunicator was not declined"
grep -q 'falling back to the next component: its area would exceed' "$log" ||
	fail "np 2: 300 communicators did not exhaust coll/ivm's share of the region"
grep -E '^coll_check: (leak|300)' "$log"

log=$COLL_TMP/tcp.log
rc=0
coll_mpirun "$N2" "$log" --ppn 2 -- -np 4 --mca btl self,tcp "$CHECK" --quick --expect flat || rc=$?
coll_expect_pass "$log" "np 4 over btl tcp" "$rc"

for prio in 40 -1; do
	log=$COLL_TMP/pvar$prio.log
	rc=0
	coll_mpirun "$N2" "$log" -- -np 2 --mca btl self,vader,ivm,tcp --mca coll_ivm_priority "$prio" \
		"$BUILDDIR/coll_pvar_after" || rc=$?
	line=$(grep '^PVAR,' "$log" || true)
	[ "$rc" = 0 ] && [ -n "$line" ] || { cat "$log"; fail "reading coll/ivm's counter after MPI_Finalize (priority $prio): exit $rc"; }
	case "$prio,$line" in
	40,PVAR,handle,[1-9]*) ;; # counted the barrier, then read again without crashing
	-1,PVAR,no-handle,*) ;;   # unloaded at MPI_Init: no usable variable
	*) fail "unexpected MPI_T result with coll_ivm_priority $prio: $line" ;;
	esac
	echo "MPI_T after MPI_Finalize, coll_ivm_priority $prio: $line"
done

"$VMSIM" down --name "$N2" >/dev/null 2>&1 || true
coll_up "$N4" --vms 4
# np 4 takes the one-step barrier, np 8 (barrier_all_max 4) the fan-in tree
for ppn in 1 2; do
	log=$COLL_TMP/np4x$ppn.log
	rc=0
	coll_mpirun "$N4" "$log" --ppn "$ppn" -- -np $((4 * ppn)) --mca btl self,vader,ivm,tcp \
		--mca coll_ivm_barrier_all_max 4 "$CHECK" --quick --expect flat || rc=$?
	coll_expect_pass "$log" "np $((4 * ppn)), 4 VMs" "$rc"
	grep -q "MPI_COMM_WORLD (cid 0, size $((4 * ppn))): served flat" "$log" ||
		fail "np $((4 * ppn)): no 'served flat' verbose line"
done
echo "PASS: coll/ivm flat: np 2 (16 MiB, leak, exhaustion), np 4 over tcp, np 4 and 8 on 4 VMs (both barriers)"
