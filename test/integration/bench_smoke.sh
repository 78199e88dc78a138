#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# contrib/ivm-bench --quick into a temporary directory: the run succeeds and
# its outputs exist and parse (CSV columns and numbers, every configuration
# and test present, the four targets stated, PNG files).  No performance
# assertion: the numbers of a smoke run on a shared machine mean nothing.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 600
# ivm-deps: gnuplot-nox openmpi-bin libopenmpi-dev gcc mawk iproute2 util-linux procps openssh-server openssh-client
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, network devices)"
unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
command -v mpicc >/dev/null || skip "mpicc missing"
command -v gnuplot >/dev/null || skip "gnuplot missing"
ompi_info 2>/dev/null | grep -q 'MCA btl: ivm' || skip "btl/ivm not installed (contrib/ivm-dev build)"

out=$(mktemp -d /tmp/bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT

"$TOP/contrib/ivm-bench" --help | grep -q -- '--quick' || fail "--help does not mention --quick"

t0=$(date +%s)
"$TOP/contrib/ivm-bench" --quick --out "$out" >"$out/bench.log" 2>&1 || {
    cat "$out/bench.log"
    fail "contrib/ivm-bench --quick failed"
}
echo "ivm-bench --quick took $(($(date +%s) - t0)) s"

for f in raw.csv medians.csv placement.csv summary.md latency.png bandwidth.png bibw.png msgrate.png; do
    [ -s "$out/$f" ] || fail "$f missing or empty"
done
for f in latency.png bandwidth.png bibw.png msgrate.png; do
    [ "$(head -c 8 "$out/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done

configs="vader-cma vader-none ivm ivm-allocmem tcp"
tests="lat bw bibw rate"

# raw.csv: header, 10 columns, numeric fields, positive times, 2 reps each
[ "$(head -n1 "$out/raw.csv")" = "config,rep,test,size,loop,iters,window,seconds,value,unit" ] ||
    fail "raw.csv header: $(head -n1 "$out/raw.csv")"
bad=$(awk -F, 'NR > 1 && (NF != 10 || $2 !~ /^[0-9]+$/ || $4 !~ /^[0-9]+$/ || $6 !~ /^[0-9]+$/ ||
    $8 !~ /^[0-9.eE+-]+$/ || $8 <= 0 || $9 !~ /^[0-9.eE+-]+$/) { print NR ": " $0 }' "$out/raw.csv")
[ -z "$bad" ] || fail "raw.csv has malformed lines: $bad"

# medians.csv: every configuration x test, n = 2 (reps), min <= median <= max
[ "$(head -n1 "$out/medians.csv")" = "config,test,size,unit,n,median,min,max" ] ||
    fail "medians.csv header: $(head -n1 "$out/medians.csv")"
bad=$(awk -F, 'NR > 1 && (NF != 8 || $5 != 2 || $7 > $6 || $6 > $8) { print NR ": " $0 }' "$out/medians.csv")
[ -z "$bad" ] || fail "medians.csv has malformed lines: $bad"
for c in $configs; do
    for t in $tests; do
        awk -F, -v c="$c" -v t="$t" '$1 == c && $2 == t { found = 1 } END { exit !found }' "$out/medians.csv" ||
            fail "medians.csv has no $t values for $c"
    done
    # 8-byte latency present and positive for every configuration
    awk -F, -v c="$c" '$1 == c && $2 == "lat" && $3 == 8 && $6 > 0 { found = 1 } END { exit !found }' "$out/medians.csv" ||
        fail "no 8 B latency for $c"
done

# placement.csv: two ranks per run, each on one CPU, different CPUs,
# different scheduler autogroups
bad=$(awk -F, 'NR > 1 { n[$1 "," $2]++; if (split($7, a, " ") != 1) print "more than one CPU: " $0
        cpu[$1 "," $2 "," $3] = $7; grp[$1 "," $2 "," $3] = $8 }
    END { for (k in n) { if (n[k] != 2) print k ": " n[k] " ranks"
        if (cpu[k ",0"] == cpu[k ",1"]) print k ": both ranks on cpu " cpu[k ",0"]
        if (grp[k ",0"] == grp[k ",1"]) print k ": both ranks in autogroup " grp[k ",0"] } }' \
    "$out/placement.csv")
[ -z "$bad" ] || fail "placement: $bad"

# summary.md: the four targets, each with PASS or MISS
for pat in 'ivm 8 B latency / vader (cma)' 'tcp 8 B latency / ivm 8 B latency' \
    'ivm (ordinary buffers) 1-4 MiB bandwidth / vader (none)' 'ivm (MPI_Alloc_mem) 1-4 MiB bandwidth / vader (cma)'; do
    grep -F "| $pat" "$out/summary.md" | grep -Eq '\*\*(PASS|MISS)\*\*' ||
        fail "summary.md does not state target '$pat' with PASS/MISS"
done
grep -q '^## Key numbers' "$out/summary.md" || fail "summary.md has no key numbers table"

# the MPI_Alloc_mem configuration really took btl/ivm's single-copy path
sc=$(awk -F, '$1 == "PVAR" && $3 == "btl_ivm_single_copy_bytes" { s += $4 } END { printf "%.0f\n", s }' "$out"/runs/ivm-allocmem.rep*.out)
[ "$sc" -gt 0 ] || fail "ivm-allocmem moved no bytes by single copy"

# --report-only regenerates the same tables from runs/
cp "$out/summary.md" "$out/summary.orig"
"$TOP/contrib/ivm-bench" --report-only "$out" >/dev/null 2>&1 || fail "--report-only failed"
diff <(grep -v '^Generated' "$out/summary.orig") <(grep -v '^Generated' "$out/summary.md") >/dev/null ||
    fail "--report-only produced a different summary"

echo "PASS: ivm-bench --quick produced parseable raw/median CSVs, placement, summary with 4 targets and 4 PNGs"
