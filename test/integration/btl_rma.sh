#!/bin/bash
# MPI one-sided communication across emulated VMs over btl/ivm, tcp
# excluded, by test/progs/ivm_rma: put, get, accumulate (SUM, MAX, MIN,
# BXOR, BOR, BAND, PROD, REPLACE), get_accumulate, fetch-and-op,
# compare-and-swap under fence, post/start/complete/wait, lock/unlock,
# lock_all + flush, Rput/Rget; on windows from MPI_Win_create over heap
# memory and over MPI_Alloc_mem(mpool_hints=ivm) memory, and from
# MPI_Win_allocate.  The program names the osc component of every window
# and checks btl/ivm's MPI_T counters (see ivm_rma.c).
#   pt2pt-2vm   2 VMs, 1 rank each, btl ivm,self, osc pt2pt: must pass, and
#               every rank must have sent through ivm
#   pt2pt-4vm   4 VMs, 2 ranks each, btl ivm,vader,self, osc pt2pt
#   rdma-2vm    osc rdma,pt2pt (the candidates of Open MPI's own default):
#               osc/rdma (priority 101) picks btl/ivm, which offers RDMA
#               and atomics to every peer.  If windows are created, every
#               test must pass and single-copy and atomic counters must
#               move.  KNOWN FAILURE (reported, not counted): window
#               creation fails with MPI_ERR_WIN, because osc/rdma registers
#               its own heap-allocated state with btl_ivm_register_mem(),
#               which refuses memory outside the ivm region.
#   default-4vm 4 VMs, 2 ranks each, btl ivm,vader,self, the installation's
#               default osc list: reports which osc that picks; the same
#               known failure is accepted (osc/rdma also wins here).
#   btl-2vm,    test/progs/ivm_btl_rdma: btl/ivm's put, get and atomics
#   btl-4vm     (64/32-bit fetch-add, ADD AND OR XOR MIN MAX LAND LOR LXOR,
#               SWAP, compare-and-swap) called directly through the BTL
#               interface on MPI_Alloc_mem(ivm) memory, since osc/rdma
#               cannot reach them; 2 VMs x 1 rank and 4 VMs x 2 ranks
# Debian's /etc/openmpi/openmpi-mca-params.conf disables osc pt2pt and ucx,
# so there the default is osc/rdma: the test names the osc explicitly.
# Runtime: about 50 s on 2 cores.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-timeout: 300
# ivm-deps: iproute2 util-linux mount procps openssh-server openssh-client openmpi-bin libopenmpi-dev make gcc
set -eu

cd "$(dirname "$0")/../.."
build=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root (emulated VMs)"
unshare --uts --ipc --net --pid --mount --fork true 2>/dev/null || skip "cannot create namespaces here"
command -v ompi_info >/dev/null || skip "Open MPI is not installed"
ompi_info 2>/dev/null | grep -q "MCA btl: ivm" || skip "btl/ivm is not installed (contrib/ivm-dev build)"
make -s -C test/progs BUILDDIR="$build" >/dev/null 2>&1 || fail "building test/progs failed"
for p in ivm_rma ivm_btl_rdma; do
    [ -x "$build/$p" ] || fail "$p was not built in $build"
done

out=$(mktemp -d /tmp/ivm-btl-rma.XXXXXX)
trap 'rm -rf "$out"' EXIT
export PATH="$PWD/contrib:$PATH" OUT="$out" BUILD="$build" IVM_VMSIM_NAME="btlrma-$$"

