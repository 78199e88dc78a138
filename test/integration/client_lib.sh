# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
# client_lib.sh: helpers shared by test/integration/client_*.sh, which run
# real MPI clients from Debian (NetPIPE, hpcc, LAMMPS) across emulated VMs
# (contrib/ivm-vmsim) over btl/ivm.  Sourced, not run (not executable, so
# test/run-tests does not count it as a test).
#
# A client test calls, in order:
#   client_init TAG PACKAGE BINARY   checks (root, namespaces, btl/ivm), the
#                                    package (installed with apt if missing),
#                                    a shared work directory $WORK, cleanup
#   client_netpipe_from_source       (Open MPI 5) NetPIPE built from source
#   client_counters                  builds the MPI_T counter shim
#                                    ($WORK/libivm_counters_shim.so,
#                                    from test/progs/ivm_counters_shim.c)
#   vm_up INSTANCE NVMS              an emulated-VM instance sharing $WORK
#   vm_mpirun INSTANCE SECS [vmsim mpirun options] -- MPIRUN-ARGS...
#   check_counters LOG MINBYTES      both ranks (vm0, vm1) sent through ivm
#   check_self_fails INSTANCE PROGRAM [ARGS...]
#                                    btl self alone cannot connect the VMs
# Instances are torn down and $WORK removed on exit, also on SIGTERM from
# the runner's timeout (IVM_KEEP_WORK=1 keeps $WORK for inspection).

CLIENT_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VMSIM=$CLIENT_TOP/contrib/ivm-vmsim
WORK=
CLIENT_INSTANCES=()
CLIENT_T0=$(date +%s)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
say() { echo "[$(($(date +%s) - CLIENT_T0))s] $*"; }

client_cleanup() {
	local i
	for i in "${CLIENT_INSTANCES[@]}"; do
		"$VMSIM" down --name "$i" >/dev/null 2>&1 || true
	done
	if [ -n "$WORK" ] && [ -d "$WORK" ]; then
		if [ "${IVM_KEEP_WORK:-0}" = 1 ]; then
			echo "work directory kept: $WORK"
		else
			rm -rf "$WORK"
		fi
	fi
}

# client_init TAG [PACKAGE BINARY]: without a package, the caller builds
# its client itself (client_netpipe_from_source)
client_init() {
	local tag=$1 pkg=${2:-} bin=${3:-}
	[ "$(id -u)" = 0 ] || skip "needs root (namespaces for the emulated VMs, apt)"
	unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
	command -v ompi_info >/dev/null || skip "Open MPI is not installed"
	ompi_info 2>/dev/null | grep -q 'MCA btl: ivm' || skip "btl ivm is not installed (contrib/ivm-dev build)"
	if [ -n "$bin" ] && { ! command -v "$bin" >/dev/null || ! command -v mpicc >/dev/null; }; then
		# "contrib/ivm-dev deps" installs these from the ivm-deps line; this
		# is for a script run by hand on a machine without them.
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			--no-install-recommends "$pkg" libopenmpi-dev openmpi-bin; } >/dev/null 2>&1 ||
			fail "could not install $pkg"
		command -v "$bin" >/dev/null || fail "package $pkg installed no $bin"
	fi
	[ -z "$bin" ] || client_check_libmpi "$(command -v "$bin")"
	# /tmp is private in every VM: the work directory is --share'd.
	WORK=$(mktemp -d "/tmp/ivm-client-$tag.XXXXXX")
	trap client_cleanup EXIT
	trap 'exit 143' TERM INT
	# Run from /: the caller's directory may be invisible inside the VMs.
	cd /
}

