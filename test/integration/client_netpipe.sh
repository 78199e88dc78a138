#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# client_netpipe: Debian's NetPIPE (netpipe-openmpi, /usr/bin/NPopenmpi;
# on Open MPI 5, NPmpi built from Debian's netpipe source with its mpicc)
# between 2 emulated VMs, one rank per VM, --mca pml ob1 --mca btl ivm,self:
#  1. integrity mode (NetPIPE's -i: every message is filled with a known
#     pattern and checked by the receiver; a mismatch prints "Integrity
#     check failed: Expecting X but received Y" and aborts) over sizes
#     5 B .. 4 MiB + 1 (NetPIPE's sizes 2^k+1 and 3*2^(k-1)+1), then again
#     with unaligned buffers (-O 1,3) and bidirectionally (-2 -a) up to
#     1 MiB, 20 round trips per size.  Every size must say "Integrity check
#     passed" and the output file must hold one plausible row (size,
#     repetitions) per size;
#  2. a short performance run (-n 50 -p 0, 1 B .. 4 MiB) whose latency /
#     bandwidth rows are printed (never asserted: the machine is shared);
#  3. proof that ivm carried the traffic: btl/ivm's MPI_T counters, read by
#     an LD_PRELOAD shim at MPI_Finalize, show both ranks sending through
#     ivm at least the bytes the integrity run moved, and the same launch
#     with --mca btl self alone fails (the VMs cannot reach each other).
# Fixed repetition counts (-n) bound the time: NetPIPE's own calibration
# picks them from timings and, on a loaded machine, sometimes chose ~10^5
# round trips of a small size, which then took minutes when other
# busy-polling jobs shared the VMs' CPUs.
# Note: NetPIPE 3.7.2's -i with -2 and -O together reports a failure at
# 9 bytes over vader and tcp as well (a NetPIPE limitation), so those two
# options are used in separate runs.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-ompi: 4.1 5.0
# ivm-deps: netpipe-openmpi dpkg-dev openmpi-bin libopenmpi-dev gcc iproute2 util-linux openssh-server openssh-client
set -eu

# shellcheck source=SCRIPTDIR/client_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/client_lib.sh"

if [ "${IVM_OMPI_SERIES:-4.1}" = 4.1 ]; then
	client_init netpipe netpipe-openmpi NPopenmpi
	NP=$(command -v NPopenmpi)
else
	# Debian packages NetPIPE for its own Open MPI (4.1) only
	client_init netpipe
	NP=$(client_netpipe_from_source) || fail "building NetPIPE from Debian's source against $(command -v mpicc) failed"
	client_check_libmpi "$NP"
	say "NetPIPE built against Open MPI $(ompi_info -V | sed -n 's/^Open MPI v//p'): $NP"
fi
client_counters
I=cnp$$
vm_up "$I" 2
say "2 emulated VMs up"

# read -r -a: ivm_args prints space-separated words without spaces inside.
read -r -a IVM <<<"$(ivm_args)"

