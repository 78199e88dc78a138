#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivm-vmsim CPU sets: each VM's init (and so everything in the VM) runs on the
# expected CPUs.  On a single-socket machine the CPUs are split into
# min(VMs, CPUs) groups and VMs take them round robin: on 2 CPUs, 2 VMs get
# cpu0 / cpu1 and 4 VMs get vm0,vm2 -> cpu0 and vm1,vm3 -> cpu1.  With several
# sockets each VM gets a whole socket (round robin).  Commands run with 'exec'
# and MPI ranks started by 'mpirun' inherit their VM's CPU set.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin
# shellcheck disable=SC2015,SC2016
# ("A && B || fail" is the assertion idiom here; single-quoted scripts are
# expanded inside the VMs.)
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
VMSIM=$TOP/contrib/ivm-vmsim
# Run from /: the caller's directory may be invisible inside the VMs (/tmp is
# private there), which would only add warnings to the output we compare.
cd /
NAME=cpu$$

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, network devices)"
unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
command -v taskset >/dev/null || skip "taskset missing"

log=$(mktemp /tmp/vmsim-cpu.XXXXXX)
cleanup() {
	"$VMSIM" down --name "$NAME" >/dev/null 2>&1 || true
	rm -f "$log"
}
trap cleanup EXIT

# "0-2,5" -> "0,1,2,5"
expand() {
	local res=() part a b c
	local -a parts
	IFS=, read -r -a parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part == *-* ]]; then
			a=${part%-*} b=${part#*-}
			for ((c = a; c <= b; c++)); do res+=("$c"); done
		else
			res+=("$part")
		fi
	done
	local IFS=,
	echo "${res[*]}"
}

# The CPUs this test may use, in order, and their sockets.
allowed=$(expand "$(awk '/^Cpus_allowed_list:/{print $2}' /proc/self/status)")
IFS=, read -r -a cpus <<<"$allowed"
[ ${#cpus[@]} -ge 2 ] || skip "needs at least 2 CPUs (have ${#cpus[@]})"
declare -A sock_cpus=()
socks=()
for c in "${cpus[@]}"; do
	s=$(cat "/sys/devices/system/cpu/cpu$c/topology/physical_package_id" 2>/dev/null || echo 0)
	if [ -z "${sock_cpus[$s]+x}" ]; then
		socks+=("$s")
		sock_cpus[$s]=$c
	else
		sock_cpus[$s]+=",$c"
	fi
done

# expected N I -> CPU list expected for VM I of N
expected() {
	local n=$1 i=$2 ncpu=${#cpus[@]} ng g lo hi
	if [ ${#socks[@]} -gt 1 ]; then
		echo "${sock_cpus[${socks[i % ${#socks[@]}]}]}"
		return
	fi
	ng=$((n < ncpu ? n : ncpu))
	g=$((i % ng))
	lo=$((g * ncpu / ng))
	hi=$(((g + 1) * ncpu / ng))
	local IFS=,
	echo "${cpus[*]:lo:hi-lo}"
}

# affinity of a host PID as an expanded list
affinity() { expand "$(taskset -pc "$1" | sed 's/.*: *//')"; }

init_pids() { "$VMSIM" status --name "$NAME" | awk '$2 ~ /^vm[0-9]+$/ {print $6}'; }

check_instance() {
	local n=$1 i want got
	local -a pids
	"$VMSIM" up --name "$NAME" --vms "$n" >"$log" 2>&1 || {
		cat "$log"
		fail "ivm-vmsim up --vms $n failed"
	}
	mapfile -t pids < <(init_pids)
	[ ${#pids[@]} -eq "$n" ] || fail "status listed ${#pids[@]} VM init PIDs, expected $n"
	for ((i = 0; i < n; i++)); do
		want=$(expected "$n" "$i")
		got=$(affinity "${pids[i]}")
		[ "$got" = "$want" ] || fail "$n VMs: vm$i init (pid ${pids[i]}) runs on CPUs '$got', expected '$want'"
	done
	# On this kind of machine (one socket, 2 CPUs) spell the layout out, so a
	# regression in the general rule cannot hide behind the helper above.
	if [ ${#socks[@]} -eq 1 ] && [ ${#cpus[@]} -eq 2 ]; then
		local c0=${cpus[0]} c1=${cpus[1]}
		[ "$(affinity "${pids[0]}")" = "$c0" ] && [ "$(affinity "${pids[1]}")" = "$c1" ] ||
			fail "$n VMs on 2 CPUs: vm0/vm1 should be on cpu$c0/cpu$c1"
		if [ "$n" -eq 4 ]; then
			[ "$(affinity "${pids[2]}")" = "$c0" ] && [ "$(affinity "${pids[3]}")" = "$c1" ] ||
				fail "4 VMs on 2 CPUs: vm2/vm3 should be on cpu$c0/cpu$c1 (round robin)"
		fi
	fi
	[ "$(affinity "${pids[0]}")" != "$(affinity "${pids[1]}")" ] || fail "$n VMs: vm0 and vm1 share CPUs"
}

check_instance 2

# Everything started in a VM inherits its CPU set: a command run with exec...
want=$(expected 2 1)
got=$(expand "$("$VMSIM" exec --name "$NAME" 1 -- sh -c 'taskset -pc $$' | sed 's/.*: *//')")
[ "$got" = "$want" ] || fail "a command run with 'exec 1' runs on CPUs '$got', expected vm1's '$want'"
# ...and an MPI rank launched through sshd in vm1.
out=$("$VMSIM" mpirun --name "$NAME" -- -np 2 --map-by node sh -c 'echo "$(hostname) $(taskset -pc $$ | sed "s/.*: *//")"' 2>"$log") || {
	cat "$log"
	echo "$out"
	fail "mpirun across 2 VMs failed"
}
got=$(expand "$(echo "$out" | awk '$1 == "vm1" {print $2}')")
[ "$got" = "$want" ] || {
	echo "$out"
	fail "the MPI rank in vm1 runs on CPUs '$got', expected vm1's '$want'"
}
"$VMSIM" down --name "$NAME" >"$log" 2>&1 || fail "down failed"

check_instance 4
"$VMSIM" down --name "$NAME" >"$log" 2>&1 || fail "down failed"

echo "PASS: vmsim CPU sets (2 and 4 VMs on ${#cpus[@]} CPUs, ${#socks[@]} socket(s)); exec and MPI ranks inherit them"
