#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Device layer across emulated VMs (each VM its own kernel-side namespaces):
#  1. two VMs attached to one device see one region id, prove co-location to
#     each other, and ivmctl inside a VM describes the region they formatted;
#  2. VMs on two different devices (two "hosts") get different region ids
#     and are not co-located;
#  3. a copied region file carries the same region id but is not mistaken
#     for the same region (the nonce proof fails).
# The probe program attaches through libmca_common_ivm exactly like the
# components; the MPI job itself runs over tcp so that btl/ivm stays out.
# Exit 0 pass, 77 skip, anything else fail.
# ivm-timeout: 300
set -eu

cd "$(dirname "$0")/../.."
build=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for emulated VMs"; exit 77; }
command -v ivmctl >/dev/null || { echo "SKIP: ivm not installed (contrib/ivm-dev build)"; exit 77; }
make -s -C test/progs BUILDDIR="$build" >/dev/null
[ -x "$build/ivm_colocation" ] || { echo "FAIL: ivm_colocation was not built"; exit 1; }

out=$(mktemp -d /tmp/ivm-device-region.XXXXXX)
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
mpi='--map-by node --mca pml ob1 --mca btl self,tcp'
export PATH="$PWD/contrib:$PATH" IVM_VMSIM_NAME="devregion-$$"

# region id of rank N in a probe output
region_of() { awk -v r="$2" '$1 == "rank" && $2 == r { print $6 }' "$1"; }
pair_of() { awk '$1 == "pair" && $2 == 0 && $3 == 1 { print $4 }' "$1"; }

# 1. one device, two VMs
ivm-vmsim run --vms 2 --share "$build" --share "$out" -- sh -c "
    ivm-vmsim mpirun -- -np 2 $mpi $build/ivm_colocation > $out/same.txt &&
    ivm-vmsim exec 1 -- ivmctl --json info > $out/info.json" \
    || { cat "$out/same.txt" 2>/dev/null; fail "probe on one device failed"; }
id0=$(region_of "$out/same.txt" 0)
id1=$(region_of "$out/same.txt" 1)
hosts=$(awk '$1 == "rank" { print $4 }' "$out/same.txt" | sort -u | wc -l)
[ "$hosts" = 2 ] || fail "ranks did not run in two VMs"
[ -n "$id0" ] && [ "$id0" != none ] || fail "rank 0 did not attach"
[ "$id0" = "$id1" ] || fail "one device, two region ids: $id0 / $id1"
[ "$(pair_of "$out/same.txt")" = colocated ] || fail "ranks sharing a device not co-located"
python3 - "$out/info.json" "$id0" <<'PY' || fail "ivmctl info in a VM does not describe the region"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["device"]["spec"] == "/run/ivm/ivshmem", d["device"]
assert d["superblock"]["region_id"] == sys.argv[2], d["superblock"]
assert d["superblock"]["version"] == 1
assert d["usage"]["slots_claimed"] == 0 and d["jobs"] == [], "job left behind after exit"
PY
echo "one device: region $id0 seen by both VMs, co-located"

# 2. two devices = two hosts
ivm-vmsim run --vms 2 --devices 2 --map 0,1 --share "$build" --share "$out" -- sh -c "
    ivm-vmsim mpirun -- -np 2 $mpi $build/ivm_colocation > $out/two.txt" \
    || fail "probe on two devices failed"
a=$(region_of "$out/two.txt" 0)
b=$(region_of "$out/two.txt" 1)
[ -n "$a" ] && [ -n "$b" ] && [ "$a" != none ] && [ "$b" != none ] || fail "attach failed"
[ "$a" != "$b" ] || fail "two devices share region id $a"
[ "$(pair_of "$out/two.txt")" = separate ] || fail "ranks on different devices co-located"
echo "two devices: regions $a and $b, separate"

# 3. a copy of a formatted region: same id, different memory
ivm-vmsim run --vms 2 --devices 2 --map 0,1 --share "$build" --share "$out" -- sh -c "
    ivmctl format \$(ivm-vmsim device-path 0) > /dev/null &&
    cp \$(ivm-vmsim device-path 0) \$(ivm-vmsim device-path 1) &&
    ivm-vmsim mpirun -- -np 2 $mpi $build/ivm_colocation > $out/copy.txt" \
    || fail "probe on a copied region failed"
a=$(region_of "$out/copy.txt" 0)
b=$(region_of "$out/copy.txt" 1)
[ "$a" = "$b" ] && [ "$a" != none ] || fail "copied region should carry the same id ($a / $b)"
[ "$(pair_of "$out/copy.txt")" = separate ] || fail "a copied region file was taken for the same region"
echo "copied region: same id $a, correctly separate"
