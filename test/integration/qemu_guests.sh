#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivm in real QEMU guests (contrib/ivm-qemu): the host formats the region,
# 2 TCG (or KVM) guests boot with the host as a third node and share one
# ivshmem-plain device made by the QEMU options an admin types, read from
# contrib/admin/qemu-ivshmem.txt (only mem-path= changed, to this test's
# file); the device layer in each guest must find the PCI BAR and the host's
# region by itself, ring runs over btl/ivm across vm0, vm1 and a rank on the
# host, a checked ping-pong runs across the guests while a host process sees
# the guests' slots in the backing file, --mca btl self alone must fail,
# ivm's 8-byte latency must beat tcp over virtio-net, osc/ivm serves
# test/progs/ivm_osc's shared window (spanning both guests) and allocated
# window, the udev rule contrib/admin/99-ivm-ivshmem.rules, run by the udev
# daemon in a guest, gives BAR2 to the group ivshmem, and 'down' must leave
# nothing behind.
# Exit 0 pass, 77 skip (no accelerator can boot a guest, or no root / tun),
# anything else fail.  IVM_QEMU_ACCEL, IVM_QEMU_DIR: as for ivm-qemu;
# IVM_QEMU_KEEP_LOGS=DIR keeps the logs.
#
# Runs against Open MPI 4.1 and 5.x: ivm-qemu mpirun launches the mpirun on
# PATH in the form of its series.
#
# ivm-ompi: 4.1 5.0
# ivm-timeout: 600
# ivm-deps: qemu-system-x86 busybox-static kmod xz-utils zstd iproute2 openssh-server openssh-client openmpi-bin udev passwd util-linux
# shellcheck disable=SC2015
# ("A && B || fail" is the assertion idiom here.)
set -eu -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
QEMU=$TOP/contrib/ivm-qemu
ADMIN_QEMU=$TOP/contrib/admin/qemu-ivshmem.txt
ADMIN_RULES=$TOP/contrib/admin/99-ivm-ivshmem.rules
T0=$SECONDS
TNAME=t$$
STATE=/run/ivm-qemu/$TNAME
SHM=/dev/shm/ivm-qemu.$TNAME.host
LOGS=""
UP=0

skip() { echo "SKIP: $*"; exit 77; }
tlog() { printf 'qemu_guests: [%4ds] %s\n' $((SECONDS - T0)) "$*"; }
tfail() {
	printf 'qemu_guests: FAIL: %s\n' "$*"
	exit 1
}
# t_show TAG [LINES]: the end of a log, indented.
t_show() { sed 's/^/  | /' "$LOGS/$1.log" | tail -n "${2:-25}"; }
# pp_field FILE SIZE FIELD: a value from pingpong's output.
pp_field() {
	awk -v s="size=$2" -v f="$3=" '$1 == "pingpong" && $2 == s { for (i = 3; i <= NF; i++) if (index($i, f) == 1) print substr($i, length(f) + 1) }' "$1"
}

