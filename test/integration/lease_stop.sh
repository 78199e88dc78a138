#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Leases across VMs (doc/security.md), seen through coll/ivm's waits:
#  - a rank that stays outside MPI for longer than the lease keeps its job
#    (its lease thread renews the lease while it computes);
#  - a rank whose whole process is stopped (SIGSTOP: its VM paused) for
#    less than the lease keeps its job too;
#  - one stopped for longer than the lease ends the other rank's wait with
#    an error that says why, a lease and a few seconds later, never a hang.
# The two ranks are in different emulated VMs, so /proc cannot tell one
# about the other: only the lease does.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-ompi: 4.1 5.0
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu -o pipefail
# shellcheck source=coll_ivm_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/coll_ivm_lib.sh"

coll_setup
N=lease-$$
coll_up "$N" --vms 2

# rank_pid RANK: the host PID of coll_stall's rank RANK (waits for it)
rank_pid() {
	local p i
	for i in $(seq 1 200); do
		for p in $(hang_pids coll_stall); do
			if tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1"; then
				echo "$p"
				return 0
			fi
		done
		sleep 0.1
	done
	return 1
}

# result LOG: "status secs" of rank 0's second barrier
result() {
	local line
	# (Open MPI 5's launcher may print a warning on the same line first)
	line=$(grep -ao 'STALL,0,[a-z]*,[0-9.]*' "$1" | head -n 1 || true)
	[ -n "$line" ] || { cat "$1"; fail "rank 0 printed no result"; }
	IFS=, read -r _ _ status secs <<<"$line"
	echo "$status $secs"
}

# run LEASE DELAY LOG: coll_stall DELAY with opal_common_ivm_lease=LEASE
run() {
	coll_mpirun "$N" "$3" -- -np 2 --map-by node --mca btl self,vader,ivm,tcp \
		--mca opal_common_ivm_lease "$1" "$BUILDDIR/coll_stall" "$2"
}

# 1. computing outside MPI for 6 s with a 2 s lease
log=$COLL_TMP/compute.log
rc=0
run 2 6 "$log" || rc=$?
read -r status secs < <(result "$log")
[ "$rc" = 0 ] && [ "$status" = ok ] || { cat "$log"; fail "a rank outside MPI for 6 s lost its job with a 2 s lease ($status, exit $rc)"; }
echo "outside MPI for 6 s, lease 2 s: the barrier waited ${secs} s and succeeded"

# 2. stopped for 2 s with a 5 s lease
log=$COLL_TMP/short-stop.log
( p=$(rank_pid 1) && sleep 1.5 && kill -STOP "$p" && sleep 2 && kill -CONT "$p" ) &
stopper=$!
rc=0
run 5 5 "$log" || rc=$?
wait "$stopper" || fail "could not stop and continue rank 1"
read -r status secs < <(result "$log")
[ "$rc" = 0 ] && [ "$status" = ok ] || { cat "$log"; fail "a rank stopped for 2 s lost its job with a 5 s lease ($status, exit $rc)"; }
echo "stopped for 2 s, lease 5 s: the barrier waited ${secs} s and succeeded"

# 3. stopped for good with a 3 s lease: rank 0 gives up; then rank 1 is
# killed so that the job can end
stop_for_good() {
	local log=$1 p
	p=$(rank_pid 1) && sleep 1 && kill -STOP "$p" || return 1
	for _ in $(seq 1 600); do
		grep -aq 'STALL,0,' "$log" 2>/dev/null && break
		sleep 0.1
	done
	kill -KILL "$p"
}
log=$COLL_TMP/long-stop.log
# Open MPI 4.1.4 sometimes loses a rank's show_help text on its way to
# mpirun (ORTE_ERROR_LOG ... show_help.c): then run again, up to 3 times
for attempt in 1 2 3; do
	stop_for_good "$log" &
	stopper=$!
	rc=0
	run 3 30 "$log" || rc=$?
	wait "$stopper" || fail "could not stop rank 1"
	[ "$rc" != 124 ] || { hang_report "$log"; fail "the job hung with a stopped rank"; }
	grep -q "stopped renewing its lease" "$log" && break
	grep -q "show_help.c" "$log" || break
	echo "attempt $attempt: Open MPI lost the show_help message in its relay; again"
done
read -r status secs < <(result "$log")
[ "$status" = error ] || { cat "$log"; fail "rank 0's barrier did not fail with rank 1 stopped ($status)"; }
awk -v s="$secs" 'BEGIN { exit !(s >= 3 && s < 12) }' ||
	{ cat "$log"; fail "rank 0 gave up after $secs s; expected the 3 s lease plus a few seconds"; }
grep -q "stopped renewing its lease" "$log" || { cat "$log"; fail "the error does not name the lease"; }
echo "stopped for good, lease 3 s: the barrier failed after ${secs} s naming the lease"
echo "PASS: leases keep computing and briefly stopped ranks, and end waits for stopped ones"
