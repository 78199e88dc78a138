#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Jobs on one device across emulated VMs:
#  1. two MPI jobs started by different mpiruns in different VMs share the
#     device at the same time, each in its own partition under its own key;
#     when they end, their space is freed;
#  2. a job killed with SIGKILL leaves its slot behind: ivmctl clean in
#     another VM cannot prove it dead and leaves it; the next job in the
#     killed job's VM reclaims it automatically.
# Exit 0 pass, 77 skip, anything else fail.
# ivm-timeout: 300
set -eu

cd "$(dirname "$0")/../.."
build=${IVM_TEST_BUILDDIR:-/tmp/ivm-test-build}
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root for emulated VMs"; exit 77; }
command -v ivmctl >/dev/null || { echo "SKIP: ivm not installed (contrib/ivm-dev build)"; exit 77; }
make -s -C test/progs BUILDDIR="$build" >/dev/null
[ -x "$build/ivm_colocation" ] || { echo "FAIL: ivm_colocation was not built"; exit 1; }
out=$(mktemp -d /tmp/ivm-device-jobs.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$out"' EXIT
export PATH="$PWD/contrib:$PATH" OUT="$out" BUILD="$build" IVM_VMSIM_NAME="devjobs-$$"

# Runs on the host with the instance up (ivm-vmsim run ... -- bash -c scenario).
scenario() {
    set -eu
    # --bind-to none: a VM's CPU set is a subset of the host's (as ivm-vmsim mpirun does)
    local mpi='mpirun --allow-run-as-root --bind-to none --mca pml ob1 --mca btl self,tcp -np 1'
    # jq-free JSON queries
    q() { python3 -c "import json,sys; d=json.load(open('$OUT/'+sys.argv[1])); print(eval(sys.argv[2]))" "$@"; }
    wait_jobs() { # VM N: until ivmctl shows N active jobs (max ~10 s)
        for _ in $(seq 50); do
            if ivm-vmsim exec "$1" -- ivmctl --json info > "$OUT/poll.json" 2>/dev/null &&
                [ "$(q poll.json 'd["usage"]["jobs_active"]')" = "$2" ]; then
                return 0
            fi
            sleep 0.2
        done
        echo "FAIL: expected $2 active jobs"; cat "$OUT/poll.json"; return 1
    }

    # 1. concurrent jobs from two VMs
    ivm-vmsim exec 0 -- $mpi "$BUILD/ivm_colocation" --hold 6 > "$OUT/a.txt" 2>&1 &
    local a=$!
    ivm-vmsim exec 1 -- $mpi "$BUILD/ivm_colocation" --hold 6 > "$OUT/b.txt" 2>&1 &
    local b=$!
    wait_jobs 0 2
    cp "$OUT/poll.json" "$OUT/two.json"
    wait "$a" || { cat "$OUT/a.txt"; echo "FAIL: job in vm0 failed"; return 1; }
    wait "$b" || { cat "$OUT/b.txt"; echo "FAIL: job in vm1 failed"; return 1; }
    python3 - "$OUT/two.json" <<'PY' || { echo "FAIL: two concurrent jobs not kept apart"; return 1; }
import json, sys
d = json.load(open(sys.argv[1]))
jobs, slots = d["jobs"], d["slots"]
assert len(jobs) == 2 and jobs[0]["key"] != jobs[1]["key"], jobs
a, b = sorted((j["partition_offset"], j["partition_size"]) for j in jobs)
assert a[0] + a[1] <= b[0], "partitions overlap"
assert len(slots) == 2 and slots[0]["vm"] != slots[1]["vm"], slots
assert {s["job"] for s in slots} == {j["index"] for j in jobs}, "slots not in their jobs"
# seen from vm0: its own process is provably alive, vm1's is unknown
assert sorted(s["state"] for s in slots) == ["alive", "unknown"], slots
PY
    wait_jobs 0 0
    echo "concurrent jobs: 2 partitions, 2 keys, freed after exit"

    # 2. a killed job
    ivm-vmsim exec 1 -- $mpi "$BUILD/ivm_colocation" --hold 60 > "$OUT/k.txt" 2>&1 &
    local k=$!
    wait_jobs 1 1
    ivm-vmsim exec 1 -- pkill -KILL -x ivm_colocation
    wait "$k" && { echo "FAIL: killed job reported success"; return 1; }
    ivm-vmsim exec 0 -- ivmctl --json clean > "$OUT/clean0.json"
    [ "$(q clean0.json 'd["slots_freed"]')" = 0 ] || { echo "FAIL: vm0 freed a slot of vm1"; return 1; }
    [ "$(q clean0.json 'd["slots_in_other_vms"]')" = 1 ] || { echo "FAIL: vm0 did not see vm1's slot"; return 1; }
    ivm-vmsim exec 1 -- ivmctl --json info > "$OUT/dead.json"
    [ "$(q dead.json 'd["slots"][0]["state"]')" = dead ] || { echo "FAIL: vm1 does not see its dead process"; return 1; }
    # the next job in vm1 reclaims the dead one while attaching
    ivm-vmsim exec 1 -- $mpi "$BUILD/ivm_colocation" > "$OUT/next.txt" 2>&1 \
        || { cat "$OUT/next.txt"; echo "FAIL: next job failed"; return 1; }
    wait_jobs 0 0
    echo "killed job: left alone from vm0, reclaimed by the next job in vm1"
}
export -f scenario
ivm-vmsim run --vms 2 --share "$build" --share "$out" -- bash -c scenario
