#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivm-vmsim tear-down leaves nothing behind:
#  1. two instances brought up at the same time get different subnets, both
#     work concurrently, cannot reach each other, and one can be torn down
#     while the other keeps running;
#  2. after 'down' there is no named netns, no process of the instances (VM
#     inits, sshd, anything inside the VMs), no mount mentioning them in any
#     mount namespace, no state directory, no interface added to the host's
#     root namespace, and the host's addresses and routes are unchanged;
#  3. 'run' returns the command's exit status and tears down afterwards, also
#     when it is sent SIGTERM while the command runs;
#  4. an 'up' interrupted with SIGINT midway tears itself down, an 'up'
#     killed with SIGKILL leaves a half-created instance, and 'down' (by
#     name; 'down --all' under CI=true) removes everything.
# Note: under CI=true step 4 runs 'down --all', which removes every
# ivm-vmsim instance on this machine; elsewhere it leaves other instances
# alone, and mounts of other instances' network namespaces are ignored.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin
# shellcheck disable=SC2015
# ("A && B || fail" is the assertion idiom here.)
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
VMSIM=$TOP/contrib/ivm-vmsim
# Run from /: the caller's directory may be invisible inside the VMs (/tmp is
# private there), which would only add warnings to the output we compare.
cd /
A=tda$$ B=tdb$$ R=tdr$$ T=tdt$$ I=tdi$$ K=tdk$$
ALL="$A $B $R $T $I $K"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, network devices)"
unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"

