# SPDX-License-Identifier: BSD-3-Clause
# Shared start of the integration tests that run test/progs programs across
# emulated VMs (sourced, not run: no execute bit, so test/run-tests skips
# it).  Run from the top of the tree.
#
# Provides: skip, fail, build (where test/progs is built:
# $IVM_TEST_BUILDDIR, default /tmp/ivm-test-build) and
#   progs_prepare FW PROGRAM...   skip unless root with namespaces and an
#                                 Open MPI listing FW/ivm; build test/progs
#                                 and fail unless every PROGRAM was built

build=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

progs_prepare() {
    local fw=$1 p
    shift
    [ "$(id -u)" = 0 ] || skip "needs root (emulated VMs)"
    unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
    command -v ompi_info >/dev/null || skip "Open MPI is not installed"
    # (grep without -q: it must read all of ompi_info's output under pipefail)
    ompi_info 2>/dev/null | grep "MCA $fw: ivm" >/dev/null ||
        skip "$fw/ivm is not installed (contrib/ivm-dev build)"
    make -s -C test/progs BUILDDIR="$build" >/dev/null 2>&1 || fail "building test/progs failed"
    for p in "$@"; do
        [ -x "$build/$p" ] || fail "$p was not built in $build"
    done
}