# integrity RUNTAG UPPER [NetPIPE options]: one integrity run; checks its
# console output and its output file; sets MOVED to sum(size * reps).
# With -2 NetPIPE writes the combined size of both directions (2 * size).
integrity() {
	local tag=$1 upper=$2 out=$WORK/np-$1.out log=$WORK/np-$1.log rc=0 npass nrows
	shift 2
	vm_mpirun "$I" 120 -- "${IVM[@]}" "$NP" -i -n 20 -u "$upper" "$@" -o "$out" >"$log" 2>&1 || rc=$?
	case " $* " in *" -2 "*) upper=$((2 * upper)) ;; esac
	if [ $rc -ne 0 ] || grep -q 'Integrity check failed' "$log"; then
		grep -E 'Integrity check failed|error|Error' "$log" | head -n 5
		tail -n 15 "$log"
		fail "NetPIPE -i $* over ivm across 2 VMs failed (rc $rc): $(grep -m1 'Integrity check failed' "$log" | tr -s ' ')"
	fi
	grep -q '0: vm0' "$log" && grep -q '1: vm1' "$log" ||
		fail "NetPIPE ranks were not in vm0 and vm1"
	# grep -o: a rank's stderr line (the counter shim) can land between
	# NetPIPE's "N: size bytes reps times -->" and its verdict.
	npass=$(grep -o 'Integrity check passed' "$log" | wc -l)
	[ -f "$out" ] || fail "NetPIPE wrote no output file ($tag)"
	# Rows: "size reps", sizes strictly increasing, reps >= 1, the last
	# size within a factor 2 of the upper bound (all sizes were reached).
	nrows=$(awk -v up="$upper" '
		NF != 2 || $1 !~ /^[0-9]+$/ || $2 !~ /^[0-9]+$/ || $2 < 1 || $1 <= last { bad = 1 }
		{ last = $1; n++ }
		END { if (bad || n == 0 || last * 2 < up || last > up) print "bad"; else print n }' "$out")
	[ "$nrows" != bad ] || {
		cat "$out"
		fail "NetPIPE output file of the $tag run has implausible rows"
	}
	[ "$npass" -eq "$nrows" ] && [ "$nrows" -ge 20 ] ||
		fail "$tag: $npass sizes passed the integrity check but the output file has $nrows rows"
	echo "  $tag: $nrows sizes $(head -n1 "$out" | awk '{print $1}')..$(tail -n1 "$out" | awk '{print $1}') B, all 'Integrity check passed'"
	MOVED=$(awk '{ s += $1 * $2 } END { printf "%.0f\n", s }' "$out")
}

say "NetPIPE integrity runs over btl ivm,self (vm0 <-> vm1)"
integrity plain 4194308
# Each repetition sends the message once in each direction, so both ranks
# together put at least 2 * sum(size * reps) payload bytes through ivm.
check_counters "$WORK/np-plain.log" $((2 * MOVED))
integrity offset 1048580 -O 1,3
integrity bidir 1048580 -2 -a
say "integrity runs passed"

say "NetPIPE performance run over btl ivm,self (-n 50 -p 0, 1 B .. 4 MiB)"
perf=$WORK/np-perf.out
vm_mpirun "$I" 120 -- "${IVM[@]}" "$NP" -n 50 -p 0 -u 4194304 -o "$perf" >"$WORK/np-perf.log" 2>&1 || {
	tail -n 15 "$WORK/np-perf.log"
	fail "NetPIPE performance run over ivm failed"
}
# Rows: size, Mbps, half round-trip seconds; sizes 1 .. 4 MiB, all values
# positive and finite.
awk 'NF != 3 || !($2 > 0) || !($3 > 0) || $2 ~ /[a-z]/ || $3 ~ /[a-z]/ { bad = 1 } { n++; last = $1 }
	END { exit (bad || n < 30 || last != 4194304) }' "$perf" || {
	cat "$perf"
	fail "NetPIPE performance output is implausible"
}
echo "        bytes         Mbps   usec (half round trip)"
awk '$1 == 1 || $1 == 8 || $1 == 64 || $1 == 1024 || $1 == 8192 || $1 == 65536 || $1 == 1048576 || $1 == 4194304 {
	printf "  %11d %12.1f %10.2f\n", $1, $2, $3 * 1e6 }' "$perf"
awk '{ if (min == "" || $3 < min) min = $3; if ($2 > max) max = $2 }
	END { printf "  min latency %.2f usec, max bandwidth %.0f Mbps (%.2f GB/s)\n", min * 1e6, max, max / 8000 }' "$perf"
check_counters "$WORK/np-perf.log" 1

say "negative control: btl self alone"
check_self_fails "$I" "$NP" -n 1 -u 8
say "done"
echo "PASS: NetPIPE integrity (4 MiB, unaligned, bidirectional) and performance over btl ivm across 2 emulated VMs"
