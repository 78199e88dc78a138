#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Fault injection across VMs on one device (issue: hardening).  Job B
# (vm0, vm1; tcp excluded) runs verifying point-to-point, RMA and
# collective jobs in a loop while job A (vm2, vm3) is started again and
# again and killed with SIGKILL mid-transfer: one rank, or every process of
# vm3 at once.  Then vm3 itself is torn down (its PID namespace killed)
# with an A job running, so A's last processes can only be proven dead by
# their leases.  Passes when:
#   - every B round passed (data verified, MPI_T counters show ivm);
#   - no B or A job hung;
#   - within a lease plus a margin after vm3's teardown, with no
#     'ivmctl clean', the region holds no job, no process slot and no heap
#     byte of anyone (the next attach reclaimed them).
# Environment: IVM_FAULT_JOBS (A jobs, default 40: about 2.5 minutes, to
# keep a fresh CI run within its budget; IVM_FAULT_JOBS=200 took 695 s on
# 2026-12-06, B passing 211 rounds, the region empty 4 s after vm3's
# teardown), IVM_FAULT_LEASE (opal_common_ivm_lease in seconds, default 3).
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 1200
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc python3
set -eu -o pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}
jobs=${IVM_FAULT_JOBS:-40}
lease=${IVM_FAULT_LEASE:-3}
export PATH="$top/contrib:$PATH"
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || skip "needs root for emulated VMs"
command -v ivmctl >/dev/null || skip "ivm not installed (contrib/ivm-dev build)"
make -s -C "$top/test/progs" BUILDDIR="$build" >/dev/null

name=fault-$$
out=$(mktemp -d /tmp/ivm-fault.XXXXXX)
cleanup() {
	[ -z "${bloop:-}" ] || kill "$bloop" 2>/dev/null || true
	ivm-vmsim down --name "$name" >/dev/null 2>&1 || true
	rm -rf "$out"
}
trap cleanup EXIT
ivm-vmsim up --name "$name" --vms 4 --share "$build" --share "$out" >"$out/up.log" 2>&1 ||
	{ cat "$out/up.log"; fail "ivm-vmsim up failed"; }
dev=$(ivm-vmsim device-path --name "$name" 0)
mca=(--mca pml ob1 --mca mpi_yield_when_idle 1 --mca opal_common_ivm_lease "$lease")

# b_round N: one round of job B; its output in $out/b.N.log
b_round() {
	local n=$1 log=$out/b.$1.log
	{
		timeout 120 ivm-vmsim mpirun --name "$name" --vms 0,1 -- -np 2 "${mca[@]}" \
			--mca btl ivm,vader,self "$build/ivm_p2p" --phases sizes,order,nonblock \
			--max-size 1048576 &&
		timeout 120 ivm-vmsim mpirun --name "$name" --vms 0,1 -- -np 2 "${mca[@]}" \
			--mca btl ivm,vader,self "$build/ivm_rma" --kinds create/ivm,create/heap &&
		timeout 120 ivm-vmsim mpirun --name "$name" --vms 0,1 -- -np 2 "${mca[@]}" \
			--mca btl ivm,vader,self --mca coll ivm,tuned,basic,libnbc,self \
			"$build/coll_check" --quick
	} >"$log" 2>&1
}

# job B: rounds until A is done; a failed round ends the loop
b_loop() {
	local n=0
	while [ ! -e "$out/a.done" ]; do
		n=$((n + 1))
		b_round "$n" || { echo "$n" >"$out/b.failed"; return 1; }
		echo "$n" >"$out/b.rounds"
	done
}
b_loop &
bloop=$!

# ranks_up PROG: wait (up to 20 s) until both ranks of A's PROG run; the
# host sees every VM's processes
ranks_up() {
	local i
	for i in $(seq 1 200); do
		[ "$(pgrep -c -x "$1" || true)" -ge 2 ] && return 0
		sleep 0.1
	done
	return 1
}

