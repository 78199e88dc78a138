# SPDX-License-Identifier: BSD-3-Clause
# Sourced by integration tests (bash): run an MPI job under a time limit
# and, when the limit is hit, print where every rank was stuck before it
# is killed.  A hang seen once in CI is then diagnosable from the CI log
# alone instead of needing a reproduction.
#
#   hang_limit SECONDS PROGRAMS CMD...
#     Runs CMD; returns its exit status, or 124 after SECONDS.  On expiry,
#     prints "hang_limit: ..." and the stacks of the processes named as
#     one of PROGRAMS (space-separated file names or paths) to stdout,
#     then stops CMD (TERM, then KILL after 10 s).  The ranks live in the
#     emulated VMs' PID and mount namespaces, which this (host) namespace
#     sees; their executables' paths differ there, hence the name.
#
#   hang_report LOG
#     Prints what hang_limit wrote into LOG (the job's own output file).

# hang_names PROGRAMS: the process names (comm, which the kernel cuts to
# 15 characters) of PROGRAMS (space-separated file names or paths).
hang_names() {
	local p
	for p in $1; do basename "$p" | cut -c1-15; done
}

# hang_pids PROGRAMS: host PIDs of processes running one of PROGRAMS.
hang_pids() {
	local names p
	names=$(hang_names "$1")
	for p in /proc/[0-9]*; do
		grep -qxF -e "$(cat "$p/comm" 2>/dev/null)" <<<"$names" && echo "${p#/proc/}"
	done
	return 0
}

# hang_stacks PROGRAMS: for every process of PROGRAMS, a line with its
# kernel state (a spinning rank is R, a sleeping one S), wait channel and
# CPU time, then a line with its main thread's innermost frames from gdb
# (where in Open MPI or ivm it waits), innermost first.  The processes
# are stopped while they are read, so the stacks are one moment of the
# whole job (gdb takes about a second per process), then continued.
hang_stacks() {
	local pid pids frames
	pids=$(hang_pids "$1")
	[ -n "$pids" ] || { echo "(no process of $1)"; return 0; }
	for pid in $pids; do
		echo "pid $pid: state $(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)," \
			"wchan $(cat "/proc/$pid/wchan" 2>/dev/null)," \
			"cpu $(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) ticks"
	done
	command -v gdb >/dev/null || return 0
	# shellcheck disable=SC2086 # a list of PIDs
	kill -STOP $pids 2>/dev/null || true
	for pid in $pids; do
		frames=$(timeout 30 gdb -q -batch -p "$pid" -ex 'bt 16' 2>/dev/null |
			sed -nE 's/^#[0-9]+ +(0x[0-9a-f]+ in )?([^ ]+) .*/\2/p' | paste -sd' ')
		echo "pid $pid: ${frames:-no stack (gdb could not attach)}"
	done
	# shellcheck disable=SC2086
	kill -CONT $pids 2>/dev/null || true
}

hang_limit() {
	local secs=$1 exe=$2 pid rc=0 t
	shift 2
	"$@" &
	pid=$!
	for ((t = 0; t < secs * 10; t++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "hang_limit: no result within $secs s; the launch (mpirun, orted, ssh) and ranks:"
		ps -eo pid,ppid,stat,etimes,time,comm |
			awk -v n="$(hang_names "$exe" | paste -sd'|')" '
				NR == 1 || $6 ~ "^(mpirun|orted|ssh|sshd|" n ")$"'
		echo "hang_limit: stacks:"
		hang_stacks "$exe"
		kill -TERM "$pid" 2>/dev/null || true
		for ((t = 0; t < 100; t++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		return 124
	fi
	wait "$pid" || rc=$?
	return "$rc"
}

hang_report() {
	sed -n '/^hang_limit:/,$p' "$1"
}

# for callers that run their cases in a child bash (ivm-vmsim run ... bash -c)
export -f hang_names hang_pids hang_stacks hang_limit hang_report