# rma_case NAME KNOWN(0|1) VMSIM-MPIRUN-OPTIONS... -- MPIRUN-ARGS... [-- PROGRAM-ARGS...]
rma_case() {
    set -eu
    local name=$1 known=$2 rc=0 t0=$SECONDS
    shift 2
    local -a vopt=() margs=() pargs=()
    while [ "$1" != -- ]; do vopt+=("$1"); shift; done
    shift
    while [ $# -gt 0 ] && [ "$1" != -- ]; do margs+=("$1"); shift; done
    [ $# -eq 0 ] || { shift; pargs=("$@"); }
    [ "$known" = 0 ] || pargs+=(--allow-create-failure)
    timeout 200 ivm-vmsim mpirun "${vopt[@]}" -- "${margs[@]}" --mca pml ob1 \
        "$BUILD/ivm_rma" "${pargs[@]}" >"$OUT/$name.log" 2>&1 || rc=$?
    echo "== $name ($((SECONDS - t0)) s): ${margs[*]}"
    grep -E "^(window |  rank )" "$OUT/$name.log" || true
    if [ "$rc" = 124 ]; then
        tail -30 "$OUT/$name.log"
        echo "FAIL: $name: no result within 200 s (hang?)"
        return 1
    fi
    if [ "$rc" = 0 ] && grep -q "^ivm_rma: PASS" "$OUT/$name.log"; then
        grep "^ivm_rma: PASS" "$OUT/$name.log"
        return 0
    fi
    if [ "$known" = 1 ] && [ "$rc" = 3 ] && grep -q "^ivm_rma: KNOWN-FAILURE" "$OUT/$name.log"; then
        grep "^ivm_rma: KNOWN-FAILURE" "$OUT/$name.log"
        grep -m1 "creation failed: " "$OUT/$name.log" || true
        echo "KNOWN FAILURE (not counted): osc/rdma selects btl/ivm (RDMA and atomics to every"
        echo "  peer) but cannot register its heap-allocated window state with it"
        echo "  (btl_ivm_rdma.c mca_btl_ivm_register_mem returns NULL outside the ivm region),"
        echo "  so MPI_Win_create and MPI_Win_allocate fail with MPI_ERR_WIN.  Without btl/ivm"
        echo "  the same windows work through osc/pt2pt."
        return 0
    fi
    grep -E "^ERROR" "$OUT/$name.log" | head -20 || true
    tail -15 "$OUT/$name.log"
    echo "FAIL: $name: $(grep "^ivm_rma: FAIL" "$OUT/$name.log" || echo "exit status $rc, no PASS")"
    return 1
}
export -f rma_case

# btl_case NAME VMSIM-MPIRUN-OPTIONS... -- MPIRUN-ARGS...: ivm_btl_rdma must pass
btl_case() {
    set -eu
    local name=$1 rc=0 t0=$SECONDS
    shift
    local -a vopt=()
    while [ "$1" != -- ]; do vopt+=("$1"); shift; done
    shift
    timeout 200 ivm-vmsim mpirun "${vopt[@]}" -- "$@" --mca pml ob1 \
        "$BUILD/ivm_btl_rdma" >"$OUT/$name.log" 2>&1 || rc=$?
    echo "== $name ($((SECONDS - t0)) s): $*"
    grep -E "^(btl_register_mem|ivm_btl_rdma: [0-9]|ivm counters|  rank )" "$OUT/$name.log" || true
    if [ "$rc" = 0 ] && grep -q "^ivm_btl_rdma: PASS" "$OUT/$name.log"; then
        grep "^ivm_btl_rdma: PASS" "$OUT/$name.log"
        return 0
    fi
    grep -E "^ERROR" "$OUT/$name.log" | head -20 || true
    tail -15 "$OUT/$name.log"
    [ "$rc" != 124 ] || { echo "FAIL: $name: no result within 200 s (hang?)"; return 1; }
    echo "FAIL: $name: $(grep "^ivm_btl_rdma: FAIL" "$OUT/$name.log" || echo "exit status $rc, no PASS")"
    return 1
}
export -f btl_case

t0=$SECONDS
ivm-vmsim run --vms 4 --share "$build" --share "$out" -- bash -c '
    rc=0
    rma_case pt2pt-2vm 0 --vms 0,1 -- -np 2 --map-by node --mca btl ivm,self --mca osc pt2pt \
        -- --expect-osc pt2pt || rc=1
    rma_case pt2pt-4vm 0 --ppn 2 -- -np 8 --mca btl ivm,vader,self --mca osc pt2pt \
        --mca mpi_yield_when_idle 1 -- --expect-osc pt2pt || rc=1
    rma_case rdma-2vm 1 --vms 0,1 -- -np 2 --map-by node --mca btl ivm,self \
        --mca osc rdma,pt2pt || rc=1
    rma_case default-4vm 1 --ppn 2 -- -np 8 --mca btl ivm,vader,self \
        --mca mpi_yield_when_idle 1 || rc=1
    btl_case btl-2vm --vms 0,1 -- -np 2 --map-by node --mca btl ivm,self || rc=1
    btl_case btl-4vm --ppn 2 -- -np 8 --mca btl ivm,vader,self --mca mpi_yield_when_idle 1 \
        --mca opal_common_ivm_partition_size 33554432 || rc=1
    exit $rc' || fail "MPI RMA over btl/ivm: a case failed (see above)"
echo "btl_rma: all cases passed ($((SECONDS - t0)) s)"
