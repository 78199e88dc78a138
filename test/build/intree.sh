#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# In-tree build test: overlay the ivm components into Debian's Open MPI
# 4.1 source tree (./autogen.pl --ompi-tree ...), build and install it
# into a scratch prefix, and check that the result carries the ivm
# components (libmca_common_ivm, ivmctl, help file, and "MCA <fw>: ivm"
# in ompi_info of the result for every other ivm component present).
#
# Exit 0 pass, 77 skip (no Open MPI source can be had, missing tools and
# not root), anything else fail.
#
# A second run reuses the fetched tree, and skips Open MPI's autogen and
# configure when nothing they depend on changed, so a developer
# iteration is just "copy changed files + make install".
#
# Environment:
#   IVM_INTREE_DIR       scratch directory (default /tmp/ivm-intree):
#                        ompi/ (source+build tree), install/, logs/
#   IVM_INTREE_OMPI_SRC  an unpacked Open MPI 4.1 source tree to copy
#                        instead of fetching one with apt-get source
#   IVM_INTREE_CLEAN=1   start from an empty scratch directory
#   IVM_INTREE_JOBS      make -j (default 2)
#
# ivm-timeout: 2700
# ivm-deps: dpkg-dev libhwloc-dev libevent-dev libpmix-dev flex autoconf automake libtool perl
set -eu

src=$(cd "$(dirname "$0")/../.." && pwd)
work=${IVM_INTREE_DIR:-/tmp/ivm-intree}
jobs=${IVM_INTREE_JOBS:-2}
tree=$work/ompi
prefix=$work/install
logs=$work/logs

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
now() { date +%s; }
t_start=$(now)
phase_t=$t_start
phase() {   # phase NAME: print the time the previous phase took
    local t
    t=$(now)
    echo "=== [$(( t - t_start ))s] $*"
    phase_t=$t
}
# run LOG CMD...: run a step with its output in LOG; show the tail on failure
run() {
    local log=$1
    shift
    if ! "$@" >"$log" 2>&1; then
        echo "--- last 60 lines of $log ---"
        tail -n 60 "$log"
        fail "'$*' failed (full log: $log)"
    fi
}

[ "$(uname -s)" = Linux ] || skip "in-tree build needs Linux"

# The Open MPI configure line of the in-tree build (documented in
# doc/build.md).  External hwloc/libevent/PMIx as Debian builds it;
# everything not needed to run MPI over tcp/vader/self is left out to
# keep the build short on a 2-core machine.
pmix_dir=/usr/lib/x86_64-linux-gnu/pmix2
[ -d "$pmix_dir" ] || pmix_dir=$(dirname "$(dirname "$(find /usr/lib -name pmix.h -path '*pmix2/include/*' 2>/dev/null | head -n 1)")" 2>/dev/null || true)
ompi_autogen_args=(--no-oshmem
                   --include=hwloc-external,event-external,io-ompio
                   --exclude=pmix-pmix3x,topo-treematch,op-avx,mtl-ofi,coll-hcoll)
configure_args=(--prefix="$prefix"
                --with-hwloc=external
                --with-libevent=external
                --with-pmix="$pmix_dir"
                --disable-mpi-fortran --disable-mpi-cxx --disable-mpi-java
                --disable-oshmem --disable-io-romio
                --without-verbs --without-ucx --without-ofi --without-psm --without-psm2
                --without-cuda --without-ucc
                --enable-mca-no-build=btl-openib,btl-usnic,btl-smcuda,btl-uct,btl-ofi,coll-monitoring,pml-monitoring,osc-monitoring,common-monitoring,coll-fca,mtl-psm,mtl-psm2,vprotocol-pessimist,reachable-netlink,fs-lustre,fs-gpfs)

# ---------------------------------------------------------------------
# Tools (install them when root; otherwise skip if missing)
# ---------------------------------------------------------------------
need_tools() {
    local missing=() t
    for t in perl autoconf automake libtoolize gcc make flex; do
        command -v "$t" >/dev/null || missing+=("$t")
    done
    [ -f /usr/include/hwloc.h ] || missing+=(libhwloc-dev)
    [ -f /usr/include/event2/event.h ] || missing+=(libevent-dev)
    [ -n "$pmix_dir" ] && [ -f "$pmix_dir/include/pmix.h" ] || missing+=(libpmix-dev)
    echo "${missing[*]}"
}
missing=$(need_tools)
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing build tools ($missing)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq && apt-get install -y -qq --no-install-recommends \
            build-essential perl autoconf automake libtool flex pkg-config \
            libhwloc-dev libevent-dev libpmix-dev dpkg-dev >/dev/null ||
            skip "cannot install the build tools"
        pmix_dir=/usr/lib/x86_64-linux-gnu/pmix2
        configure_args=("${configure_args[@]/#--with-pmix=*/--with-pmix=$pmix_dir}")
        missing=$(need_tools)
    fi
    [ -z "$missing" ] || skip "missing build tools: $missing"
