#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# client_hpcc: Debian's HPC Challenge (hpcc, /usr/bin/hpcc) with 2 ranks,
# one per emulated VM, --mca pml ob1 --mca btl ivm,self, 1 x 2 process grid,
# HPL N=2000 (the other kernels' sizes follow from it: PTRANS n=1000,
# MPIRandomAccess 2^21 words, MPIFFT 2^18 points, DGEMM 815; 10-40 s on 2
# shared cores).  Asserts hpcc's own verification in hpccoutf.txt:
#  - Summary "Success=1" (hpcc's overall verdict: 0 if any kernel failed);
#  - HPL: the scaled residual line "...... PASSED", "1 tests completed and
#    passed residual checks", "0 tests completed and failed", HPL_N=2000,
#    HPL_Tflops > 0 (and the residual is < the threshold 16);
#  - PTRANS: every WALL/CPU result row says PASSED, "0 tests completed and
#    failed residual checks", PTRANS_residual=0;
#  - (Star|Single)RandomAccess and MPIRandomAccess(_LCG): "Found 0 errors
#    ... (passed)" in every section, MPIRandomAccess(_LCG)_Errors=0;
#  - STREAM: "Solution Validates"; DGEMM: "Scaled residual" < 16;
#  - MPIFFT, StarFFT: max(|x-x0|) / (eps * log2 n) < 16 (hpcc's own
#    criterion); every "Node(s) with error" line says 0;
#  - every section that began also ended ("Begin of X" / "End of X").
# Proof that ivm carried the traffic: btl/ivm's MPI_T counters (LD_PRELOAD
# shim, read at MPI_Finalize) show both ranks sending at least 4*N^2 bytes
# through ivm (HPL alone broadcasts every panel to the other process column:
# sum over panels of (N-k)*NB*8 bytes = 4*N^2), and --mca btl self alone
# fails across the VMs.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-deps: hpcc openmpi-bin libopenmpi-dev gcc iproute2 util-linux openssh-server openssh-client
set -eu

# shellcheck source=SCRIPTDIR/client_lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/client_lib.sh"

client_init hpcc hpcc hpcc
HPCC=$(command -v hpcc)
client_counters
I=chp$$
N=2000
vm_up "$I" 2
say "2 emulated VMs up"

# hpcc reads hpccinf.txt from its working directory and writes hpccoutf.txt
# there (rank 0).  Lines 33-36 are PTRANS's extra sizes (none).
cat >"$WORK/hpccinf.txt" <<EOF
HPLinpack benchmark input file
Innovative Computing Laboratory, University of Tennessee
HPL.out      output file name (if any)
8            device out (6=stdout,7=stderr,file)
1            # of problems sizes (N)
$N           Ns
1            # of NBs
80           NBs
0            PMAP process mapping (0=Row-,1=Column-major)
1            # of process grids (P x Q)
1            Ps
2            Qs
16.0         threshold
1            # of panel fact
2            PFACTs (0=left, 1=Crout, 2=Right)
1            # of recursive stopping criterium
4            NBMINs (>= 1)
1            # of panels in recursion
2            NDIVs
1            # of recursive panel fact.
1            RFACTs (0=left, 1=Crout, 2=Right)
1            # of broadcast
1            BCASTs (0=1rg,1=1rM,2=2rg,3=2rM,4=Lng,5=LnM)
1            # of lookahead depth
1            DEPTHs (>=0)
2            SWAP (0=bin-exch,1=long,2=mix)
64           swapping threshold
0            L1 in (0=transposed,1=no-transposed) form
0            U  in (0=transposed,1=no-transposed) form
1            Equilibration (0=no,1=yes)
8            memory alignment in double (> 0)
##### This line (no. 32) is ignored (it serves as a separator). ######
0                      		Number of additional problem sizes for PTRANS
1200 10000 30000        	values of N
0                       	number of additional blocking sizes for PTRANS
40 9 8 13 13 20 16 32 64       	values of NB
EOF

