#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Release tarball test: configures this tree in a scratch directory and runs
# "make distcheck" (the tarball is unpacked read-only, configured and built
# out of tree, passes "make check" (the unit tests), installs into and
# uninstalls from a scratch prefix, also with DESTDIR, leaving nothing
# behind, and is re-created from itself).  Then checks the tarball: named
# after ivm's version (opal/mca/common/ivm/VERSION), it holds every file
# git tracks (contrib/ and the admin files, doc/, every test, the
# benchmarks, README.md, LICENSE, debian/) and nothing else but autotools'
# outputs.
#
# Environment:
#   IVM_DIST_DIR   scratch directory (default /tmp/ivm-dist)
#   IVM_DIST_JOBS  make -j (default 2)
#
# Exit 0 pass, 77 skip (autotools or Open MPI's devel files missing and
# not installable), anything else fail.
#
# ivm-timeout: 900
# ivm-deps: autoconf automake libtool perl make gcc libopenmpi-dev openmpi-bin
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
work=${IVM_DIST_DIR:-/tmp/ivm-dist}
jobs=${IVM_DIST_JOBS:-2}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
t_start=$(date +%s)
phase() { echo "=== [$(( $(date +%s) - t_start ))s] $*"; }
# run LOG CMD...: a step with its output in LOG, the tail shown on failure
run() {
    local log=$1
    shift
    "$@" >"$log" 2>&1 || { tail -n 60 "$log"; fail "'$*' failed (log: $log)"; }
}

for t in autoreconf automake libtoolize make; do
    command -v "$t" >/dev/null || skip "$t is missing (contrib/ivm-dev deps)"
done
command -v ompi_info >/dev/null || command -v mpicc >/dev/null || skip "no Open MPI"

version=$(sed -n 's/^ivm_version=//p' "$src/opal/mca/common/ivm/VERSION")
[ -n "$version" ] || fail "no ivm_version in opal/mca/common/ivm/VERSION"
tarball=ivm-$version.tar.gz

rm -rf "$work"
mkdir -p "$work/build"
if [ ! -x "$src/configure" ] || [ ! -f "$src/config/ivm_components.m4" ]; then
    phase "./autogen.pl"
    run "$work/autogen.log" sh -c "cd '$src' && ./autogen.pl --quiet"
fi
phase "configure (in $work/build)"
run "$work/configure.log" sh -c "cd '$work/build' && '$src/configure'"
phase "make distcheck"
t0=$(date +%s)
run "$work/distcheck.log" make -C "$work/build" -j"$jobs" distcheck
echo "make distcheck: $(( $(date +%s) - t0 ))s"
grep -E '^# (TOTAL|PASS|FAIL)' "$work/distcheck.log" || fail "no unit test results in the distcheck log"
grep -q '^# FAIL: *0$' "$work/distcheck.log" || fail "unit tests failed in distcheck"
[ -f "$work/build/$tarball" ] || fail "no $tarball (the tarball is not named after VERSION)"

phase "contents of $tarball"
tar -tzf "$work/build/$tarball" | sed -n "s|^ivm-$version/||p" | grep -v '/$' | sed '/^$/d' | sort >"$work/tar.list"
echo "$(wc -l <"$work/tar.list") files, $(du -k "$work/build/$tarball" | cut -f1) KiB"
for f in README.md LICENSE configure autogen.pl opal/mca/common/ivm/VERSION contrib/ivm-demo \
         contrib/admin/99-ivm-ivshmem.rules contrib/admin/libvirt-ivshmem.xml \
         contrib/admin/openmpi-mca-params.conf doc/build.md test/run-tests test/unit/Makefile.am \
         test/progs/Makefile test/fuzz/Makefile test/mpich/run-mpich \
         test/python/test_ivm_report.py bench/ivm_report.py bench/src/ivm_p2pbench.c \
         debian/rules debian/control; do
    grep -qxF "$f" "$work/tar.list" || fail "$f is not in the tarball"
done
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    # tracked (and new, not ignored) files, without git's own
    (cd "$src" && git ls-files -co --exclude-standard) | grep -vx '.gitignore' |
        while read -r f; do [ -e "$src/$f" ] && echo "$f"; done | sort >"$work/git.list"
    missing=$(comm -13 "$work/tar.list" "$work/git.list")
    [ -z "$missing" ] || fail "files of the tree missing from the tarball (add them to EXTRA_DIST):
$missing"
    # anything else must be what autogen.pl/autoreconf generate
    extra=$(comm -23 "$work/tar.list" "$work/git.list" |
        grep -Ev '^(configure|aclocal\.m4|config/ivm_components\.m4|config/(build-aux|m4)/.*|(.*/)?Makefile\.in)$' || true)
    [ -z "$extra" ] || fail "files in the tarball that are not in the tree (build products?):
$extra"
    echo "every file of the tree is in it, and nothing else but autotools' outputs"
fi
rm -rf "$work/build/ivm-$version"
phase "done"