# client_check_libmpi BINARY: the client uses the libmpi of the Open MPI
# whose mpicc and ompi_info come first on PATH (the one ivm is built for).
client_check_libmpi() {
	local bin=$1 want got
	# libmpi.so, the link name mpicc links with (Debian keeps libmpi.so.40
	# itself one directory up), names the library file
	want=$(readlink -f "$(mpicc --showme:libdirs | awk '{ print $1 }')/libmpi.so")
	got=$(ldd "$bin" | awk '$1 == "libmpi.so.40" { print $3 }')
	[ -n "$got" ] && [ "$(readlink -f "$got")" = "$want" ] ||
		fail "$bin is not linked with $want (ldd: ${got:-no libmpi.so.40})"
}

# client_netpipe_from_source: prints the path of a NetPIPE MPI binary built
# from Debian's netpipe source with the mpicc first on PATH, for an Open MPI
# that Debian does not package (5.0).  Built once per Open MPI install into
# /var/cache/ivm/netpipe-<version>/ (rebuilt when libmpi is newer).  The
# source package's Debian part is applied when the archive serves it; the
# upstream tarball, checked against the .dsc's SHA-256, is what matters.
client_netpipe_from_source() {
	local ver cache src dsc orig sum
	ver=$(ompi_info -V | sed -n 's/^Open MPI v//p' | head -n 1)
	cache=/var/cache/ivm/netpipe-$ver
	if [ -x "$cache/NPmpi" ] && [ "$cache/NPmpi" -nt "$(readlink -f "$(mpicc --showme:libdirs | awk '{ print $1 }')/libmpi.so")" ]; then
		echo "$cache/NPmpi"
		return 0
	fi
	src=/var/cache/ivm/netpipe-src
	mkdir -p "$src"
	if ! ls "$src"/netpipe_*.orig.tar.gz >/dev/null 2>&1; then
		id _apt >/dev/null 2>&1 && chown _apt "$src"
		# this release's deb-src entry, else trixie's (contrib/ivm-ompi5 adds it)
		(cd "$src" && { apt-get source -qq --download-only "netpipe/$(. /etc/os-release && echo "$VERSION_CODENAME")" ||
			apt-get source -qq --download-only netpipe/trixie; } </dev/null) >"$src/fetch.log" 2>&1 || true
	fi
	dsc=$(ls "$src"/netpipe_*.dsc 2>/dev/null | sort -V | tail -n 1)
	orig=$(ls "$src"/netpipe_*.orig.tar.gz 2>/dev/null | sort -V | tail -n 1)
	[ -n "$dsc" ] && [ -n "$orig" ] || { cat "$src/fetch.log" >&2; return 1; }
	sum=$(sha256sum "$orig" | cut -d' ' -f1)
	grep -q "^ $sum [0-9]* $(basename "$orig")\$" "$dsc" || { echo "checksum of $orig does not match $dsc" >&2; return 1; }
	rm -rf "$cache.tmp"
	mkdir -p "$cache.tmp"
	if ! dpkg-source -x "$dsc" "$cache.tmp/src" >"$cache.tmp/unpack.log" 2>&1; then
		rm -rf "$cache.tmp/src"
		mkdir -p "$cache.tmp/src"
		tar -xzf "$orig" -C "$cache.tmp/src" --strip-components=1
	fi
	make -C "$cache.tmp/src" mpi MPICC="$(command -v mpicc)" CC="$(command -v mpicc)" >"$cache.tmp/build.log" 2>&1 ||
		{ tail -n 20 "$cache.tmp/build.log" >&2; return 1; }
	install -D -m 755 "$cache.tmp/src/NPmpi" "$cache/NPmpi"
	rm -rf "$cache.tmp"
	echo "$cache/NPmpi"
}

client_counters() {
	make -s -C "$CLIENT_TOP/test/progs" BUILDDIR="$WORK" "$WORK/libivm_counters_shim.so" \
		>"$WORK/shim.log" 2>&1 || {
		cat "$WORK/shim.log"
		fail "building the MPI_T counter shim failed"
	}
}

# vm_up INSTANCE NVMS
vm_up() {
	local name=$1 n=$2
	CLIENT_INSTANCES+=("$name")
	"$VMSIM" up --name "$name" --vms "$n" --share "$WORK" >"$WORK/up-$name.log" 2>&1 || {
		cat "$WORK/up-$name.log"
		fail "ivm-vmsim up --vms $n failed"
	}
}