fi

# One run at a time per scratch directory (a second one waits).
mkdir -p "$(dirname "$work")"
exec 9>"$work.lock"
if ! flock -n 9; then
    echo "another in-tree build is using $work; waiting for it"
    flock -w 1800 9 || fail "timed out waiting for the lock on $work"
fi

if [ "${IVM_INTREE_CLEAN:-0}" = 1 ]; then
    echo "IVM_INTREE_CLEAN=1: removing $work"
    rm -rf "$work"
fi
mkdir -p "$work" "$logs"


# ---------------------------------------------------------------------
# 1. Open MPI source tree (fetched once, then reused)
# ---------------------------------------------------------------------
phase "source tree: $tree"
if [ ! -f "$tree/config/opal_mca.m4" ]; then
    rm -rf "$tree"
    if [ -n "${IVM_INTREE_OMPI_SRC:-}" ]; then
        [ -f "$IVM_INTREE_OMPI_SRC/config/opal_mca.m4" ] ||
            fail "IVM_INTREE_OMPI_SRC=$IVM_INTREE_OMPI_SRC is not an Open MPI source tree"
        echo "copying $IVM_INTREE_OMPI_SRC"
        cp -a "$IVM_INTREE_OMPI_SRC" "$tree"
    else
        [ "$(id -u)" = 0 ] || skip "fetching the Open MPI source needs root (apt); or set IVM_INTREE_OMPI_SRC"
        echo "fetching with contrib/ivm-ompi-source (apt-get source openmpi)"
        if ! "$src/contrib/ivm-ompi-source" "$tree" >"$logs/fetch.log" 2>&1; then
            cat "$logs/fetch.log"
            skip "cannot fetch the Open MPI source package (apt-get source openmpi failed)"
        fi
        cat "$logs/fetch.log"
    fi
else
    echo "reusing the existing tree"
fi

# ---------------------------------------------------------------------
# 2. Overlay the components; Open MPI's autogen.pl only when needed
# ---------------------------------------------------------------------
components=()
for d in "$src"/*/mca/*/ivm; do
    [ -f "$d/configure.m4" ] || [ -f "$d/Makefile.am" ] || continue
    components+=("${d#"$src"/}")
