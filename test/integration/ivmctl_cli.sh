#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivmctl as an admin uses it: clear messages and distinct non-zero exit codes
# for a missing file, a too small device, a wrong magic and a version
# mismatch; format, info (text and JSON), clean; time fields in the region
# that no calendar shows (issue 10, defect 3).
# Exit 0 pass, 77 skip, anything else fail.
set -eu

IVMCTL=${IVMCTL:-$(command -v ivmctl || true)}
[ -n "$IVMCTL" ] || { echo "SKIP: ivmctl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
CC=${CC:-cc}
command -v "$CC" >/dev/null || { echo "SKIP: no C compiler ($CC)"; exit 77; }
core=$(cd "$(dirname "$0")/../../opal/mca/common/ivm" && pwd)

dir=$(mktemp -d /tmp/ivmctl-test.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# expect CODE PATTERN -- CMD...: exit code and a message matching PATTERN
expect() {
    local want=$1 pattern=$2 rc=0
    shift 3
    "$@" >"$dir/out" 2>&1 || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$dir/out"; fail "'$*' exited $rc, expected $want"; }
    grep -qiE "$pattern" "$dir/out" || { cat "$dir/out"; fail "'$*' did not say /$pattern/"; }
}

dev=$dir/ivshmem
expect 3 "no such file" -- "$IVMCTL" info "$dev"
truncate -s 512K "$dev"
expect 4 "too small|minimum" -- "$IVMCTL" info "$dev"
truncate -s 32M "$dev"
expect 5 "zeroed|not formatted" -- "$IVMCTL" info "$dev"
printf 'garbage!' | dd of="$dev" conv=notrunc status=none
expect 5 "neither zeroed nor an ivm region" -- "$IVMCTL" info "$dev"
expect 0 "formatted .* region id" -- "$IVMCTL" format --jobs 8 --slots 64 "$dev"
expect 0 "region id" -- "$IVMCTL" info "$dev"

"$IVMCTL" --json info "$dev" >"$dir/info.json"
python3 - "$dir/info.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
sb = d["superblock"]
assert sb["version"] == 1 and sb["job_count"] == 8 and sb["slot_count"] == 64, sb
assert sb["region_size"] == 32 << 20 and len(sb["region_id"]) == 32, sb
assert d["usage"]["jobs_active"] == 0 and d["jobs"] == [] and d["slots"] == [], d
assert d["usage"]["heap_free"] == sb["heap_size"], d
PY

# a new format gives a new region id
id1=$("$IVMCTL" --json info "$dev" | python3 -c 'import json,sys; print(json.load(sys.stdin)["superblock"]["region_id"])')
"$IVMCTL" format "$dev" >/dev/null
id2=$("$IVMCTL" --json info "$dev" | python3 -c 'import json,sys; print(json.load(sys.stdin)["superblock"]["region_id"])')
[ "$id1" != "$id2" ] || fail "reformat kept the region id"

# version mismatch: bump the version field (offset 8) and re-sign nothing:
# the version is checked before the checksum
printf '\x07' | dd of="$dev" bs=1 seek=8 conv=notrunc status=none
expect 6 "version 7" -- "$IVMCTL" info "$dev"
expect 0 "formatted" -- "$IVMCTL" format "$dev"
# corruption of a checksummed field
printf '\xff' | dd of="$dev" bs=1 seek=40 conv=notrunc status=none
expect 7 "checksum" -- "$IVMCTL" info "$dev"

# --size creates a host file; clean on an idle region frees nothing
expect 0 "formatted" -- "$IVMCTL" format --size 16M "$dir/new"
[ "$(stat -c %s "$dir/new")" -eq $((16 << 20)) ] || fail "--size did not size the file"
expect 0 "freed 0 process slots and 0 jobs" -- "$IVMCTL" clean "$dir/new"
"$IVMCTL" --json clean "$dir/new" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["slots_freed"]==0, d'

# Times a peer wrote that gmtime_r rejects or that are no time_t at all:
# ivmctl once printed such a field from a buffer it had never terminated.
# A helper built from the core itself creates a real job (its process then
# exits, the job stays) and names the byte offsets of the two time fields,
# so that dd overwrites exactly those bytes; afterwards it re-signs the
# superblock (format_time is checksummed), as a peer writing garbage with a
# valid checksum would.
cat >"$dir/times.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "common_ivm_core.h"

int main(int argc, char **argv)
{
    ivm_region_t r;
    if (3 != argc || IVM_OK != ivm_region_open(&r, argv[2], false)) {
        fprintf(stderr, "times: cannot open %s\n", argc > 2 ? argv[2] : "?");
        return 1;
    }
    if (0 == strcmp(argv[1], "join")) {
        if (IVM_OK != ivm_region_validate(&r)) {
            fprintf(stderr, "times: %s\n", r.errmsg);
            return 1;
        }
        ivm_join_opts_t o = {.label = "bad-times", .part_size = 1u << 20,
                             .lock_timeout_ms = 5000};
        ivm_member_t m;
        ivm_job_key_make(o.key, "bad-times", "ivmctl_cli");
        if (IVM_OK != ivm_job_join(&r, &o, &m)) {
            fprintf(stderr, "times: join: %s\n", r.errmsg);
            return 1;
        }
        printf("%zu %llu\n", offsetof(struct ivm_superblock, format_time),
               (unsigned long long) (r.layout.job_table_off
                                     + (uint64_t) m.job * sizeof(struct ivm_job_entry)
                                     + offsetof(struct ivm_job_entry, create_time)));
    } else if (0 == strcmp(argv[1], "resign")) {
        ivm_sb(&r)->header_crc = ivm_superblock_crc(ivm_sb(&r));
    } else {
        fprintf(stderr, "times: join|resign DEVICE\n");
        return 1;
    }
    ivm_region_close(&r);
    return 0;
}
EOF
# the core is every common_ivm_*.c (common_ivm.c is the Open MPI glue)
"$CC" -std=gnu11 -pthread -I"$core" -o "$dir/times" "$dir/times.c" "$core"/common_ivm_*.c \
    || fail "cannot build the time-field helper"
expect 0 "formatted" -- "$IVMCTL" format --jobs 8 --slots 64 "$dev"
read -r sb_off job_off < <("$dir/times" join "$dev")
[ -n "$job_off" ] || fail "the time-field helper found no job"

# only printable ASCII and newlines: no byte from beyond a string's end
printable() {
    python3 -c 'import re, sys
sys.exit(re.search(rb"[^\n\x20-\x7e]", open(sys.argv[1], "rb").read()) is not None)' "$1"
}

# 64-bit values, written little-endian: UINT64_MAX (no time_t at all),
# INT64_MAX and INT64_MIN as a time_t (years beyond an int: gmtime_r fails)
for v in ffffffffffffffff 7fffffffffffffff 8000000000000000; do
    le=$(printf '%s\n' "$v" | fold -w2 | tac | sed 's/^/\\x/' | tr -d '\n')
    for off in "$sb_off" "$job_off"; do
        printf '%b' "$le" | dd of="$dev" bs=1 seek="$off" conv=notrunc status=none
    done
    "$dir/times" resign "$dev"
    want="invalid($(python3 -c "print(int('$v', 16))"))"

    rc=0
    "$IVMCTL" info "$dev" >"$dir/out" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$dir/out"; fail "info with time 0x$v exited $rc"; }
    printable "$dir/out" || { od -c "$dir/out" | tail -n 20; fail "info with time 0x$v: garbage"; }
    grep -qF "formatted $want" "$dir/out" ||
        { cat "$dir/out"; fail "info did not show format time 0x$v as $want"; }
    grep -qF "created $want" "$dir/out" ||
        { cat "$dir/out"; fail "info did not show create time 0x$v as $want"; }

    rc=0
    "$IVMCTL" --json info "$dev" >"$dir/info.json" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$dir/info.json"; fail "info --json with time 0x$v exited $rc"; }
    printable "$dir/info.json" ||
        { od -c "$dir/info.json" | tail -n 20; fail "info --json with time 0x$v: garbage"; }
    python3 - "$dir/info.json" "$want" <<'PY' || { cat "$dir/info.json"; fail "info --json, 0x$v"; }
import json, sys
d = json.load(open(sys.argv[1]))
want = sys.argv[2]
assert d["superblock"]["format_time"] == want, d["superblock"]
assert [j["created"] for j in d["jobs"]] == [want], d["jobs"]
PY
done

expect 2 "usage" -- "$IVMCTL" frobnicate "$dev"
expect 0 "Usage: ivmctl" -- "$IVMCTL" --help
echo "ivmctl_cli: ok"
