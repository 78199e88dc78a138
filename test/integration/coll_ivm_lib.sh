# SPDX-License-Identifier: BSD-3-Clause
# Shared part of the coll/ivm integration tests (sourced, not run: no
# execute bit, so test/run-tests skips it).
#
# Provides: skip, fail, coll_setup (checks, builds test/progs into $BUILDDIR),
# coll_up NAME VMSIM-UP-ARGS..., coll_mpirun NAME LOG MPIRUN-ARGS... (runs
# "ivm-vmsim mpirun" with the usual MCA settings, output to LOG, returns
# mpirun's status), coll_expect_pass LOG WHAT, and cleanup of every instance
# brought up with coll_up.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
VMSIM=$TOP/contrib/ivm-vmsim
BUILDDIR=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}
# run from /: the caller's directory may be invisible inside the VMs
cd /

. "$HERE/hang_lib.sh"

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

COLL_INSTANCES=
COLL_TMP=$(mktemp -d /tmp/coll-ivm-test.XXXXXX)
coll_cleanup() {
	local n
	for n in $COLL_INSTANCES; do
		"$VMSIM" down --name "$n" >/dev/null 2>&1 || true
	done
	rm -rf "$COLL_TMP"
}
trap coll_cleanup EXIT

coll_setup() {
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces)"
	unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
	command -v mpicc >/dev/null || skip "mpicc not found"
	ompi_info 2>/dev/null | grep -q 'MCA coll: ivm' || fail "coll/ivm is not installed (contrib/ivm-dev build)"
	make -s -C "$TOP/test/progs" BUILDDIR="$BUILDDIR" >"$COLL_TMP/make.log" 2>&1 || {
		cat "$COLL_TMP/make.log"
		fail "building test/progs failed"
	}
}

# coll_up NAME ARGS...: bring up an instance sharing $BUILDDIR
coll_up() {
	local name=$1
	shift
	COLL_INSTANCES="$COLL_INSTANCES $name"
	"$VMSIM" up --name "$name" --share "$BUILDDIR" "$@" >"$COLL_TMP/up.$name.log" 2>&1 || {
		cat "$COLL_TMP/up.$name.log"
		fail "ivm-vmsim up $* failed"
	}
}

# coll_mpirun NAME LOG [VMSIM-MPIRUN-OPTIONS] -- MPIRUN-ARGS...
coll_mpirun() {
	local name=$1 log=$2
	shift 2
	local -a vopts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		vopts+=("$1")
		shift
	done
	shift
	# The emulated VMs share 2 CPUs, but the hostfile's slots say nothing
	# of that, so Open MPI does not know that ranks outnumber CPUs: tell it
	# (mpi_yield_when_idle; btl/ivm then sleeps when idle instead of
	# spinning).  Without it, ranks spinning in btl/tcp's polls kept the
	# other VMs' ranks off the CPUs: np 8 on 2 devices took 159 s instead
	# of 9 s with another process busy on the machine.
	hang_limit 300 "coll_check coll_stall coll_pvar_after coll_pattern" \
		"$VMSIM" mpirun --name "$name" "${vopts[@]+"${vopts[@]}"}" -- \
		--mca pml ob1 --mca mpi_yield_when_idle 1 --mca coll_ivm_verbose 1 "$@" >"$log" 2>&1
}

# coll_expect_pass LOG WHAT STATUS: coll_check passed in LOG
coll_expect_pass() {
	local log=$1 what=$2 rc=$3
	if [ "$rc" = 124 ]; then
		hang_report "$log"
		fail "$what: no result within the time limit (stacks above)"
	fi
	if [ "$rc" != 0 ] || ! grep -q '^coll_check: PASS' "$log"; then
		grep -E 'FAIL|error|Error' "$log" | head -n 15
		fail "$what: coll_check did not pass (exit $rc, log above)"
	fi
}