# vm_mpirun INSTANCE SECONDS [ivm-vmsim mpirun options] -- MPIRUN-ARGS...
# mpirun runs inside the instance's vm0, in $WORK, under a time limit.
vm_mpirun() {
	local name=$1 secs=$2
	shift 2
	timeout --kill-after=10 "$secs" "$VMSIM" mpirun --name "$name" "$@"
}

# The standard MPI arguments of a cross-VM run over ivm: one rank per VM,
# ob1, only ivm and self, the counter shim preloaded, $WORK as directory.
ivm_args() {
	echo "-np 2 --map-by node --mca pml ob1 --mca btl ivm,self -x LD_PRELOAD=$WORK/libivm_counters_shim.so -wdir $WORK"
}

# check_counters LOG MINBYTES: the shim's lines in LOG show rank 0 in vm0
# and rank 1 in vm1, each with readable counters and traffic sent through
# ivm, and the bytes of both ranks together (fast boxes + rings +
# single-copy) are at least MINBYTES.  Prints the lines and the total.
check_counters() {
	local log=$1 min=$2 lines total l
	# grep -o: the line may follow another rank's unterminated output.
	lines=$(grep -o 'ivm-counters: .* status=[a-z]*' "$log" | sort) || true
	while IFS= read -r l; do echo "  $l"; done <<<"$lines"
	[ "$(echo "$lines" | grep -c 'status=ok')" = 2 ] ||
		fail "expected 2 readable ivm counter lines (one per rank), got: $(echo "$lines" | tr '\n' '|')"
	echo "$lines" | grep -q '^ivm-counters: rank 0 host vm0 ' && echo "$lines" | grep -q '^ivm-counters: rank 1 host vm1 ' ||
		fail "ranks were not placed one per VM (rank 0 in vm0, rank 1 in vm1)"
	total=$(echo "$lines" | awk '{
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "fbox_bytes" || kv[1] == "ring_bytes" || kv[1] == "single_copy_bytes") { b[$3] += kv[2]; t += kv[2] }
		}
	} END { bad = 0; for (r in b) if (b[r] <= 0) bad = 1; printf "%.0f %d\n", t, bad }')
	[ "${total#* }" = 0 ] || fail "a rank sent no bytes through ivm"
	total=${total% *}
	echo "  ivm bytes of both ranks: $total (required >= $min)"
	[ "$total" -ge "$min" ] || fail "only $total bytes went through ivm, expected at least $min"
}

# check_self_fails INSTANCE PROGRAM [ARGS...]: the same 2-VM launch with
# --mca btl self alone must fail with Open MPI's "unreachable" error: no
# BTL but ivm can carry traffic between the VMs in the ivm,self runs.
check_self_fails() {
	local name=$1 rc _
	shift
	# Two attempts: rarely, while the job aborts, ORTE drops the help
	# message ("ORTE_ERROR_LOG: Data unpack would read past end of buffer
	# in file .../show_help.c"); the run still fails, but without the text.
	for _ in 1 2; do
		rc=0
		vm_mpirun "$name" 60 -- -np 2 --map-by node --mca pml ob1 --mca btl self -wdir "$WORK" \
			"$@" >"$WORK/self.log" 2>&1 || rc=$?
		if [ $rc -eq 0 ]; then
			tail -n 20 "$WORK/self.log"
			fail "with --mca btl self alone the run across VMs succeeded: the VMs are not isolated"
		fi
		if grep -qiE 'unable to reach|unreachable' "$WORK/self.log"; then
			echo "  btl self alone across the VMs fails as expected (rc $rc, 'unable to reach each other')"
			return 0
		fi
	done
	tail -n 20 "$WORK/self.log"
	fail "with --mca btl self alone the run across VMs failed (rc $rc) but not as unreachable"
}
