#!/bin/bash
# ivmctl as an admin uses it: clear messages and distinct non-zero exit codes
# for a missing file, a too small device, a wrong magic and a version
# mismatch; format, info (text and JSON), clean.
# Exit 0 pass, 77 skip, anything else fail.
set -eu

IVMCTL=${IVMCTL:-$(command -v ivmctl || true)}
[ -n "$IVMCTL" ] || { echo "SKIP: ivmctl not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }

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
expect 2 "usage" -- "$IVMCTL" frobnicate "$dev"
expect 0 "Usage: ivmctl" -- "$IVMCTL" --help
echo "ivmctl_cli: ok"