tmp=$(mktemp -d /tmp/vmsim-td.XXXXXX)
cleanup() {
	local n
	for n in $ALL; do "$VMSIM" down --name "$n" >/dev/null 2>&1 || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

host_net() {
	ip -o addr show | sed 's/ *valid_lft.*//'
	ip route show table all 2>/dev/null || ip route show
	ip -o link show | awk -F': ' '{print $2}' | sort
}
# (other instances, started meanwhile by other people, add netns mounts)
mounts() { awk '{print $5, $9}' /proc/self/mountinfo | grep -v '/run/netns/ivm-vmsim\.' | sort; }

# Namespaces (pid, net, mnt) of the VM inits of instance $1, one per line.
vm_namespaces() {
	local pid t
	for pid in $("$VMSIM" status --name "$1" | awk '$2 ~ /^vm[0-9]+$/ {print $6}'); do
		for t in pid net mnt; do readlink "/proc/$pid/ns/$t"; done
	done
}

# Fails if anything of the given instances is left on the host.
assert_gone() {
	local names=$1 n p t ns
	for n in $names; do
		[ ! -e "/run/ivm-vmsim/$n" ] || fail "state directory /run/ivm-vmsim/$n left behind"
		if ip netns list | grep -q "^ivm-vmsim\.$n\."; then
			fail "network namespace of instance $n left: $(ip netns list | grep "^ivm-vmsim\.$n\." | tr '\n' ' ')"
		fi
		if pgrep -f "/run/ivm-vmsim/$n/" >/dev/null; then
			fail "process of instance $n left: $(pgrep -af "/run/ivm-vmsim/$n/" | head -3)"
		fi
	done
	# No process lives in a namespace that belonged to a VM (this catches
	# the sleep/sshd/orted inside VMs, whatever their command line).
	if [ -s "$tmp/ns" ]; then
		for p in /proc/[0-9]*; do
			for t in pid net mnt; do
				ns=$(readlink "$p/ns/$t" 2>/dev/null) || continue
				if grep -qxF "$ns" "$tmp/ns"; then
					fail "process ${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-60)) still in a VM's $t namespace"
				fi
			done
		done
	fi
	assert_no_mounts "$names"
}

# No mount in any mount namespace mentions the instances (e.g. a netns bind
# mount pinned by the copy of the mount table inside another instance's VM).
assert_no_mounts() {
	local names=$1 n p q
	for p in $(for q in /proc/[0-9]*; do echo "$(readlink "$q/ns/mnt" 2>/dev/null) ${q#/proc/}"; done | sort -u -k1,1 | awk 'NF==2{print $2}'); do
		for n in $names; do
			if grep -q -e "ivm-vmsim\.$n\." -e "/run/ivm-vmsim/${n}[/ ]" "/proc/$p/mountinfo" 2>/dev/null; then
				fail "a mount mentioning instance $n is left in the mount namespace of process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-60))"
			fi
		done
	done
}

net_before=$(host_net)
mounts_before=$(mounts)

# --- 1. two instances at the same time ---------------------------------------
"$VMSIM" up --name "$A" --vms 2 >"$tmp/upA" 2>&1 &
pa=$!
"$VMSIM" up --name "$B" --vms 2 >"$tmp/upB" 2>&1 &
pb=$!
wait $pa || {
	cat "$tmp/upA"
	fail "up of instance $A failed"
}
wait $pb || {
	cat "$tmp/upB"
	fail "up of instance $B failed (concurrent with $A)"
}
netA=$("$VMSIM" status --name "$A" | sed -n 's/.*network \([0-9.]*\)\.0\/24.*/\1/p')
netB=$("$VMSIM" status --name "$B" | sed -n 's/.*network \([0-9.]*\)\.0\/24.*/\1/p')
[ -n "$netA" ] && [ -n "$netB" ] || fail "status does not show the instances' networks"
[ "$netA" != "$netB" ] || fail "instances $A and $B share subnet $netA.0/24"
for net in "$netA" "$netB"; do
	[[ $net == 198.1[89].* ]] || fail "subnet $net.0/24 is outside 198.18.0.0/15"
done
{ vm_namespaces "$A"; vm_namespaces "$B"; } >"$tmp/ns"
[ "$(wc -l <"$tmp/ns")" -eq 12 ] || fail "could not read the namespaces of the 4 VMs"

# Both work at the same time: an MPI job in each, concurrently.
"$VMSIM" mpirun --name "$A" -- -np 2 --map-by node hostname >"$tmp/mA" 2>"$tmp/eA" &
pa=$!
"$VMSIM" mpirun --name "$B" -- -np 2 --map-by node hostname >"$tmp/mB" 2>"$tmp/eB" &
pb=$!
wait $pa || {
	cat "$tmp/mA" "$tmp/eA"
	fail "mpirun in $A failed while $B was busy"
}
wait $pb || {
	cat "$tmp/mB" "$tmp/eB"
	fail "mpirun in $B failed while $A was busy"
}
for f in mA mB; do
	[ "$(sort -u "$tmp/$f" | tr '\n' ' ')" = "vm0 vm1 " ] || {
		cat "$tmp/$f"
		fail "concurrent mpirun ($f) did not run on vm0 and vm1"
	}
done

# Each instance is its own network: vm0 of A reaches vm1 of A, not vm0 of B.
"$VMSIM" exec --name "$A" 0 -- bash -c "exec 3<>/dev/tcp/$netA.2/22" 2>/dev/null ||
	fail "vm0 of $A cannot reach its own vm1 ($netA.2:22)"
if "$VMSIM" exec --name "$A" 0 -- timeout 5 bash -c "exec 3<>/dev/tcp/$netB.1/22" 2>/dev/null; then
	fail "vm0 of $A can reach vm0 of $B ($netB.1): instances are not isolated"
fi
[ "$(host_net)" = "$net_before" ] || fail "host interfaces, addresses or routes changed while instances were up"

# Tear down A while B keeps running.
"$VMSIM" down --name "$A" >"$tmp/down" 2>&1 || {
	cat "$tmp/down"
	fail "down of $A failed"
}
"$VMSIM" status --name "$B" >/dev/null || fail "instance $B is not healthy after $A was torn down"
assert_no_mounts "$A"
[ "$("$VMSIM" exec --name "$B" 1 -- hostname)" = vm1 ] || fail "exec in $B fails after $A was torn down"
"$VMSIM" down --name "$B" >"$tmp/down" 2>&1 || {
	cat "$tmp/down"
	fail "down of $B failed"
}
assert_gone "$A $B"
[ "$(host_net)" = "$net_before" ] || fail "host interfaces, addresses or routes differ after down"
[ "$(mounts)" = "$mounts_before" ] || {
	diff <(echo "$mounts_before") <(mounts) || true
	fail "host mount table differs after down"
}
"$VMSIM" down --name "$A" >/dev/null 2>&1 || fail "a second down of $A (nothing left) failed"

# --- 3. run: exit status and tear-down, also on SIGTERM ---------------------
rc=0
out=$("$VMSIM" run --name "$R" --vms 2 -- sh -c 'ivm-vmsim exec 1 -- hostname; exit 3' 2>"$tmp/run") || rc=$?
[ $rc -eq 3 ] || {
	cat "$tmp/run"
	fail "run returned $rc, expected the command's status 3"
}
[ "$out" = vm1 ] || fail "run: 'ivm-vmsim exec 1' inside run printed '$out', expected vm1"
assert_gone "$R"

"$VMSIM" run --name "$T" --vms 2 -- "$VMSIM" exec 1 -- sleep 300 >"$tmp/runT" 2>&1 &
pt=$!
for _ in $(seq 100); do
	[ -e "/run/ivm-vmsim/$T/up" ] && pgrep -f "^sleep 300" >/dev/null && break
	sleep 0.1
done
[ -e "/run/ivm-vmsim/$T/up" ] || fail "run --name $T did not come up"
vm_namespaces "$T" >"$tmp/ns"
kill -TERM $pt
rc=0
wait $pt || rc=$?
[ $rc -eq 143 ] || {
	cat "$tmp/runT"
	fail "run killed with SIGTERM exited $rc, expected 143"
}
assert_gone "$T"

# --- 4. interrupted and killed 'up' -------------------------------------------
# Job control, so that the background 'up' does not start with SIGINT
# ignored (bash does that to background jobs of non-interactive shells).
set -m
"$VMSIM" up --name "$I" --vms 24 >"$tmp/upI" 2>&1 &
pi=$!
# SIGINT after ~1 s, once VMs are being started (the hardest point).
sleep 1
for _ in $(seq 100); do
	[ -e "/run/ivm-vmsim/$I/vm0/unshare.pid" ] && break
	[ -e "/run/ivm-vmsim/$I/up" ] && break
	sleep 0.05
done
kill -INT $pi
rc=0
wait $pi || rc=$?
if [ $rc -eq 0 ]; then
	echo "note: 'up' finished before SIGINT arrived" >&2
elif [ $rc -ne 130 ]; then
	cat "$tmp/upI"
	fail "up interrupted with SIGINT exited $rc, expected 130"
fi

"$VMSIM" up --name "$K" --vms 24 >"$tmp/upK" 2>&1 &
pk=$!
sleep 0.5
kill -KILL $pk
wait $pk 2>/dev/null || true
set +m
if [ -e "/run/ivm-vmsim/$K" ]; then
	# A half-created instance must be reported as not healthy.
	if "$VMSIM" status --name "$K" >/dev/null 2>&1; then
		fail "status calls the half-created instance $K healthy"
	fi
fi

# 'down --all' removes every instance on the machine, including other
# people's: only where this test runs alone (CI), else per name, which must
# also clean half-created instances.
if [ "${CI:-}" = true ]; then
	"$VMSIM" down --all >"$tmp/downall" 2>&1 || {
		cat "$tmp/downall"
		fail "down --all failed"
	}
else
	for n in "$I" "$K"; do
		"$VMSIM" down --name "$n" >"$tmp/downall" 2>&1 || {
			cat "$tmp/downall"
			fail "down of the interrupted instance $n failed"
		}
	done
fi
: >"$tmp/ns"
assert_gone "$ALL"
if ip netns list | grep -qE "^ivm-vmsim\.($I|$K)\."; then fail "down left network namespaces: $(ip netns list | tr '\n' ' ')"; fi
if pgrep -f " _vm_init /run/ivm-vmsim/($I|$K)/" >/dev/null; then fail "down left VM processes"; fi
if [ "${CI:-}" = true ]; then
	[ ! -e /run/ivm-vmsim ] || fail "down --all left /run/ivm-vmsim: $(find /run/ivm-vmsim -maxdepth 1 | tr '\n' ' ')"
fi
[ "$(host_net)" = "$net_before" ] || fail "host interfaces, addresses or routes differ after down --all"
[ "$(mounts)" = "$mounts_before" ] || {
	diff <(echo "$mounts_before") <(mounts) || true
	fail "host mount table differs after down --all"
}

echo "PASS: vmsim tear-down (concurrent instances, run, SIGTERM, SIGINT and SIGKILL during up, down --all)"