say "hpcc (HPL N=$N, P x Q = 1 x 2) over btl ivm,self (vm0 <-> vm1)"
read -r -a IVM <<<"$(ivm_args)"
t0=$(date +%s)
rc=0
vm_mpirun "$I" 200 -- "${IVM[@]}" "$HPCC" >"$WORK/hpcc.log" 2>&1 || rc=$?
t1=$(date +%s)
OUT=$WORK/hpccoutf.txt
if [ $rc -ne 0 ] || [ ! -s "$OUT" ]; then
	tail -n 20 "$WORK/hpcc.log"
	[ -f "$OUT" ] && tail -n 20 "$OUT"
	fail "hpcc over ivm across 2 VMs failed (rc $rc$([ -s "$OUT" ] || echo ', no hpccoutf.txt'))"
fi
say "hpcc finished in $((t1 - t0))s"

# val KEY: the value of KEY=... in the Summary section.
val() { sed -n "s/^$1=//p" "$OUT" | tail -n 1; }
problems=()
bad() { problems+=("$*"); }

# Every section that began must have ended (a crash or an abort mid-way
# leaves a section open); the kernels we check must all be there.
begun=$(sed -n 's/^Begin of \(.*\) section\.$/\1/p' "$OUT" | sort)
ended=$(sed -n 's/^End of \(.*\) section\.$/\1/p' "$OUT" | sort)
[ "$begun" = "$ended" ] || bad "sections begun but not ended: $(comm -23 <(echo "$begun") <(echo "$ended") | tr '\n' ' ')"
for s in HPL PTRANS MPIRandomAccess MPIRandomAccess_LCG StarRandomAccess SingleRandomAccess \
	StarDGEMM SingleDGEMM StarSTREAM SingleSTREAM MPIFFT StarFFT SingleFFT LatencyBandwidth Summary; do
	echo "$ended" | grep -qx "$s" || bad "no complete $s section"
done

[ "$(val Success)" = 1 ] || bad "Summary says Success=$(val Success)"
[ "$(val CommWorldProcs)" = 2 ] || bad "CommWorldProcs=$(val CommWorldProcs)"

# HPL
hpl_line=$(grep -E '^\|\|Ax-b\|\|_oo/\(eps\*' "$OUT" || true)
echo "$hpl_line" | grep -qE '\.\.\.\.\.\. PASSED$' || bad "HPL residual check: '${hpl_line:-missing}'"
hpl_resid=$(echo "$hpl_line" | sed -n 's/.*=[[:space:]]*\([0-9.eE+-]*\) .*/\1/p')
awk -v r="${hpl_resid:-x}" 'BEGIN { exit !(r ~ /^[0-9.eE+-]+$/ && r + 0 < 16) }' || bad "HPL scaled residual '$hpl_resid' is not < 16"
grep -qE '^ +1 tests completed and passed residual checks,' "$OUT" || bad "HPL: not '1 tests completed and passed residual checks'"
grep -qE '^ +0 tests completed and failed residual checks,' "$OUT" || bad "HPL: failed residual checks"
[ "$(val HPL_N)" = "$N" ] || bad "HPL_N=$(val HPL_N), expected $N"
awk -v t="$(val HPL_Tflops)" 'BEGIN { exit !(t + 0 > 0) }' || bad "HPL_Tflops=$(val HPL_Tflops)"

# PTRANS: result rows "WALL|CPU M N MB NB P Q TIME CHECK GB/s RESID"
ptrans_rows=$(grep -cE '^(WALL|CPU) +[0-9]+ +[0-9]+ ' "$OUT" || true)
ptrans_ok=$(grep -cE '^(WALL|CPU) +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +1 +2 +[0-9.]+ +PASSED ' "$OUT" || true)
[ "$ptrans_rows" -gt 0 ] && [ "$ptrans_rows" = "$ptrans_ok" ] || bad "PTRANS: $ptrans_ok of $ptrans_rows result rows PASSED"
grep -qE '^ +0 tests completed and failed residual checks\.' "$OUT" || bad "PTRANS: failed residual checks"
[ "$(val PTRANS_residual)" = 0 ] || bad "PTRANS_residual=$(val PTRANS_residual)"

