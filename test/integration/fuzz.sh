#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The fuzz step (issue 10, doc/fuzzing.md): builds the libFuzzer harnesses
# of test/fuzz with ASan and UBSan, runs every committed reproducer of
# test/fuzz/crashes (regression inputs), then fuzzes each target for a
# bounded time on a scratch copy of its committed corpus.  Fails on any
# crash, sanitizer report, failed harness check, hang (-timeout) or memory
# blow-up (-rss_limit_mb), printing the reproducer and the report.
#
#   IVM_FUZZ_SECONDS   seconds per target (default 30: the step stays near 3.5 minutes)
#   IVM_FUZZ_TARGETS   targets to run (default: all that can be built)
#
# Exit 0 pass, 77 skip (only when clang with libFuzzer cannot be had),
# anything else fail.
#
# ivm-timeout: 600
# ivm-deps: clang libclang-rt-dev make libopenmpi-dev
set -eu -o pipefail

src=${IVM_SRC_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${IVM_BUILD_DIR:-/tmp/ivm-build}/fuzz
secs=${IVM_FUZZ_SECONDS:-30}
fuzzdir=$src/test/fuzz
t_start=$(date +%s)

# ---- clang with libFuzzer, installed if it is missing -----------------
probe_dir=$(mktemp -d "${TMPDIR:-/tmp}/ivm-fuzz-probe.XXXXXX")
libfuzzer_ok() {
    printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void) d; (void) n; return 0; }\n' \
        >"$probe_dir/p.c"
    command -v clang >/dev/null 2>&1 &&
        clang -fsanitize=fuzzer,address,undefined "$probe_dir/p.c" -o "$probe_dir/p" >/dev/null 2>&1
}
if ! libfuzzer_ok; then
    echo "clang with libFuzzer is missing: installing clang libclang-rt-dev"
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq </dev/null || true
        apt-get install -y -qq clang libclang-rt-dev </dev/null || true
    fi
    if ! libfuzzer_ok; then
        rm -rf "$probe_dir"
        echo "SKIP: clang with libFuzzer (-fsanitize=fuzzer) cannot be installed here"
        exit 77
    fi
fi
rm -rf "$probe_dir"

# ---- build ------------------------------------------------------------
targets="region ivmctl ring heap"
make_goals=all
if command -v mpicc >/dev/null 2>&1 && [ -n "$(mpicc --showme:incdirs 2>/dev/null)" ]; then
    targets="$targets btl coll"
    make_goals=all-targets
else
    echo "NOTE: no Open MPI mpicc: the btl and coll targets are not built"
fi
targets=${IVM_FUZZ_TARGETS:-$targets}

work=$(mktemp -d "${TMPDIR:-/tmp}/ivm-fuzz.XXXXXX")
keep=${IVM_TEST_LOGDIR:+$IVM_TEST_LOGDIR/fuzz-artifacts}
trap 'rm -rf "$work"' EXIT

echo "building the harnesses in $build"
if ! make -C "$fuzzdir" -j2 B="$build" $make_goals >"$work/build.log" 2>&1; then
    tail -n 60 "$work/build.log"
    echo "FAIL: building the fuzz harnesses failed"
    exit 1
fi
t_built=$(date +%s)
echo "built in $((t_built - t_start)) s"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# report TARGET LOG ARTIFACT-DIR: the reproducers and the report
report() {
    local t=$1 log=$2 art=$3 f
    echo "----- fuzz/$t: finding -----"
    for f in "$art"/crash-* "$art"/timeout-* "$art"/oom-* "$art"/leak-* "$art"/slow-unit-*; do
        [ -f "$f" ] || continue
        if [ -n "$keep" ]; then
            mkdir -p "$keep/$t"
            cp "$f" "$keep/$t/"
            echo "reproducer: $keep/$t/$(basename "$f")"
        else
            echo "reproducer: $f (deleted with the scratch directory; set IVM_TEST_LOGDIR to keep it)"
        fi
        echo "  replay: $build/fuzz_$t <reproducer>"
        echo "  bytes:  $(od -An -tx1 -v "$f" | head -c 600 | tr -s ' \n' ' ')"
    done
    # the sanitizer report or failed check, from its first line on
    awk '/ERROR: |runtime error|ivm-fuzz: check failed|ALARM: working on the last Unit|==[0-9]+== *ERROR/ {p=1} p' \
        "$log" | head -n 150
    echo "----- end of fuzz/$t -----"
}

failed=0
total_execs=0
for t in $targets; do
    bin=$build/fuzz_$t
    mkdir -p "$work/$t/corpus" "$work/$t/art"
    cp "$fuzzdir/corpus/$t/"* "$work/$t/corpus/" 2>/dev/null || true

    # 1. committed reproducers of earlier findings must not fail any more
    regress=$(find "$fuzzdir/crashes/$t" -type f 2>/dev/null | sort || true)
    if [ -n "$regress" ]; then
        # shellcheck disable=SC2086
        if ! "$bin" -error_exitcode=99 $regress >"$work/$t/regress.log" 2>&1; then
            echo "FAIL fuzz/$t: a committed reproducer (test/fuzz/crashes/$t) still fails"
            awk '/^Running: /{f=$2} /ERROR: |runtime error|ivm-fuzz: check failed/ && !shown {print "reproducer: " f; shown=1} ' \
                "$work/$t/regress.log"
            report "$t" "$work/$t/regress.log" "$work/$t/art"
            failed=1
            continue
        fi
    fi

    # 2. fuzz for a bounded time
    t0=$(date +%s)
    rc=0
    "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -dict="$fuzzdir/ivm.dict" \
        -error_exitcode=99 -timeout_exitcode=98 -print_final_stats=1 \
        -artifact_prefix="$work/$t/art/" "$work/$t/corpus" >"$work/$t/fuzz.log" 2>&1 || rc=$?
    t1=$(date +%s)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t/fuzz.log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$work/$t/fuzz.log" | tail -n 1 || true)
    total_execs=$((total_execs + ${execs:-0}))
    if [ "$rc" -ne 0 ] || ls "$work/$t/art/" | grep -q .; then
        echo "FAIL fuzz/$t ($((t1 - t0)) s, exit $rc, ${execs:-?} executions)"
        report "$t" "$work/$t/fuzz.log" "$work/$t/art"
        failed=1
    else
        echo "PASS fuzz/$t ($((t1 - t0)) s, ${execs:-?} executions, ${cov:-no coverage line})"
    fi
done

echo "fuzz step: $total_execs executions in $(( $(date +%s) - t_start )) s (build $((t_built - t_start)) s)"
[ "$failed" -eq 0 ] || { echo "FAIL: the fuzz step found problems (see above)"; exit 1; }
echo "PASS: no findings"
