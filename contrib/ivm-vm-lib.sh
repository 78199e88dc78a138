# ivm-vm-lib.sh: what the two VM harnesses share, sourced by contrib/ivm-vmsim
# (emulated VMs from namespaces) and contrib/ivm-qemu (real QEMU guests).
# Not a program: each tool sources it from the directory of its own real
# path, so it must be installed next to them.
#
# Copyright (c) 2026 The ivm authors.  All rights reserved.
# SPDX-License-Identifier: BSD-3-Clause
#
# The library holds the logic that is the same for both kinds of VM: messages,
# option parsing, small parsers, package checks, the instance's ssh files and
# hosts files, starting a VM's process detached from the caller, waiting for
# the VMs, the EXIT/signal traps, and the front ends of the up, down, exec,
# mpirun, status, device-path and run commands.  What a VM *is* stays in the
# tool.  The tool sets, before sourcing:
#   PROG SELF BASE NETNS_DIR NS_PREFIX DEFAULT_NAME READY_TIMEOUT
#   NAME_ENV       the variable with the default instance name (IVM_VMSIM_NAME)
#   NAME_MAX       the longest instance name
#   ROOT_WHY       why root is needed (for need_root's message)
#   VM_LOGS        per-VM logs (under STATE/vmI/) shown when a VM fails to start
#   VM_SPAWN_LOG   per-VM file (under STATE/vmI/) for the output of vm_spawn
#   VM_SPAWN_PID   per-VM file (under STATE/vmI/) with the PID vm_spawn started
#   SSH_CONNECT_TIMEOUT  ssh's ConnectTimeout in the generated ssh_config
# and defines these functions, which the front ends call:
#   usage                       the help text
#   up_instance                 create and start instance O_NAME (sets UP_NAME)
#   teardown NAME               remove everything of instance NAME
#   all_instance_names          instances with anything left, one per line
#   tool_up_opt ARGS...         parse one tool-specific up option (UP_SHIFT)
#   tool_up_done                after 'up' succeeded (its report)
#   tool_exec I CMD...          run CMD in VM I of the loaded instance
#   tool_status STATE           print the loaded instance; exit status
#   tool_device_path IDX        print the host path of device IDX
#   tool_run_env                export the variables 'run' gives its command
#   tool_mpirun_check           'mpirun': install or check what it needs
#                               (MP_MPIRUN: the --mpirun option, or empty)
#   ssh_host_entries            optional: Host blocks of the ssh_config
#   tool_down_all               optional: after 'down --all'
# shellcheck shell=bash disable=SC2015,SC2034,SC2153,SC2317
# (SC2015: "A && B || die" validates on purpose; SC2034: the O_* and UP_*
# variables are read by the tools; SC2153: NAME, NVMS... come from a sourced
# instance.conf; SC2317: trap handlers look unreachable to shellcheck.)

# ---------------------------------------------------------------------------
# Messages and small helpers

die() {
	printf '%s: error: %s\n' "$PROG" "$*" >&2
	exit 1
}
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
note() { printf '%s: %s\n' "$PROG" "$*" >&2; }

need_root() {
	[ "$(id -u)" = 0 ] || die "must be run as root ($ROOT_WHY)"
}