# Instances that an earlier run of this test (t<PID>) or of 'ivm-bench
# --qemu' (b<PID>) left behind when it was killed with SIGKILL would eat the
# CPUs: remove them.
reap_stale_runs() {
	local d n
	for d in /run/ivm-qemu/[tb][0-9]* /run/netns/ivm-qemu.[tb][0-9]* /var/tmp/qemu_guests.t[0-9]*.*; do
		[ -e "$d" ] || continue
		n=${d##*/}
		n=${n#ivm-qemu.}
		n=${n#qemu_guests.}
		n=${n%%.*}
		[[ $n =~ ^[tb]([0-9]+)$ ]] && [ ! -d "/proc/${BASH_REMATCH[1]}" ] || continue
		echo "qemu_guests: removing $d, left by an earlier run (process ${BASH_REMATCH[1]} is gone)"
		"$QEMU" down --name "$n" >/dev/null 2>&1 || true
		rm -rf "$d" "/dev/shm/ivm-qemu.$n.host" 2>/dev/null || true
	done
}

cleanup() {
	local rc=$?
	trap '' INT TERM HUP
	[ "$UP" = 0 ] || "$QEMU" down --name "$TNAME" >/dev/null 2>&1 || true
	rm -f "$SHM"
	if [ -n "${IVM_QEMU_KEEP_LOGS:-}" ] && [ -d "$LOGS" ]; then
		mkdir -p "$IVM_QEMU_KEEP_LOGS" && cp -r "$LOGS"/*.log "$IVM_QEMU_KEEP_LOGS/" 2>/dev/null || true
	fi
	[ -z "$LOGS" ] || rm -rf "$LOGS"
	exit "$rc"
}

# t_mpirun TAG [IVM-QEMU-MPIRUN-OPTIONS] -- MPIRUN-ARGS: mpirun in the test
# instance, output to $LOGS/TAG.log; returns mpirun's status.  A job that
# hangs is killed after MPIRUN_LIMIT seconds (status 124; a run takes 5-45 s).
MPIRUN_LIMIT=${IVM_QEMU_MPIRUN_TIMEOUT:-300}
t_mpirun() {
	local tag=$1 rc=0
	local -a opts=()
	shift
	while [ "$1" != -- ]; do opts+=("$1") && shift; done
	shift
	timeout -k 10 "$MPIRUN_LIMIT" "$QEMU" mpirun --name "$TNAME" "${opts[@]+"${opts[@]}"}" -- --mca pml ob1 "$@" \
		>"$LOGS/$tag.log" 2>&1 || rc=$?
	[ $rc != 124 ] || echo "qemu_guests: mpirun killed after ${MPIRUN_LIMIT}s" >>"$LOGS/$tag.log"
	return $rc
}

# The guests' emulated CPU lacks e.g. AVX-512: never -march=native.
build_progs() {
	local p
	mkdir -p "$LOGS/progs"
	for p in ring pingpong ivm_osc; do
		mpicc -O2 -o "$LOGS/progs/$p" "$TOP/test/progs/$p.c" || tfail "mpicc $p.c failed"
	done
}

# Build the guest, the test programs, and find an accelerator (ACCEL).
prepare() {
	ompi_info 2>/dev/null | grep 'MCA btl: ivm' >/dev/null || tfail "Open MPI has no btl/ivm: run 'contrib/ivm-dev build' first"
	"$QEMU" build >"$LOGS/build.log" 2>&1 || { t_show build; tfail "ivm-qemu build failed"; }
	build_progs
	OMPI_VERSION=$(mpirun --version 2>/dev/null | sed -n 's/.*(Open MPI) \([0-9][0-9.]*\).*/\1/p' | sed -n 1p)
	tlog "built guest and test programs; the guests run the host's Open MPI ${OMPI_VERSION:-?} ($(command -v mpirun))"
	local rc=0
	"$QEMU" probe --accel "${IVM_QEMU_ACCEL:-auto}" >"$LOGS/probe.log" 2>&1 || rc=$?
	[ $rc != 77 ] || skip "no accelerator can boot a guest ($(tr '\n' ' ' <"$LOGS/probe.log"))"
	[ $rc = 0 ] || { t_show probe; tfail "ivm-qemu probe failed (exit $rc)"; }
	ACCEL=$(sed -n 's/^\([a-z]*\): works.*/\1/p' "$LOGS/probe.log")
	[ -n "$ACCEL" ] || { t_show probe; tfail "cannot read the accelerator from ivm-qemu probe"; }
}

# The ivshmem options an admin types, read from contrib/admin/qemu-ivshmem.txt
# (never retyped here): its one "-object" line (ADMIN_OBJ) with the mem-path=
# and size= written there (ADMIN_PATH, ADMIN_SIZE), its one "-device" line
# (ADMIN_DEV), and the object with mem-path= changed to this test's file,
# the only change (WANT_OBJ).
admin_options() {
	local rest
	ADMIN_OBJ=$(sed -n 's/^[[:space:]]*-object[[:space:]]\{1,\}\([^[:space:]]*\).*$/\1/p' "$ADMIN_QEMU")
	ADMIN_DEV=$(sed -n 's/^[[:space:]]*-device[[:space:]]\{1,\}\([^[:space:]]*\).*$/\1/p' "$ADMIN_QEMU")
	[ -n "$ADMIN_OBJ" ] && [ -n "$ADMIN_DEV" ] && [[ $ADMIN_OBJ$ADMIN_DEV != *$'\n'* ]] ||
		tfail "$ADMIN_QEMU: expected one '-object' and one '-device' line"
	ADMIN_PATH=$(sed -n 's/.*,mem-path=\([^,]*\).*/\1/p' <<<"$ADMIN_OBJ")
	ADMIN_SIZE=$(sed -n 's/.*,size=\([^,]*\).*/\1/p' <<<"$ADMIN_OBJ")
	[ -n "$ADMIN_PATH" ] && [ -n "$ADMIN_SIZE" ] || tfail "$ADMIN_QEMU: no mem-path= or size= in '$ADMIN_OBJ'"
	rest=${ADMIN_OBJ#*,mem-path=}
	WANT_OBJ="${ADMIN_OBJ%%,mem-path=*},mem-path=$SHM${rest#"$ADMIN_PATH"}"
}

# 0. The host formats the region first (REGION), with the size the admin
# file gives: the guests must find it.
# 1. Boot 2 guests and the host as a node, their ivshmem device made by the
# admin file's options (ivm-qemu up --ivshmem-from): each QEMU must run with
# exactly those two options (its /proc/PID/cmdline) and no other ivshmem.
boot() {
	local k=$SECONDS i pid
	admin_options
	ivmctl format --size "$ADMIN_SIZE" "$SHM" >"$LOGS/format.log" 2>&1 || { t_show format; tfail "ivmctl format on the host failed"; }
	REGION=$(ivmctl info --json "$SHM" | sed -n 's/.*"region_id":"\([0-9a-f]*\)".*/\1/p') || true
	[ -n "$REGION" ] || tfail "cannot read the region id of $SHM"
	UP=1
	"$QEMU" up --name "$TNAME" --vms 2 --smp 1 --accel "$ACCEL" --ivshmem-from "$ADMIN_QEMU" --shm-file "$SHM" \
		--host-node >"$LOGS/up.log" 2>&1 || { t_show up 40; tfail "ivm-qemu up --ivshmem-from $ADMIN_QEMU failed"; }
	BOOT_S=$((SECONDS - k))
	tlog "2 guests up in ${BOOT_S}s with $ACCEL (each guest's uptime when its sshd started: vm0 $(cat "$STATE/vm0/ready")s, vm1 $(cat "$STATE/vm1/ready")s)"
	for i in 0 1; do
		pid=$(cat "$STATE/vm$i/qemu.pid")
		tr '\0' '\n' <"/proc/$pid/cmdline" >"$LOGS/qemu-args-vm$i.log"
		grep -A1 -x -- -object "$LOGS/qemu-args-vm$i.log" | grep -qxF -- "$WANT_OBJ" &&
			grep -A1 -x -- -device "$LOGS/qemu-args-vm$i.log" | grep -qxF -- "$ADMIN_DEV" &&
			[ "$(grep -c '^ivshmem' "$LOGS/qemu-args-vm$i.log")" = 1 ] ||
			{ t_show "qemu-args-vm$i" 60; tfail "vm$i's QEMU does not run with the options of $ADMIN_QEMU"; }
	done
	tlog "ok: both QEMUs run with the ivshmem options of ${ADMIN_QEMU#"$TOP"/}, read from the file, mem-path changed from $ADMIN_PATH to this test's file (the only change):"
	tlog "    -object $WANT_OBJ -device $ADMIN_DEV"
	mkdir -p "$STATE/progs"
	cp "$LOGS/progs/ring" "$LOGS/progs/pingpong" "$LOGS/progs/ivm_osc" "$STATE/progs/"
}

# 2. Device discovery inside each guest, no path configured.
check_discovery() {
	local i rc
	for i in 0 1; do
		rc=0
		"$QEMU" exec --name "$TNAME" "$i" -- ivmctl info --json >"$LOGS/ivmctl-vm$i.log" 2>&1 || rc=$?
		[ $rc = 0 ] || { t_show "ivmctl-vm$i"; tfail "ivmctl info in vm$i exited $rc"; }
		grep '"spec":"/sys/bus/pci/devices/[^"]*/resource2","kind":"pci"' "$LOGS/ivmctl-vm$i.log" >/dev/null ||
			{ t_show "ivmctl-vm$i"; tfail "ivmctl in vm$i did not find the ivshmem PCI device's BAR2 by itself"; }
		grep "\"region_id\":\"$REGION\"" "$LOGS/ivmctl-vm$i.log" >/dev/null ||
			{ t_show "ivmctl-vm$i"; tfail "vm$i does not see the region the host formatted ($REGION)"; }
	done
	tlog "ok: ivmctl in vm0 and vm1 found $(sed -n 's/.*"spec":"\([^"]*\)".*/\1/p' "$LOGS/ivmctl-vm0.log") and the region $REGION formatted by the host"
}

# 3. Ring over ivm, verbose: both guests attach the PCI BAR, a third rank on
# the host maps the backing file; all reach each other.
check_ring() {
	local i log=$LOGS/ring-ivm.log
	t_mpirun ring-ivm --vms 0,1,host -- -np 3 --mca btl ivm,self --mca btl_ivm_verbose 5 \
		--mca opal_common_ivm_verbose 5 "$STATE/progs/ring" ||
		{ t_show ring-ivm; tfail "ring over --mca btl ivm,self (vm0, vm1, host) failed"; }
	grep 'ring: 3 ranks, 10 laps, token 60 OK' "$log" >/dev/null || { t_show ring-ivm; tfail "ring did not report OK"; }
	for i in 0 1; do
		grep "^\[vm$i:[0-9]*\] btl:ivm: using /sys/bus/pci/devices/.*/resource2" "$log" >/dev/null ||
			{ t_show ring-ivm; tfail "btl/ivm in vm$i did not report using the PCI BAR"; }
		# Which peers a rank adds depends on whom it sends to (Open MPI adds
		# remote peers lazily), so require one proven peer per node; the ring
		# itself (vm0 -> vm1 -> host -> vm0 over "ivm,self" only) proves
		# every link.
		grep "^\[vm$i:[0-9]*\] btl:ivm: .* reachable through region $REGION" "$log" >/dev/null ||
			{ t_show ring-ivm; tfail "btl/ivm in vm$i did not reach a peer through region $REGION"; }
	done
	grep "btl:ivm: using $SHM " "$log" >/dev/null || { t_show ring-ivm; tfail "the host's rank did not use the backing file $SHM"; }
	# Open MPI 5: PRRTE launched the job (only 5.x keys the job with rank
	# 0's random word, shared through PMIx, in every rank).
	if [ "${IVM_OMPI_SERIES:-4.1}" != 4.1 ]; then
		i=$(grep -c "common:ivm: job key: job .*, launcher token .* and rank 0's random word" "$log") || true
		[ "$i" = 3 ] || { t_show ring-ivm; tfail "$i of 3 ranks keyed the job with rank 0's random word (Open MPI 5's PMIx)"; }
		tlog "ok: Open MPI $OMPI_VERSION: PRRTE launched the ranks in both guests and on the host; all 3 keyed the job with rank 0's random word"
	fi
	! grep 'uncached' "$log" >/dev/null || tlog "note: the device layer reported an uncached mapping"
	tlog "ok: ring over --mca btl ivm,self across vm0, vm1 and the host: the guests' btl/ivm use BAR2, the host's rank the backing file, all reach each other"

	# 4. without ivm there is no path between the guests
	local rc=0
	t_mpirun ring-self -- -np 2 --mca btl self "$STATE/progs/ring" || rc=$?
	[ $rc != 0 ] || { t_show ring-self; tfail "ring over --mca btl self alone passed: the ranks are not in different guests?"; }
	tlog "ok: --mca btl self alone fails (mpirun exit status $rc), as it must between guests"
	# an mpirun the guests cannot see (/var/tmp is each guest's own) is
	# refused with a message, before anything starts
	rc=0
	"$QEMU" mpirun --name "$TNAME" --mpirun "$LOGS/progs/ring" -- -np 2 true >"$LOGS/hidden.log" 2>&1 || rc=$?
	[ $rc != 0 ] && grep -q 'the guests do not see it' "$LOGS/hidden.log" ||
		{ t_show hidden; tfail "ivm-qemu mpirun --mpirun <file under /var/tmp> was not refused with a message"; }
}

# 5. Checked ping-pong over ivm; meanwhile the host sees both guests' slots.
check_pingpong() {
	local pid k seen="" rc=0 info=$LOGS/host-info.log
	t_mpirun pp-ivm -- -np 2 --mca btl ivm,self "$STATE/progs/pingpong" -n 1000 -b 4194304 -c 20 -s 0,8,512,4096,65536,1048576 &
	pid=$!
	for ((k = 0; k < 1200; k++)); do
		ivmctl info "$SHM" >"$info" 2>&1 || true
		if grep 'host vm0 ' "$info" >/dev/null && grep 'host vm1 ' "$info" >/dev/null; then
			seen=ok
			break
		fi
		[ -d "/proc/$pid" ] || break
		sleep 0.1
	done
	wait "$pid" || rc=$?
	[ $rc = 0 ] || { t_show pp-ivm; tfail "checked ping-pong over ivm failed (exit $rc)"; }
	grep 'pingpong: ok' "$LOGS/pp-ivm.log" >/dev/null || { t_show pp-ivm; tfail "ping-pong over ivm did not finish"; }
	[ "$seen" = ok ] || { t_show host-info; tfail "ivmctl info on the host never showed processes of vm0 and vm1"; }
	tlog "ok: checked ping-pong over ivm (0 B .. 1 MiB, every byte of 20 round trips per size verified)"
	tlog "ok: 'ivmctl info $SHM' on the host saw the guests' slots:"
	grep -E '^ +slot .* host vm[01] ' "$info" | sed 's/^ */    /' || true
}

# 6. The same over tcp (virtio-net); ivm must be faster for small messages.
check_tcp() {
	local lat_ivm lat_tcp sz ivm=$LOGS/pp-ivm.log tcp=$LOGS/pp-tcp.log
	t_mpirun pp-tcp -- -np 2 --mca btl tcp,self --mca btl_tcp_if_include eth0 "$STATE/progs/pingpong" \
		-n 100 -b 1048576 -c 5 -s 0,8,4096,65536 || { t_show pp-tcp; tfail "ping-pong over tcp failed"; }
	lat_ivm=$(pp_field "$ivm" 8 lat_us)
	lat_tcp=$(pp_field "$tcp" 8 lat_us)
	[ -n "$lat_ivm" ] && [ -n "$lat_tcp" ] || tfail "cannot read the 8-byte latencies"
	awk -v a="$lat_ivm" -v b="$lat_tcp" 'BEGIN { exit !(a < b) }' ||
		tfail "ivm's 8-byte latency ($lat_ivm us) is not lower than tcp's ($lat_tcp us)"
	tlog "ok: 8-byte one-way latency: ivm $lat_ivm us, tcp over virtio-net $lat_tcp us ($(awk -v a="$lat_ivm" -v b="$lat_tcp" 'BEGIN { printf "%.0f", b / a }')x lower with ivm)"
	printf '    %8s  %12s %10s  %12s %10s\n' size "ivm lat(us)" "ivm MB/s" "tcp lat(us)" "tcp MB/s"
	for sz in 0 8 512 4096 65536 1048576; do
		printf '    %8s  %12s %10s  %12s %10s\n' "$sz" \
			"$(pp_field "$ivm" "$sz" lat_us)" "$(pp_field "$ivm" "$sz" bw_MBps)" \
			"$(pp_field "$tcp" "$sz" lat_us)" "$(pp_field "$tcp" "$sz" bw_MBps)"
	done
}

# 7. osc/ivm across the guests, one rank in each, tcp excluded: ivm_osc's
# "shared" case (MPI_Win_allocate_shared spanning vm0 and vm1, stores through
# MPI_Win_shared_query pointers into the peer's segment, reading what the
# peer wrote after MPI_Win_sync and barriers, the operation suite) and its
# "allocate" case (MPI_Win_allocate, the suite).  Proof that osc/ivm served
# them, as in osc_ivm.sh: ivm_osc's own check that osc/ivm's MPI_T counters
# grew for every kind of operation, its counter osc_ivm_windows (3 shared
# windows, 1 allocated), and osc_ivm_verbose naming each window in each
# guest.  Open MPI 4.1 needs osc/sm out of the way for a shared window across
# nodes (README, Known limitations); 5.x asks every osc component.
check_osc() {
	local i n log=$LOGS/osc.log
	local -a nosm=()
	[ "${IVM_OMPI_SERIES:-4.1}" != 4.1 ] || nosm=(--mca osc ^sm)
	t_mpirun osc -- -np 2 --mca btl ivm,self "${nosm[@]+"${nosm[@]}"}" --mca osc_ivm_verbose 5 \
		"$STATE/progs/ivm_osc" shared allocate || { t_show osc 40; tfail "ivm_osc shared allocate across the guests failed"; }
	grep -a '^ivm_osc: PASS (2 ranks, cases: shared allocate)' "$log" >/dev/null &&
		grep -a '^case shared: ok' "$log" >/dev/null && grep -a '^case allocate: ok' "$log" >/dev/null ||
		{ t_show osc 40; tfail "ivm_osc did not pass both cases"; }
	grep -a '^pvars shared (rank 0): .* windows 3$' "$log" >/dev/null &&
		grep -a '^pvars allocate (rank 0): .* windows 1$' "$log" >/dev/null ||
		{ t_show osc 40; tfail "osc_ivm_windows did not count the 3 shared and 1 allocated windows"; }
	for i in 0 1; do
		n=$(grep -ac "^\[vm$i:[0-9]*\] osc:ivm: MPI_Win_allocate_shared on communicator MPI_COMM_WORLD (cid [0-9]*): 2 ranks, area of" "$log") || true
		[ "$n" = 3 ] || { t_show osc 40; tfail "osc/ivm in vm$i named $n shared windows, not 3"; }
		n=$(grep -ac "^\[vm$i:[0-9]*\] osc:ivm: MPI_Win_allocate on communicator MPI_COMM_WORLD (cid [0-9]*): 2 ranks, area of" "$log") || true
		[ "$n" = 1 ] || { t_show osc 40; tfail "osc/ivm in vm$i named $n allocated windows, not 1"; }
	done
	! grep -a 'left to the other osc components' "$log" >/dev/null || { t_show osc 40; tfail "osc/ivm declined a window"; }
	tlog "ok: osc/ivm served ivm_osc's shared window spanning vm0 and vm1 (stores into the peer's segment through MPI_Win_shared_query pointers) and its allocated window, over --mca btl ivm,self; osc_ivm_verbose named them in both guests, the MPI_T counters:"
	grep -a '^pvars ' "$log" | sed 's/^/    /'
}

# 8. The udev rule in a guest (vm1), as an admin installs it: udev's daemon
# (systemd-udevd of Debian's udev package; the guests run the host's
# userland) applies contrib/admin/99-ivm-ivshmem.rules on 'udevadm trigger'.
# The guest side is write_udev_guest below.
check_udev() {
	cp "$ADMIN_RULES" "$STATE/"
	write_udev_guest >"$STATE/udev-guest.sh"
	"$QEMU" exec --name "$TNAME" 1 -- bash "$STATE/udev-guest.sh" "$STATE/${ADMIN_RULES##*/}" "$REGION" \
		>"$LOGS/udev.log" 2>&1 || { t_show udev 40; tfail "the udev rule in vm1 (log above)"; }
	grep '^udev-guest: ok' "$LOGS/udev.log" >/dev/null || { t_show udev 40; tfail "the udev check in vm1 did not finish"; }
	sed -n '/^udev-guest: ok$/d; s/^udev-guest: /    /p' "$LOGS/udev.log"
	tlog "ok: in vm1, udevd applied ${ADMIN_RULES#"$TOP"/}: resource2 root:ivshmem 0660, a user in group ivshmem maps the device, one outside it cannot"
}

# The guest side of step 8 (bash, as root in the guest): the admin's steps
# from the rule file's comment (groupadd, usermod -aG, cp to
# /etc/udev/rules.d, udevadm control --reload, udevadm trigger) with udev's
# daemon running, then the checks.  Why the daemon: 'udevadm test' of udev 252
# writes ATTR{} but does not run RUN+= programs ("it does not run any program
# specified by a RUN key"), and the rule's work is in RUN+=; the daemon runs
# both, as on a real system.  'udevadm test' comes last, for the record.  The
# guest's / is the host's, read-only: /etc gets a private writable copy
# first, in this guest only.
write_udev_guest() {
	cat <<'EOF'
#!/bin/bash
# shellcheck disable=SC2015 # "A && B || die" asserts
set -eu -o pipefail
rules=$1
region=$2
say() { echo "udev-guest: $*"; }
die() {
	echo "udev-guest: FAIL: $*"
	exit 1
}
# as USER CMD...: CMD as USER, with USER's groups from /etc/group
as() { setpriv --reuid="$1" --regid="$(id -g "$1")" --init-groups "${@:2}"; }
dev=""
for d in /sys/bus/pci/devices/*; do
	if [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1110 ]; then dev=$d; fi
done
[ -n "$dev" ] || die "no ivshmem PCI device (1af4:1110)"
res=$dev/resource2
enabled=$(cat "$dev/enable")
say "device ${dev##*/}: before the rule, resource2 is $(stat -c '%a %U:%G' "$res"), enable $enabled"
command -v udevadm >/dev/null || die "no udevadm (Debian package udev, on the host)"
cp -a /etc /run/ivm-etc
mount --bind /run/ivm-etc /etc
/lib/systemd/systemd-udevd --daemon || die "systemd-udevd --daemon failed"
groupadd --system ivshmem
useradd --system --no-create-home --shell /bin/sh ivmuser
usermod -aG ivshmem ivmuser
mkdir -p /etc/udev/rules.d
cp "$rules" /etc/udev/rules.d/
rc=0
as ivmuser ivmctl info --json >/run/ivm-before.json 2>&1 || rc=$?
[ $rc != 0 ] || die "ivmuser mapped the device before udev ran the rule: this check cannot fail"
say "before the rule: ivmctl info as ivmuser (groups: $(id -nG ivmuser)) fails, exit $rc: $(cat /run/ivm-before.json)"
udevadm control --reload
udevadm trigger --action=add --subsystem-match=pci
udevadm settle --timeout=120 || die "udevadm settle: the events were not processed in 120 s"
udevadm control --exit || true
got=$(stat -c '%a %U:%G' "$res")
[ "$got" = "660 root:ivshmem" ] || die "after udevadm trigger, resource2 is $got, not 660 root:ivshmem"
[ "$(stat -c %a "$dev/resource0")" = 600 ] || die "resource0 is $(stat -c '%a %U:%G' "$dev/resource0"): BAR0 must stay root's"
[ "$(cat "$dev/enable")" -gt "$enabled" ] || die "the rule's ATTR{enable}=\"1\" was not written (enable $(cat "$dev/enable"))"
say "after udevadm trigger: resource2 is $got, resource0 $(stat -c '%a %U:%G' "$dev/resource0"), enable $(cat "$dev/enable")"
as ivmuser ivmctl info --json >/run/ivm-member.json 2>&1 || die "ivmctl info as ivmuser failed: $(cat /run/ivm-member.json)"
grep -q "\"spec\":\"$res\",\"kind\":\"pci\"" /run/ivm-member.json && grep -q "\"region_id\":\"$region\"" /run/ivm-member.json ||
	die "ivmctl info as ivmuser did not find $res with region $region: $(cat /run/ivm-member.json)"
say "ivmctl info as ivmuser (groups: $(id -nG ivmuser)) finds $res, region $region"
rc=0
as nobody ivmctl info --json >/run/ivm-nobody.json 2>&1 || rc=$?
[ $rc != 0 ] || die "nobody (not in group ivshmem) mapped the device"
say "ivmctl info as nobody (groups: $(id -nG nobody)) fails, exit $rc: $(cat /run/ivm-nobody.json)"
# What an admin can run to see the rule match: udev 252's simulation names
# the rule's two RUN+= programs for this device (and runs neither).
udevadm test --action=add "$dev" >/run/udevadm-test.log 2>&1 || die "udevadm test failed: $(tail -5 /run/udevadm-test.log)"
sys=$(readlink -f "$dev")
grep -qxF "run: '/bin/chgrp ivshmem $sys/resource2'" /run/udevadm-test.log &&
	grep -qxF "run: '/bin/chmod 0660 $sys/resource2'" /run/udevadm-test.log ||
	die "udevadm test does not list the rule's RUN+= programs: $(grep -e '^run:' -e 99-ivm /run/udevadm-test.log)"
say "udevadm test --action=add ${dev##*/}: $(grep -c '99-ivm-ivshmem.rules:[0-9]* ' /run/udevadm-test.log) actions of 99-ivm-ivshmem.rules, $(grep "^run: '/bin/ch" /run/udevadm-test.log | tr '\n' ' ')"
say ok
EOF
}

# 9. Tear down: nothing may be left.
check_down() {
	"$QEMU" down --name "$TNAME" >"$LOGS/down.log" 2>&1 || { t_show down; tfail "ivm-qemu down failed"; }
	UP=0
	! pgrep -f -- "-name ivm-qemu\.$TNAME\.vm" >/dev/null ||
		tfail "QEMU processes left after down: $(pgrep -f -- "-name ivm-qemu\.$TNAME\.vm" | tr '\n' ' ')"
	[ ! -e "/run/netns/ivm-qemu.$TNAME" ] || tfail "network namespace ivm-qemu.$TNAME left after down"
	[ ! -e "$STATE" ] || tfail "state directory $STATE left after down"
	! pgrep -f "$STATE/ssh/sshd_config" >/dev/null || tfail "the host node's sshd survived down"
	[ -f "$SHM" ] || tfail "down removed the --shm-file $SHM, which it does not own"
	tlog "ok: down left no QEMU process, host sshd, network namespace or state directory"
}

[ "$(id -u)" = 0 ] || skip "needs root (network namespace, tap devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL: qemu-system-x86_64 missing (contrib/ivm-dev deps)"; exit 1; }
# Run from /: the caller's directory may be invisible in the guests.
cd /
reap_stale_runs
LOGS=$(mktemp -d "/var/tmp/qemu_guests.$TNAME.XXXXXX")
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
prepare
boot
check_discovery
check_ring
check_pingpong
check_tcp
check_osc
check_udev
check_down
tlog "PASS (boot ${BOOT_S}s, total $((SECONDS - T0))s, accelerator $ACCEL)"
