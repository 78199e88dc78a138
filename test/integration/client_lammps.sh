#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# client_lammps: Debian's LAMMPS (lammps, /usr/bin/lmp) on the Lennard-Jones
# melt of LAMMPS's bench/in.lj (fcc 0.8442, T=1.44, lj/cut 2.5, nve), with a
# 10x10x10 lattice (4000 atoms) for 400 steps, thermo every 50 steps, run
# twice with 2 ranks and the same 1 x 1 x 2 decomposition:
#   reference: both ranks in one emulated VM, --mca btl vader,self;
#   ivm:       one rank in each of 2 emulated VMs, --mca btl ivm,self;
# (--mca pml ob1 in both).  The thermo output (temperature, pair energy,
# total energy, pressure at steps 0, 50, ..., 400, printed with 15
# significant digits) must agree within a relative 1e-12.
#
# Why so tight: with the same decomposition both runs do the same
# floating-point operations on the same bytes, so the only possible
# difference is in the reductions of the thermo quantities, and with 2 ranks
# a sum has one operation, a+b = b+a exactly in IEEE arithmetic: the runs
# are bitwise identical (and are, in practice).  1e-12 (well above the
# 15-digit print rounding, 1e-15) only allows for a different but exact
# reduction algorithm; a single corrupted, lost or reordered byte in the
# ghost-atom exchange would, through the chaotic dynamics of an LJ liquid,
# grow far beyond it within a few hundred steps (or stop the run).
#
# Proof that ivm carried the traffic of the ivm run: btl/ivm's MPI_T
# counters (LD_PRELOAD shim, read at MPI_Finalize) show both ranks sending
# at least 400 steps * 1 KiB through ivm, and --mca btl self alone fails
# across the VMs.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-deps: lammps openmpi-bin libopenmpi-dev gcc iproute2 util-linux openssh-server openssh-client
set -eu

# shellcheck source=SCRIPTDIR/client_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/client_lib.sh"

client_init lammps lammps lmp
LMP=$(command -v lmp)
client_counters
STEPS=400
TOL=1e-12

cat >"$WORK/in.lj" <<EOF
# 3d Lennard-Jones melt (LAMMPS bench/in.lj with a 10x10x10 lattice)
units           lj
atom_style      atomic
processors      1 1 2
lattice         fcc 0.8442
region          box block 0 10 0 10 0 10
create_box      1 box
create_atoms    1 box
mass            1 1.0
velocity        all create 1.44 87287 loop geom
pair_style      lj/cut 2.5
pair_coeff      1 1 1.0 1.0 2.5
neighbor        0.3 bin
neigh_modify    delay 0 every 20 check no
fix             1 all nve
thermo_style    custom step temp epair emol etotal press
thermo_modify   format float %.15g
thermo          50
run             $STEPS
EOF

# thermo LOG: the thermo rows (step temp epair emol etotal press).
thermo() {
	sed -n '/^ *Step Temp E_pair E_mol TotEng Press/,/^Loop time/p' "$1" | sed '1d;$d'
}

# check_run TAG: the run's log has a 1 x 1 x 2 grid and all thermo rows.
check_run() {
	local tag=$1 log=$WORK/log.$1 rows
	grep -q '1 by 1 by 2 MPI processor grid' "$log" || fail "$tag run: not a 1 x 1 x 2 processor grid"
	grep -qE "^Loop time of [0-9.e+-]+ on 2 procs for $STEPS steps with 4000 atoms" "$log" ||
		fail "$tag run: no 'Loop time ... 2 procs for $STEPS steps with 4000 atoms'"
	rows=$(thermo "$log" | awk -v n=$((STEPS / 50 + 1)) '
		NF == 6 && $1 == (NR - 1) * 50 { ok++ } END { print (ok == n && NR == n) ? "ok" : "bad" }')
	[ "$rows" = ok ] || {
		thermo "$log"
		fail "$tag run: thermo rows are not steps 0, 50, ..., $STEPS"
	}
	echo "  $tag: $(grep -m1 '^Loop time' "$log")"
}

# reference: 1 VM (all CPUs), 2 ranks, vader.
I1=clr$$
vm_up "$I1" 1
say "1 emulated VM up; LAMMPS reference run: 2 ranks in vm0 over btl vader,self"
vm_mpirun "$I1" 120 --ppn 2 -- -np 2 --mca pml ob1 --mca btl vader,self -wdir "$WORK" \
	"$LMP" -in "$WORK/in.lj" -log "$WORK/log.vader" -screen none >"$WORK/vader.out" 2>&1 || {
	tail -n 20 "$WORK/vader.out"
	fail "LAMMPS over vader in one VM failed"
}
check_run vader
"$VMSIM" down --name "$I1" >/dev/null 2>&1 || true

# ivm: 2 VMs, one rank each.
I2=cli$$
vm_up "$I2" 2
read -r -a IVM <<<"$(ivm_args)"
say "2 emulated VMs up; LAMMPS run: 1 rank per VM over btl ivm,self"
vm_mpirun "$I2" 120 -- "${IVM[@]}" "$LMP" -in "$WORK/in.lj" -log "$WORK/log.ivm" -screen none \
	>"$WORK/ivm.out" 2>&1 || {
	tail -n 20 "$WORK/ivm.out"
	fail "LAMMPS over ivm across 2 VMs failed"
}
check_run ivm

# Compare every value of every thermo row.
echo "  thermo (vader | ivm):"
paste -d' ' <(thermo "$WORK/log.vader") <(thermo "$WORK/log.ivm") | awk '{
	printf "  %5d T %.12f %.12f  E_pair %.12f %.12f  TotEng %.12f %.12f  Press %.12f %.12f\n",
		$1, $2, $8, $3, $9, $5, $11, $6, $12 }'
maxrel=$(paste -d' ' <(thermo "$WORK/log.vader") <(thermo "$WORK/log.ivm") | awk '
	function abs(x) { return x < 0 ? -x : x }
	{
		for (i = 1; i <= 6; i++) {
			a = $i; b = $(i + 6); d = abs(a - b); m = abs(a) > abs(b) ? abs(a) : abs(b)
			r = m > 0 ? d / m : 0
			if (r > max) max = r
			if (NF != 12) max = 1
		}
	} END { printf "%.3g\n", max }')
identical=no
cmp -s <(thermo "$WORK/log.vader") <(thermo "$WORK/log.ivm") && identical=yes
echo "  max relative difference $maxrel (tolerance $TOL); bitwise identical: $identical"
awk -v m="$maxrel" -v t="$TOL" 'BEGIN { exit !(m + 0 <= t + 0) }' ||
	fail "LAMMPS thermo over ivm differs from vader: max relative difference $maxrel > $TOL"

check_counters "$WORK/ivm.out" $((STEPS * 1024))

say "negative control: btl self alone"
check_self_fails "$I2" "$LMP" -in "$WORK/in.lj" -log none -screen none
say "done"
echo "PASS: LAMMPS LJ melt ($STEPS steps, 2 ranks) over btl ivm across 2 VMs matches vader in one VM (max rel. diff $maxrel)"