# optarg OPTION REMAINING: REMAINING counts the option itself.
optarg() { [ "$2" -ge 2 ] || die "option $1 needs an argument"; }
is_uint() { [[ $1 =~ ^[0-9]+$ ]]; }
valid_name() { [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9_-]*$ ]] && [ ${#1} -le "$NAME_MAX" ]; }
check_name() {
	valid_name "$1" || die "invalid instance name '$1' (use 1-$NAME_MAX letters, digits, '-' or '_', starting with a letter or digit)"
}

# Single-quote a word for a POSIX shell.
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# Join the remaining arguments with the first one.
join_by() {
	local IFS=$1
	shift
	echo "$*"
}

# Parse SIZE (bytes, or with K/M/G suffix, binary units) into bytes.
parse_size() {
	local mult=1
	[[ $1 =~ ^([0-9]+)([KkMmGg]?)$ ]] || return 1
	case ${BASH_REMATCH[2]} in
	[Kk]) mult=1024 ;;
	[Mm]) mult=$((1024 * 1024)) ;;
	[Gg]) mult=$((1024 * 1024 * 1024)) ;;
	esac
	echo $((10#${BASH_REMATCH[1]} * mult))
}

# Expand a kernel CPU list such as "0-3,8" into "0 1 2 3 8".
expand_cpulist() {
	local out=() parts=() part a b c
	IFS=, read -r -a parts <<<"$1"
	for part in "${parts[@]}"; do
		if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
			a=${BASH_REMATCH[1]} b=${BASH_REMATCH[2]}
			for ((c = a; c <= b; c++)); do out+=("$c"); done
		elif [[ $part =~ ^[0-9]+$ ]]; then
			out+=("$part")
		fi
	done
	echo "${out[*]:-}"
}

# Read a process's argv as one space-separated string with a leading and a
# trailing space, using only builtins (this runs for every process on the host).
proc_cmdline() {
	local -a args=()
	mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
	[ ${#args[@]} -gt 0 ] || return 1
	printf ' %s ' "${args[*]}"
}

# True if PID exists and is not a zombie.
pid_alive() {
	local line
	[ -r "/proc/$1/status" ] || return 1
	while IFS= read -r line; do
		case $line in
		State:*Z*) return 1 ;;
		State:*) return 0 ;;
		esac
	done 2>/dev/null <"/proc/$1/status"
	return 1
}

# ---------------------------------------------------------------------------
# Dependencies.  CI starts from a fresh Debian, so install what is missing.

# The tool is looked up in PATH and in the sbin dirs because root's PATH is
# not always complete (e.g. under env -i or sudo).
find_tool() {
	local d
	command -v "$1" 2>/dev/null && return 0
	for d in /usr/sbin /sbin /usr/bin /bin; do
		[ -x "$d/$1" ] && echo "$d/$1" && return 0
	done
	return 1
}

# missing_packages TOOL:PACKAGE...: the packages whose tool is not found.
missing_packages() {
	local pair
	for pair in "$@"; do
		find_tool "${pair%%:*}" >/dev/null || echo "${pair#*:}"
	done
}

# apt_install PACKAGE...: install them (as root with apt-get), else fail.
apt_install() {
	[ $# -eq 0 ] && return 0
	if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		die "missing packages: $* (install them, e.g. apt-get install $*)"
	fi
	note "installing missing packages: $*"
	apt-get update -qq >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" </dev/null >&2 ||
		die "apt-get install $* failed"
}

# ---------------------------------------------------------------------------
# Instance state

state_of() { echo "$BASE/$1"; }

# Load instance.conf into the current shell (callers use a subshell or accept
# the globals).
load_conf() {
	local state
	state=$(state_of "$1")
	[ -d "$state" ] || die "no instance '$1' (no $state); start one with '$PROG up --name $1'"
	[ -f "$state/instance.conf" ] || die "instance '$1' is incomplete (no instance.conf); remove it with '$PROG down --name $1'"
	# shellcheck disable=SC1091
	. "$state/instance.conf"
}

# Resolve a VM argument (index or hostname) to an index; needs NVMS loaded.
# "host" is the host node of an instance that has one (HOST_NODE=1).
vm_index() {
	local v=$1
	if [ "$v" = host ] && [ -n "${HOST_NODE:-}" ]; then
		[ "$HOST_NODE" = 1 ] || die "instance '$NAME' has no host node (up --host-node)"
		echo host
		return 0
	fi
	case $v in
	vm[0-9]*) v=${v#vm} ;;
	esac
	is_uint "$v" || die "invalid VM '$1' (use an index such as 1 or a hostname such as vm1)"
	v=$((10#$v))
	[ "$v" -lt "$NVMS" ] || die "no VM '$1' in instance '$NAME' (it has $NVMS VMs: vm0..vm$((NVMS - 1)))"
	echo "$v"
}

# write_hosts STATE NAME N NET [EXTRA-LINE...]: the VMs' /etc/hosts (vmI is
# NET.<I+1>) and the default hostfile.
write_hosts() {
	local state=$1 name=$2 n=$3 net=$4 i
	shift 4
	{
		echo "# /etc/hosts of the VMs of $PROG instance '$name'"
		echo "127.0.0.1	localhost"
		for ((i = 0; i < n; i++)); do echo "$net.$((i + 1))	vm$i"; done
		[ $# -eq 0 ] || printf '%s\n' "$@"
	} >"$state/hosts"
	for ((i = 0; i < n; i++)); do echo "vm$i slots=1"; done >"$state/hostfile"
}

# Disable IPv6 in a network namespace we created: the VM network is IPv4-only,
# so no link-local addresses or router solicitations appear.
ns_no_ipv6() {
	[ -d /proc/sys/net/ipv6 ] || return 0
	nsenter --net="$NETNS_DIR/$1" sh -c \
		'echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6'
}

# ---------------------------------------------------------------------------
# Starting and waiting for VMs

# vm_spawn STATE I CPUS CMD...: start CMD for VM I in the background, pinned
# to CPUS, its output to STATE/vmI/$VM_SPAWN_LOG, its PID in
# STATE/vmI/$VM_SPAWN_PID.
# setsid: Ctrl-C at the terminal must reach only us (our trap tears down in
# order), not the VMs.  The subshell resets SIGINT and SIGQUIT, which bash
# ignores in background jobs, so programs in the VMs get normal signal
# dispositions, and closes fds it does not own so that VMs never hold the
# caller's pipes open.
vm_spawn() {
	local state=$1 i=$2 cpus=$3
	shift 3
	(
		trap - INT QUIT
		for f in /proc/"$BASHPID"/fd/*; do
			f=${f##*/}
			[ "$f" -gt 2 ] 2>/dev/null && eval "exec $f>&-" 2>/dev/null
		done
		exec setsid taskset -c "$cpus" "$@"
	) </dev/null >"$state/vm$i/$VM_SPAWN_LOG" 2>&1 &
	echo $! >"$state/vm$i/$VM_SPAWN_PID"
	# Not a job of ours: bash still reaps it, without "Killed" reports.
	disown $!
}

# show_vm_logs STATE I: the VM's start-up logs, indented, on stderr.
show_vm_logs() {
	local f
	for f in $VM_LOGS; do
		[ ! -s "$1/vm$2/$f" ] || sed 's/^/  | /' "$1/vm$2/$f" >&2 || true
	done
}

# wait_ready STATE NAME N: wait until every VM wrote a non-empty STATE/vmI/ready;
# fail when a VM's process exits or after READY_TIMEOUT seconds.
wait_ready() {
	local state=$1 name=$2 n=$3 i pid deadline=$((SECONDS + READY_TIMEOUT))
	for ((i = 0; i < n; i++)); do
		pid=$(cat "$state/vm$i/$VM_SPAWN_PID")
		while [ ! -s "$state/vm$i/ready" ]; do
			if ! pid_alive "$pid"; then
				show_vm_logs "$state" "$i"
				die "vm$i of instance '$name' failed to start (log above)"
			fi
			if [ $SECONDS -ge $deadline ]; then
				show_vm_logs "$state" "$i"
				die "vm$i of instance '$name' not ready after ${READY_TIMEOUT}s (log above; see $state/vm$i/)"
			fi
			sleep 0.05
		done
	done
}

# ---------------------------------------------------------------------------
# ssh: keys, sshd_config, ssh_config and the launcher's agent of an instance

write_ssh_files() {
	local state=$1 name=$2
	mkdir -m 0700 "$state/ssh"
	ssh-keygen -q -t ed25519 -N '' -C "$PROG-$name-host" -f "$state/ssh/host_ed25519_key" </dev/null
	ssh-keygen -q -t ed25519 -N '' -C "$PROG-$name-client" -f "$state/ssh/id_ed25519" </dev/null
	cp "$state/ssh/id_ed25519.pub" "$state/ssh/authorized_keys"
	write_sshd_config "$state" "$name" >"$state/ssh/sshd_config"
	write_ssh_config "$state" "$name" >"$state/ssh/ssh_config"
	write_rsh_agent "$name" >"$state/rsh-agent"
	chmod 0755 "$state/rsh-agent"
}

write_sshd_config() {
	local state=$1 name=$2 usepam=no
	# Without PAM, sshd refuses even key logins to a locked account ('!' in
	# /etc/shadow); fall back to PAM then, which does not apply that check.
	if [ "$(getent shadow root 2>/dev/null | cut -d: -f2 | cut -c1)" = "!" ]; then
		usepam=yes
	fi
	cat <<EOF
# Generated by $PROG for instance '$name'.  Private to this instance: the
# system's /etc/ssh and /root/.ssh are never used.  ListenAddress is given on
# the command line per VM.
Port 22
AddressFamily inet
HostKey $state/ssh/host_ed25519_key
AuthorizedKeysFile $state/ssh/authorized_keys
PidFile none
UsePAM $usepam
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
StrictModes no
UseDNS no
PrintMotd no
PrintLastLog no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
PermitTunnel no
# Open MPI may start many daemons at once (tree spawn).
MaxStartups 100:30:200
MaxSessions 100
EOF
}

write_ssh_config() {
	local state=$1 name=$2
	echo "# Generated by $PROG for instance '$name'; used as 'ssh -F' so no other"
	echo "# ssh configuration (and nothing in ~/.ssh) is read or written."
	if declare -F ssh_host_entries >/dev/null; then ssh_host_entries; fi
	cat <<EOF
Host *
	User root
	Port 22
	IdentityFile $state/ssh/id_ed25519
	IdentitiesOnly yes
	IdentityAgent none
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	LogLevel ERROR
	BatchMode yes
	ConnectTimeout $SSH_CONNECT_TIMEOUT
	ServerAliveInterval 15
	ForwardAgent no
	ForwardX11 no
	ControlMaster no
EOF
}

# The agent finds ssh_config next to itself, so the quoted here-doc needs no
# escaping.  The header records the instance for humans.
write_rsh_agent() {
	echo '#!/bin/bash'
	echo "# Generated by $PROG for instance '$1': Open MPI's plm_rsh_agent."
	cat <<'EOF'
# Usage: rsh-agent [SSH-OPTIONS] HOST [COMMAND...]
# sshd starts remote commands with a minimal PATH; prefix the command with the
# caller's PATH and LD_LIBRARY_PATH (and OPAL_PREFIX) so orted and the MPI
# program are found exactly as on the host (e.g. after 'make install' into a
# custom prefix).
set -eu
cfg=${BASH_SOURCE[0]%/*}/ssh/ssh_config
opts=()
while [ $# -gt 0 ]; do
	case $1 in
	-[BbcDEeFIiJLlmOoPpQRSWw])
		[ $# -ge 2 ] || { echo "rsh-agent: $1 needs an argument" >&2; exit 255; }
		opts+=("$1" "$2")
		shift 2
		;;
	-?*) opts+=("$1") && shift ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || { echo "usage: rsh-agent [SSH-OPTIONS] HOST [COMMAND...]" >&2; exit 255; }
host=$1
shift
# Single-quote a value for the remote POSIX shell.
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
if [ $# -gt 0 ]; then
	pre="PATH=$(q "$PATH"); export PATH;"
	[ -z "${LD_LIBRARY_PATH:-}" ] || pre="$pre LD_LIBRARY_PATH=$(q "$LD_LIBRARY_PATH"); export LD_LIBRARY_PATH;"
	[ -z "${OPAL_PREFIX:-}" ] || pre="$pre OPAL_PREFIX=$(q "$OPAL_PREFIX"); export OPAL_PREFIX;"
	exec ssh -F "$cfg" "${opts[@]}" "$host" "$pre" "$@"
fi
exec ssh -F "$cfg" "${opts[@]}" "$host"
EOF
}

# ---------------------------------------------------------------------------
# Traps.  CLEANUP_NAME is set while an instance is half-built (and during
# 'run'); the EXIT trap tears it down so that an error or Ctrl-C leaves
# nothing behind.  RUN_CHILD is the command of 'run'.

CLEANUP_NAME=""
CLEANUP_QUIET=0
RUN_CHILD=""

on_exit() {
	local rc=$?
	if [ -n "$CLEANUP_NAME" ]; then
		trap '' INT TERM HUP
		[ "$CLEANUP_QUIET" = 1 ] || note "tearing down instance '$CLEANUP_NAME'"
		teardown "$CLEANUP_NAME" || rc=1
		CLEANUP_NAME=""
	fi
	exit "$rc"
}

on_signal() {
	local sig=$1 code=$2 i
	trap '' INT TERM HUP
	if [ -n "$RUN_CHILD" ]; then
		kill -"$sig" "$RUN_CHILD" 2>/dev/null || true
		# Bounded: a command that ignores the signal (e.g. waiting on an
		# mpirun inside a VM) must not keep us from tearing down, which
		# kills everything inside the VMs anyway.
		for i in $(seq 50); do
			kill -0 "$RUN_CHILD" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$RUN_CHILD" 2>/dev/null || true
		wait "$RUN_CHILD" 2>/dev/null || true
		RUN_CHILD=""
	fi
	exit "$code"
}

install_traps() {
	trap on_exit EXIT
	trap 'on_signal INT 130' INT
	trap 'on_signal TERM 143' TERM
	trap 'on_signal HUP 129' HUP
}

# ---------------------------------------------------------------------------
# Command front ends

default_name() { echo "${!NAME_ENV:-$DEFAULT_NAME}"; }

# Options of 'up' and 'run' that every tool has; parse_up_opt consumes one
# option and sets UP_SHIFT to the number of arguments it used (0 = not an up
# option).  tool_up_opt parses the tool's own.
O_NAME=$(default_name)
O_VMS=2
O_SHARES=()
UP_SHIFT=0

parse_up_opt() {
	UP_SHIFT=0
	case $1 in
	--name) optarg "$1" $# && O_NAME=$2 && UP_SHIFT=2 ;;
	--name=*) O_NAME=${1#*=} && UP_SHIFT=1 ;;
	--vms) optarg "$1" $# && O_VMS=$2 && UP_SHIFT=2 ;;
	--vms=*) O_VMS=${1#*=} && UP_SHIFT=1 ;;
	--share) optarg "$1" $# && O_SHARES+=("$2") && UP_SHIFT=2 ;;
	--share=*) O_SHARES+=("${1#*=}") && UP_SHIFT=1 ;;
	*) tool_up_opt "$@" ;;
	esac
	return 0
}

# parse_up_opts CMD ARGS...: the up options before '--' (or the end); sets
# UP_REST to the number of arguments left after them (the '--' consumed).
parse_up_opts() {
	local cmd=$1
	shift
	while [ $# -gt 0 ]; do
		case $1 in
		-h | --help) usage && exit 0 ;;
		--) [ "$cmd" = run ] && shift && break ;;
		esac
		parse_up_opt "$@"
		if [ "$UP_SHIFT" -eq 0 ]; then
			[ "$cmd" = run ] && die "run: unknown argument '$1' (the command goes after '--')"
			die "up: unknown argument '$1' (see --help)"
		fi
		shift "$UP_SHIFT"
	done
	UP_REST=$#
}

cmd_up() {
	parse_up_opts up "$@"
	install_traps
	up_instance
	tool_up_done
}

# parse_name_all CMD ARGS...: the options of 'down' and 'status' (P_NAME, P_ALL).
P_NAME=""
P_ALL=0
parse_name_all() {
	local cmd=$1
	shift
	P_NAME=$(default_name)
	while [ $# -gt 0 ]; do
		case $1 in
		--name) optarg "$1" $# && P_NAME=$2 && shift 2 ;;
		--name=*) P_NAME=${1#*=} && shift ;;
		--all) P_ALL=1 && shift ;;
		-h | --help) usage && exit 0 ;;
		*) die "$cmd: unknown argument '$1'" ;;
		esac
	done
	need_root
}

cmd_down() {
	local name n
	parse_name_all down "$@"
	name=$P_NAME
	# A second Ctrl-C must not interrupt a tear-down halfway.
	trap '' INT TERM HUP
	if [ "$P_ALL" = 1 ]; then
		for n in $(all_instance_names); do
			if valid_name "$n"; then
				teardown "$n"
			else
				warn "skipping '$n': not a valid instance name"
			fi
		done
		if declare -F tool_down_all >/dev/null; then tool_down_all; fi
		return 0
	fi
	check_name "$name"
	if [ ! -d "$(state_of "$name")" ] && ! all_instance_names | grep -x -- "$name" >/dev/null; then
		note "no instance '$name'; nothing to do"
		return 0
	fi
	teardown "$name"
}

cmd_exec() {
	local name vm=""
	name=$(default_name)
	while [ $# -gt 0 ]; do
		case $1 in
		--name) optarg "$1" $# && name=$2 && shift 2 ;;
		--name=*) name=${1#*=} && shift ;;
		-h | --help) usage && exit 0 ;;
		--) shift && break ;;
		-*) die "exec: unknown option '$1'" ;;
		*)
			if [ -z "$vm" ]; then vm=$1 && shift; else break; fi
			;;
		esac
	done
	[ -n "$vm" ] || die "exec: which VM? usage: $PROG exec [--name NAME] VM -- CMD..."
	[ $# -gt 0 ] || die "exec: no command given; usage: $PROG exec [--name NAME] VM -- CMD..."
	need_root
	check_name "$name"
	load_conf "$name"
	vm=$(vm_index "$vm") || exit 1
	[ "$vm" != host ] || die "exec: run commands on the host yourself"
	tool_exec "$vm" "$@"
}

# Options of 'mpirun', set by cmd_mpirun for mpirun_select and tool_mpirun_check.
MP_NAME=""
MP_PPN=1
MP_VMS=""
MP_MPIRUN=""

cmd_mpirun() {
	local state hf tmp v
	local -a sel=()
	MP_NAME=$(default_name)
	while [ $# -gt 0 ]; do
		case $1 in
		--name) optarg "$1" $# && MP_NAME=$2 && shift 2 ;;
		--name=*) MP_NAME=${1#*=} && shift ;;
		--ppn) optarg "$1" $# && MP_PPN=$2 && shift 2 ;;
		--ppn=*) MP_PPN=${1#*=} && shift ;;
		--vms) optarg "$1" $# && MP_VMS=$2 && shift 2 ;;
		--vms=*) MP_VMS=${1#*=} && shift ;;
		--mpirun) optarg "$1" $# && MP_MPIRUN=$2 && shift 2 ;;
		--mpirun=*) MP_MPIRUN=${1#*=} && shift ;;
		-h | --help) usage && exit 0 ;;
		--) shift && break ;;
		*) die "mpirun: unknown option '$1' (mpirun's own arguments go after '--')" ;;
		esac
	done
	is_uint "$MP_PPN" && [ "$MP_PPN" -ge 1 ] || die "--ppn must be a positive integer (got '$MP_PPN')"
	need_root
	check_name "$MP_NAME"
	load_conf "$MP_NAME"
	mpirun_select
	state=$(state_of "$MP_NAME")
	if [ -n "$MP_VMS" ]; then
		local -a list=()
		IFS=, read -r -a list <<<"$MP_VMS"
		for v in "${list[@]}"; do
			v=$(vm_index "$v") || exit 1
			sel+=("$v")
		done
	else
		for ((v = 0; v < NVMS; v++)); do sel+=("$v"); done
	fi
	[ ${#sel[@]} -gt 0 ] || die "--vms selects no VM"
	[ "${sel[0]}" != host ] || die "mpirun: the first node runs mpirun and must be a VM"
	# One file per selection, written atomically: concurrent calls with the
	# same selection produce the same content, so they cannot disturb each other.
	hf="$state/hostfile.$(join_by - "${sel[@]}").ppn$MP_PPN"
	tmp=$(mktemp "$state/.hostfile.XXXXXX")
	for v in "${sel[@]}"; do
		if [ "$v" = host ]; then echo "host slots=$MP_PPN"; else echo "vm$v slots=$MP_PPN"; fi
	done >"$tmp"
	chmod 0644 "$tmp"
	mv -f "$tmp" "$hf"
	mpirun_launch "$state" "$hf" "${sel[0]}" "$@"
}

# mpirun_select: the mpirun to run (MPIRUN, an absolute path: --mpirun FILE,
# else mpirun on PATH) and its Open MPI major version (MPI_MAJOR).  With
# --mpirun, its directory goes first on PATH, which tool_exec and the
# rsh-agent pass on, so the daemons in the other VMs belong to the same Open
# MPI.  tool_mpirun_check first installs or checks what the tool needs.
MPIRUN=""
MPI_MAJOR=""
mpirun_select() {
	tool_mpirun_check
	if [ -n "$MP_MPIRUN" ]; then
		[ -f "$MP_MPIRUN" ] && [ -x "$MP_MPIRUN" ] || die "--mpirun $MP_MPIRUN: not an executable file"
		MPIRUN=$(readlink -f -- "$MP_MPIRUN")
		PATH=${MPIRUN%/*}:$PATH
		export PATH
	else
		MPIRUN=$(command -v mpirun) || die "no mpirun on PATH (Debian package openmpi-bin; or --mpirun FILE)"
	fi
	MPI_MAJOR=$("$MPIRUN" --version 2>/dev/null | sed -n 's/.*(Open MPI) \([0-9][0-9]*\)\..*/\1/p' | sed -n 1p) || true
	is_uint "${MPI_MAJOR:-x}" || die "cannot tell the Open MPI version of $MPIRUN ('$MPIRUN --version')"
}

# mpirun_launch STATE HOSTFILE FIRST-VM MPIRUN-ARGS...: MPIRUN inside VM
# FIRST-VM, in the form its series wants.  4.1's mpirun is ORTE's; 5.x's
# hands over to PRRTE's prterun, whose launcher agent, binding and root
# settings have other names.  Binding is off unless the caller set it: the
# launcher would bind by the host's topology, ignoring the VM's CPUs.  The
# caller's MCA variables go along (a QEMU guest's shell does not inherit them).
mpirun_launch() {
	local state=$1 hf=$2 first=$3 e
	local -a launch=() envs=()
	shift 3
	if [ "$MPI_MAJOR" -ge 5 ]; then
		launch=(--prtemca plm_ssh_agent "$state/rsh-agent")
		[ "$(id -u)" != 0 ] || launch+=(--allow-run-as-root)
		envs=("PRTE_MCA_hwloc_default_binding_policy=${PRTE_MCA_hwloc_default_binding_policy:-none}")
	else
		launch=(--mca plm_rsh_agent "$state/rsh-agent")
		[ "$(id -u)" != 0 ] || envs=(OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
		envs+=("OMPI_MCA_hwloc_base_binding_policy=${OMPI_MCA_hwloc_base_binding_policy:-none}")
	fi
	for e in $(compgen -e); do
		case $e in
		OMPI_MCA_hwloc_base_binding_policy | PRTE_MCA_hwloc_default_binding_policy) ;;
		OMPI_MCA_* | PRTE_MCA_* | PMIX_MCA_*) envs+=("$e=${!e}") ;;
		esac
	done
	tool_exec "$first" env "${envs[@]}" "$MPIRUN" "${launch[@]}" --hostfile "$hf" "$@"
}

# status_one NAME: tool_status on the instance's settings, in a subshell.
status_one() {
	local name=$1 state
	state=$(state_of "$name")
	if [ ! -f "$state/instance.conf" ]; then
		echo "instance $name: incomplete (being created, or 'up' was killed); remove with '$PROG down --name $name'"
		return 1
	fi
	(
		load_conf "$name"
		tool_status "$state"
	)
}

cmd_status() {
	local name n rc=0 found=0
	parse_name_all status "$@"
	name=$P_NAME
	if [ "$P_ALL" = 1 ]; then
		for n in $(all_instance_names); do
			valid_name "$n" || continue
			[ $found = 0 ] || echo
			found=1
			status_one "$n" || rc=1
		done
		[ $found = 1 ] || echo "no instances"
		return $rc
	fi
	check_name "$name"
	[ -d "$(state_of "$name")" ] || die "no instance '$name'"
	status_one "$name"
}

cmd_device_path() {
	local name idx=0
	name=$(default_name)
	while [ $# -gt 0 ]; do
		case $1 in
		--name) optarg "$1" $# && name=$2 && shift 2 ;;
		--name=*) name=${1#*=} && shift ;;
		-h | --help) usage && exit 0 ;;
		-*) die "device-path: unknown option '$1'" ;;
		*) idx=$1 && shift ;;
		esac
	done
	check_name "$name"
	load_conf "$name"
	tool_device_path "$idx"
}

cmd_run() {
	local rc
	parse_up_opts run "$@"
	shift $(($# - UP_REST))
	[ $# -gt 0 ] || die "run: no command given; usage: $PROG run [UP-OPTIONS] -- CMD..."
	install_traps
	up_instance
	# From here on the EXIT trap tears the instance down whatever happens.
	CLEANUP_NAME=$UP_NAME
	CLEANUP_QUIET=1
	tool_run_env
	if ! command -v "$PROG" >/dev/null 2>&1; then
		PATH="$(dirname -- "$SELF"):$PATH"
		export PATH
	fi
	# Run CMD as a background child and wait for it, so a SIGTERM sent to us
	# is handled at once (forwarded to CMD, then tear-down) rather than after
	# CMD exits.  Keep CMD's stdin (/dev/null when it is closed, e.g. on a CI
	# runner) and normal SIGINT/SIGQUIT dispositions, which bash would
	# otherwise replace for a background job.
	if [ -e "/proc/$BASHPID/fd/0" ]; then
		(
			trap - INT QUIT
			exec "$@"
		) <&0 &
	else
		(
			trap - INT QUIT
			exec "$@"
		) </dev/null &
	fi
	RUN_CHILD=$!
	rc=0
	wait "$RUN_CHILD" || rc=$?
	RUN_CHILD=""
	exit "$rc"
}

# vm_command CMD ARGS...: run one of the shared commands; 2 if CMD is not one.
vm_command() {
	local cmd=$1
	shift
	case $cmd in
	up) cmd_up "$@" ;;
	down) cmd_down "$@" ;;
	exec) cmd_exec "$@" ;;
	mpirun) cmd_mpirun "$@" ;;
	status) cmd_status "$@" ;;
	device-path) cmd_device_path "$@" ;;
	run) cmd_run "$@" ;;
	help | -h | --help) usage ;;
	"") usage >&2 && exit 2 ;;
	*) die "unknown command '$cmd' (see '$PROG --help')" ;;
	esac
}
