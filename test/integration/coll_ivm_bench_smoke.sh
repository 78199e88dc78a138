#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# contrib/ivm-bench-coll smoke run: --quick at 2 ranks for two collectives
# into a temporary directory, in two parts (the second with --append);
# every output must exist and parse, both call patterns must be measured
# for all three configurations, and the ivm runs must have been served by
# coll/ivm, the others not.  No performance assertion (the numbers of a
# smoke run mean nothing).
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-deps: gnuplot-nox openmpi-bin libopenmpi-dev gcc mawk coreutils procps util-linux
set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (namespaces)"
unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
command -v gnuplot >/dev/null || skip "gnuplot not installed"
ompi_info 2>/dev/null | grep -q 'MCA coll: ivm' || fail "coll/ivm is not installed (contrib/ivm-dev build)"

out=$(mktemp -d /tmp/coll-bench-smoke.XXXXXX)
trap 'rm -rf "$out"' EXIT
cd /
"$TOP/contrib/ivm-bench-coll" --quick --nps 2 --ops barrier,allreduce --out "$out" --tag a >"$out/log" 2>&1 || {
	tail -n 30 "$out/log"
	fail "ivm-bench-coll --quick failed"
}
"$TOP/contrib/ivm-bench-coll" --quick --nps 2 --ops bcast --sizes 8 --out "$out" --append --tag b >>"$out/log" 2>&1 || {
	tail -n 30 "$out/log"
	fail "ivm-bench-coll --quick --append failed"
}
for f in raw.csv medians.csv summary.md barrier.png allreduce.png bcast.png; do
	[ -s "$out/$f" ] || fail "$f missing or empty"
done
head -n1 "$out/medians.csv" | grep -q '^config,np,op,pattern,size,runs,median_us,min_us,max_us$' || fail "medians.csv header"
for cfg in ivm ivmbtl vader; do
	for pat in sep b2b; do
		for op in allreduce bcast; do
			n=$(awk -F, -v c="$cfg" -v p="$pat" -v o="$op" '$1 == c && $3 == o && $4 == p && $7 > 0' "$out/medians.csv" | wc -l)
			[ "$n" -ge 1 ] || fail "no $op $pat median for $cfg"
		done
	done
done
grep -q 'ivm-2 ivm; ivmbtl-2 other; vader-2 other;' "$out/summary.md" ||
	fail "summary.md does not show coll/ivm serving exactly the ivm runs"
grep -qE '^\| allreduce \| b2b \| (\*\*)?[0-9.]+' "$out/summary.md" ||
	fail "summary.md has no allreduce ratio line"
grep -qE '^\| bcast \| [0-9]+ / [0-9]+ / [0-9]+ \|' "$out/summary.md" ||
	fail "summary.md does not say which bcast calls coll/ivm ran"
echo "PASS: ivm-bench-coll --quick (two parts) produced raw.csv, medians.csv, summary.md and plots"