# a_job K: one A job, killed mid-transfer
a_job() {
	local k=$1 prog pid victims
	if [ $((k % 2)) = 0 ]; then
		prog=(pingpong -s 1048576,65536,8 -n 1000000 -b 100000000000)
	else
		prog=(ring 100000000)
	fi
	timeout -s KILL 60 ivm-vmsim mpirun --name "$name" --vms 2,3 -- -np 2 "${mca[@]}" \
		--mca btl ivm,self "$build/${prog[0]}" "${prog[@]:1}" >"$out/a.log" 2>&1 &
	pid=$!
	ranks_up "${prog[0]}" || { wait "$pid" || true; cat "$out/a.log"; fail "A job $k did not start"; }
	sleep "0.$((1 + RANDOM % 9))"
	if [ $((RANDOM % 3)) = 0 ]; then # every process of vm3 at once
		ivm-vmsim exec --name "$name" 3 -- pkill -KILL -x "orted|${prog[0]}" || true
	else # one rank, either
		mapfile -t victims < <(pgrep -x "${prog[0]}")
		kill -KILL "${victims[$((RANDOM % ${#victims[@]}))]}" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		pgrep -x "${prog[0]}" >/dev/null || return 0
		sleep 0.1
	done
	fail "A job $k left processes behind"
}

t0=$SECONDS
for k in $(seq 1 "$jobs"); do
	a_job "$k"
	[ ! -e "$out/b.failed" ] || break
done
echo "A: $jobs jobs started and killed in $((SECONDS - t0)) s"

# the last A job dies with its VM: vm3's PID namespace is torn down
timeout -s KILL 60 ivm-vmsim mpirun --name "$name" --vms 2,3 -- -np 2 "${mca[@]}" \
	--mca btl ivm,self "$build/pingpong" -s 1048576 -n 1000000 -b 100000000000 >"$out/a.log" 2>&1 &
apid=$!
sleep 1
init=$(ivm-vmsim status --name "$name" | awk '$1 == 3 { print $6 }')
[ -n "$init" ] || fail "no init PID for vm3"
kill -KILL "$init"
t_dead=$SECONDS
wait "$apid" || true
touch "$out/a.done"
rc=0
wait "$bloop" || rc=$?
bloop=
rounds=$(cat "$out/b.rounds" 2>/dev/null || echo 0)
if [ -e "$out/b.failed" ] || [ "$rc" != 0 ]; then
	n=$(cat "$out/b.failed" 2>/dev/null || echo "?")
	cat "$out/b.$n.log" 2>/dev/null || true
	fail "job B's round $n failed while A was being killed ($rounds rounds passed)"
fi
[ "$rounds" -ge 1 ] || fail "job B completed no round"
echo "B: $rounds rounds passed (p2p, RMA, collectives verified; ivm counters checked)"

# Reclaim without ivmctl clean: a job attaching from vm0 and vm1 reclaims
# what is provably dead; vm3's processes only by lease.
clean=
for _ in $(seq 1 $((lease + 20))); do
	ivm-vmsim mpirun --name "$name" --vms 0,1 -- -np 2 "${mca[@]}" --mca btl ivm,self \
		"$build/ring" 1 >"$out/probe.log" 2>&1 || { cat "$out/probe.log"; fail "a job after the faults failed"; }
	ivmctl info --json "$dev" >"$out/info.json"
	if python3 - "$out/info.json" <<'PY'
import json, sys
u = json.load(open(sys.argv[1]))["usage"]
sys.exit(0 if (u["jobs_active"], u["slots_claimed"], u["heap_used"]) == (0, 0, 0) else 1)
PY
	then
		clean=$((SECONDS - t_dead))
		break
	fi
	sleep 1
done
[ -n "$clean" ] || { ivmctl info "$dev"; fail "jobs, slots or heap bytes left $((SECONDS - t_dead)) s after vm3 died (lease $lease s)"; }
[ "$clean" -le $((lease + 15)) ] || fail "reclaimed only after $clean s (lease $lease s)"
echo "region empty $clean s after vm3's teardown (lease $lease s): no job, slot or heap byte left"
echo "PASS: $jobs killed jobs and a dead VM; B passed $rounds rounds; nothing leaked"