# RandomAccess (MPI, Star; plain and LCG)
nfound=$(grep -cE '^Found [0-9]+ errors in [0-9]+ locations' "$OUT" || true)
npassed=$(grep -cE '^Found 0 errors in [0-9]+ locations \(passed\)\.' "$OUT" || true)
[ "$nfound" -ge 4 ] && [ "$nfound" = "$npassed" ] || bad "RandomAccess: $npassed of $nfound verifications passed"
for k in MPIRandomAccess_Errors MPIRandomAccess_LCG_Errors; do
	[ "$(val $k)" = 0 ] || bad "$k=$(val $k)"
done

# STREAM, DGEMM
grep -q '^Solution Validates' "$OUT" || bad "STREAM: no 'Solution Validates'"
dgemm=$(sed -n 's/^Scaled residual: //p' "$OUT")
awk -v r="${dgemm:-x}" 'BEGIN { exit !(r ~ /^[0-9.eE+-]+$/ && r + 0 < 16) }' || bad "DGEMM scaled residual '$dgemm'"

# FFT: hpcc fails an FFT when max(|x-x0|) / (eps * log2(n)) >= 16.
eps=$(val HPL_eps)
for sec in MPIFFT StarFFT; do
	err=$(sed -n "/^Begin of $sec section/,/^End of $sec section/s/^max(|x-x0|): //p" "$OUT")
	n=$(sed -n "/^Begin of $sec section/,/^End of $sec section/s/^Vector size: *//p" "$OUT")
	[ -n "$n" ] || n=$(val MPIFFT_N)
	awk -v e="${err:-x}" -v n="${n:-0}" -v eps="$eps" \
		'BEGIN { exit !(e ~ /^[0-9.eE+-]+$/ && n > 1 && e / (eps * log(n) / log(2)) < 16) }' ||
		bad "$sec: max(|x-x0|)=$err for n=$n is not < 16 eps log2(n)"
done

# Node(s) with error (Star/Single kernels): all 0.
if grep -E '^Node\(s\) with error' "$OUT" | grep -qv 'error 0$'; then
	bad "a kernel reports nodes with errors: $(grep -E '^Node\(s\) with error [^0]' "$OUT" | head -n 3 | tr '\n' ' ')"
fi

# Key numbers.
echo "  HPL: N=$(val HPL_N) NB=$(val HPL_NB) ${hpl_resid:+scaled residual $hpl_resid PASSED, }$(awk -v t="$(val HPL_Tflops)" 'BEGIN { printf "%.3f Gflop/s", t * 1000 }') in $(val HPL_time) s"
echo "  PTRANS: $ptrans_ok/$ptrans_rows rows PASSED, n=$(val PTRANS_n), $(val PTRANS_GBs) GB/s"
echo "  MPIRandomAccess: N=$(val MPIRandomAccess_N) errors=$(val MPIRandomAccess_Errors) $(val MPIRandomAccess_GUPs) GUP/s; LCG errors=$(val MPIRandomAccess_LCG_Errors)"
echo "  MPIFFT: N=$(val MPIFFT_N) maxErr=$(val MPIFFT_maxErr) $(val MPIFFT_Gflops) Gflop/s"
echo "  StarDGEMM $(val StarDGEMM_Gflops) Gflop/s (residual $dgemm), StarSTREAM Triad $(val StarSTREAM_Triad) GB/s"
echo "  ping-pong latency min/avg/max $(val MinPingPongLatency_usec)/$(val AvgPingPongLatency_usec)/$(val MaxPingPongLatency_usec) usec, bandwidth min/avg/max $(val MinPingPongBandwidth_GBytes)/$(val AvgPingPongBandwidth_GBytes)/$(val MaxPingPongBandwidth_GBytes) GB/s"
echo "  Success=$(val Success)"

if [ ${#problems[@]} -gt 0 ]; then
	printf '  problem: %s\n' "${problems[@]}"
	fail "hpcc over ivm: ${problems[0]}$([ ${#problems[@]} -gt 1 ] && echo " (+$((${#problems[@]} - 1)) more)")"
fi

check_counters "$WORK/hpcc.log" $((4 * N * N))

say "negative control: btl self alone"
check_self_fails "$I" "$HPCC"
say "done"
echo "PASS: hpcc (HPL N=$N, PTRANS, RandomAccess, FFT, DGEMM, STREAM) verified over btl ivm across 2 emulated VMs"