done
[ ${#components[@]} -gt 0 ] || fail "no */mca/*/ivm component in $src"
echo "ivm components in this tree: ${components[*]}"

# What Open MPI's autogen/configure output depends on: the set of
# components, their configure.m4/Makefile.am, and the arguments.
autogen_key=$(
    {
        printf '%s\n' "${components[@]}" "${ompi_autogen_args[@]}"
        for c in "${components[@]}"; do
            cat "$src/$c/configure.m4" "$src/$c/Makefile.am" 2>/dev/null || true
        done
    } | sha256sum | cut -d' ' -f1)
configure_key=$(printf '%s\n' "$autogen_key" "${configure_args[@]}" | sha256sum | cut -d' ' -f1)

phase "overlay + Open MPI autogen"
if [ -f "$tree/configure" ] && [ "$(cat "$tree/.ivm-autogen-key" 2>/dev/null)" = "$autogen_key" ]; then
    run "$logs/overlay.log" "$src/autogen.pl" --ompi-tree "$tree" --overlay-only
    cat "$logs/overlay.log"
    echo "components' configure.m4/Makefile.am unchanged: not re-running Open MPI's autogen.pl"
else
    rm -f "$tree/.ivm-autogen-key" "$tree/.ivm-configure-key"
    echo "$src/autogen.pl --ompi-tree $tree -- ${ompi_autogen_args[*]}"
    run "$logs/autogen.log" "$src/autogen.pl" --ompi-tree "$tree" -- "${ompi_autogen_args[@]}"
    echo "$autogen_key" >"$tree/.ivm-autogen-key"
fi
for c in "${components[@]}"; do
    [ -f "$tree/$c/Makefile.in" ] || fail "Open MPI's autogen did not pick up $c (no $c/Makefile.in)"
done

# ---------------------------------------------------------------------
# 3. configure (only when autogen ran or the arguments changed)
# ---------------------------------------------------------------------
phase "configure"
if [ -f "$tree/config.status" ] && [ "$(cat "$tree/.ivm-configure-key" 2>/dev/null)" = "$configure_key" ]; then
    echo "configure arguments and components unchanged: not re-running configure"
else
    rm -f "$tree/.ivm-configure-key"
    echo "./configure ${configure_args[*]}"
    run "$logs/configure.log" sh -c 'cd "$1" && shift && ./configure "$@"' sh "$tree" "${configure_args[@]}"
    echo "$configure_key" >"$tree/.ivm-configure-key"
fi
for c in "${components[@]}"; do
    [ -f "$tree/$c/Makefile" ] || fail "configure did not create $c/Makefile"
done

# ---------------------------------------------------------------------
# 4. build and install
# ---------------------------------------------------------------------
phase "make -j$jobs install"
run "$logs/make.log" make -C "$tree" -j"$jobs" install

# ---------------------------------------------------------------------
# 5. checks on the installed result
# ---------------------------------------------------------------------
phase "checks"
ompi_info=$prefix/bin/ompi_info
[ -x "$ompi_info" ] || fail "$ompi_info not installed"

# Run the result's own tools, not the system Open MPI.
unset OMPI_MCA_mca_component_path OPAL_PREFIX OPAL_PKGDATADIR || true
export LD_LIBRARY_PATH=$prefix/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PATH=$prefix/bin:$PATH

got_prefix=$("$ompi_info" --parsable --path prefix | sed -n 's/^path:prefix://p')
[ "$got_prefix" = "$prefix" ] || fail "ompi_info reports prefix '$got_prefix', expected $prefix"
pkglibdir=$("$ompi_info" --parsable --path pkglibdir | sed -n 's/^path:pkglibdir://p')
pkgdatadir=$("$ompi_info" --parsable --path pkgdatadir | sed -n 's/^path:pkgdatadir://p')

if ! "$ompi_info" >"$logs/ompi_info.txt" 2>&1; then
    tail -n 30 "$logs/ompi_info.txt"
    fail "ompi_info of the result failed"
fi

errors=0
for c in "${components[@]}"; do
    fw=$(echo "$c" | cut -d/ -f3)
    if [ "$fw" = common ]; then
        lib=$(ls "$prefix"/lib/libmca_common_ivm.so* 2>/dev/null | head -n 1 || true)
        if [ -n "$lib" ]; then
            echo "ok: $lib installed"
        else
            echo "NOT OK: libmca_common_ivm.so* not installed in $prefix/lib"; errors=$((errors + 1))
        fi
        if [ -x "$prefix/bin/ivmctl" ]; then
            echo "ok: $prefix/bin/ivmctl installed"
            "$prefix/bin/ivmctl" --help >/dev/null 2>&1 || { echo "NOT OK: ivmctl --help failed"; errors=$((errors + 1)); }
        else
            echo "NOT OK: ivmctl not installed in $prefix/bin"; errors=$((errors + 1))
        fi
        if [ -f "$pkgdatadir/help-mpi-common-ivm.txt" ]; then
            echo "ok: help-mpi-common-ivm.txt in $pkgdatadir"
        else
            echo "NOT OK: help-mpi-common-ivm.txt not in $pkgdatadir"; errors=$((errors + 1))
        fi
    else
        line=$(grep -E "^ *MCA $fw: ivm " "$logs/ompi_info.txt" || true)
        if [ -n "$line" ]; then
            echo "ok: ompi_info: $(echo "$line" | sed 's/^ *//')"
            [ -f "$pkglibdir/mca_${fw}_ivm.so" ] || { echo "NOT OK: $pkglibdir/mca_${fw}_ivm.so missing"; errors=$((errors + 1)); }
        else
            echo "NOT OK: ompi_info of the result does not list 'MCA $fw: ivm'"; errors=$((errors + 1))
        fi
    fi
done

# The result must still run MPI (tcp/vader/self were kept).
cat >"$work/hello.c" <<'EOF'
#include <mpi.h>
#include <stdio.h>
int main(int argc, char **argv)
{
    int rank, size, sum = 0;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Allreduce(&rank, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (0 == rank) printf("hello from %d ranks, sum %d\n", size, sum);
    MPI_Finalize();
    return sum == size * (size - 1) / 2 ? 0 : 1;
}
EOF
if "$prefix/bin/mpicc" -o "$work/hello" "$work/hello.c" >"$logs/hello-build.log" 2>&1 &&
   timeout 120 "$prefix/bin/mpirun" --allow-run-as-root --oversubscribe -np 2 \
       --mca btl self,vader,tcp "$work/hello" >"$logs/hello.log" 2>&1 </dev/null; then
    echo "ok: mpirun -np 2 of the result: $(cat "$logs/hello.log" | tail -n 1)"
else
    cat "$logs/hello-build.log" "$logs/hello.log" 2>/dev/null | tail -n 30
    echo "NOT OK: a 2-rank MPI program does not run with the result"
    errors=$((errors + 1))
fi

phase "done"
echo "in-tree build: total $(( $(now) - t_start ))s (logs in $logs)"
[ "$errors" -eq 0 ] || fail "$errors check(s) failed"
echo "PASS: in-tree build of ${components[*]}"
exit 0
