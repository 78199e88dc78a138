#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivmctl as an admin uses it: clear messages and a distinct exit code for
# every failure (missing file, too small, zeroed, wrong magic, version
# mismatch, corruption, busy, permission denied, job not active, lock held,
# I/O error, usage); format, info (text and JSON), clean; numbers with
# overflow and range checks; --version; JSON errors; file names, labels and
# host names with quotes, backslashes, control characters and non-UTF-8
# bytes in --json output; devices/probe on a fake sysfs tree; time fields in
# the region that no calendar shows (issue 10, defect 3).  Issue 12.
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
    grep -qiE -e "$pattern" "$dir/out" || { cat "$dir/out"; fail "'$*' did not say /$pattern/"; }
}

dev=$dir/ivshmem
expect 3 "no such file" -- "$IVMCTL" info "$dev"
truncate -s 512K "$dev"
expect 4 "too small|minimum" -- "$IVMCTL" info "$dev"
truncate -s 32M "$dev"
expect 10 "zeroed|not formatted" -- "$IVMCTL" info "$dev"
expect 10 "zeroed|not formatted" -- "$IVMCTL" clean "$dev"
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
# corruption of a checksummed field: format_time's low byte, inverted (a
# constant byte is already there 1 time in 256: 0xff at 11:54:39 today)
b=$(od -An -tu1 -j40 -N1 "$dev" | tr -d ' ')
printf "\\$(printf '%03o' $((b ^ 0xff)))" | dd of="$dev" bs=1 seek=40 conv=notrunc status=none
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
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "common_ivm_core.h"

/* hold/lock: stay attached (or hold the region lock) until killed, after
 * writing "ready" to the file argv[3] */
static int stay(const char *ready)
{
    FILE *f = fopen(ready, "w");
    if (NULL == f) {
        return 1;
    }
    fputs("ready\n", f);
    fclose(f);
    for (;;) {
        pause();
    }
}

int main(int argc, char **argv)
{
    ivm_region_t r;
    if (argc < 3 || IVM_OK != ivm_region_open(&r, argv[2], false)) {
        fprintf(stderr, "times: cannot open %s\n", argc > 2 ? argv[2] : "?");
        return 1;
    }
    if (0 == strcmp(argv[1], "join") || (0 == strcmp(argv[1], "hold") && 4 == argc)) {
        const bool hold = 'h' == argv[1][0];
        if (IVM_OK != ivm_region_validate(&r)) {
            fprintf(stderr, "times: %s\n", r.errmsg);
            return 1;
        }
        /* hold: a label and a host name as hostile as a peer can write */
        ivm_join_opts_t o = {.label = hold ? "q\"b\\s\n\x01\x1f\x7f\xff\xfe" : "bad-times",
                             .host = hold ? "h\"o\\st\t\xc3\xa9\xed\xa0\x80" : NULL,
                             .part_size = 1u << 20, .lock_timeout_ms = 5000};
        ivm_member_t m;
        ivm_job_key_make(o.key, argv[1], "ivmctl_cli");
        if (IVM_OK != ivm_job_join(&r, &o, &m)) {
            fprintf(stderr, "times: join: %s\n", r.errmsg);
            return 1;
        }
        if (hold) {
            return stay(argv[3]);
        }
        printf("%zu %llu\n", offsetof(struct ivm_superblock, format_time),
               (unsigned long long) (r.layout.job_table_off
                                     + (uint64_t) m.job * sizeof(struct ivm_job_entry)
                                     + offsetof(struct ivm_job_entry, create_time)));
    } else if (0 == strcmp(argv[1], "lock") && 4 == argc) {
        uint64_t token;
        if (IVM_OK != ivm_region_validate(&r) || IVM_OK != ivm_lock_acquire(&r, 5000, &token)) {
            fprintf(stderr, "times: lock: %s\n", r.errmsg);
            return 1;
        }
        return stay(argv[3]);
    } else if (0 == strcmp(argv[1], "resign")) {
        ivm_sb(&r)->header_crc = ivm_superblock_crc(ivm_sb(&r));
    } else {
        fprintf(stderr, "times: join|resign DEVICE, hold|lock DEVICE READYFILE\n");
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

# ---- issue 12: exit codes, numbers, JSON errors, hostile strings, devices ----

# a JSON document on stdout (python3 -m json.tool parses it)
json_ok() { python3 -m json.tool "$1" >/dev/null || { cat "$1"; fail "$2: not JSON"; }; }

# expect_json CODE -- CMD...: exit CODE, and stdout is {"error":{"code":CODE,...}}
# (text on stderr) -- or, for CODE 0, any JSON document
expect_json() {
    local want=$1 rc=0
    shift 2
    "$@" >"$dir/j.out" 2>"$dir/j.err" || rc=$?
    [ "$rc" -eq "$want" ] || { cat "$dir/j.out" "$dir/j.err"; fail "'$*' exited $rc, expected $want"; }
    json_ok "$dir/j.out" "$*"
    [ "$want" -eq 0 ] && return 0
    python3 - "$dir/j.out" "$want" <<'PY' || { cat "$dir/j.out"; fail "'$*': no error object"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"error"} and d["error"]["code"] == int(sys.argv[2]), d
assert isinstance(d["error"]["message"], str) and d["error"]["message"], d
PY
    grep -q "^ivmctl: " "$dir/j.err" || { cat "$dir/j.err"; fail "'$*': no message on stderr"; }
}

# --version: the VERSION file's
want_version=$(sed -n 's/^ivm_version=//p' "$core/VERSION")
expect 0 "^ivmctl \(ivm\) $want_version\$" -- "$IVMCTL" --version
"$IVMCTL" --json --version | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["ivmctl"]==sys.argv[1] and d["region_format_version"]==1, d' "$want_version" ||
    fail "ivmctl --json --version"

# usage errors say what was wrong, then the synopsis; no file is created
expect_usage() {
    expect 2 "$@"
    head -n 1 "$dir/out" | grep -qE -e "^ivmctl: usage: .*$1" ||
        { cat "$dir/out"; fail "'${*:3}': the first line does not say what was wrong"; }
    grep -q "^Usage: ivmctl" "$dir/out" || { cat "$dir/out"; fail "'${*:3}': no synopsis"; }
}
expect_usage "--size '17179869185G': too large" -- "$IVMCTL" format --size 17179869185G "$dir/huge"
[ ! -e "$dir/huge" ] || fail "--size 17179869185G created a file"
expect_usage "--size '18446744073709551616': too large" -- "$IVMCTL" format --size 18446744073709551616 "$dir/huge"
expect_usage "--size '16777217M': out of range \(1M to 16T\)" -- "$IVMCTL" format --size 16777217M "$dir/huge"
expect_usage "--size '512K': out of range" -- "$IVMCTL" format --size 512K "$dir/huge"
expect_usage "--size '-1': not a number" -- "$IVMCTL" format --size -1 "$dir/huge"
expect_usage "--size '1X': unexpected 'X'" -- "$IVMCTL" format --size 1X "$dir/huge"
expect_usage "--size ' 1M': not a number" -- "$IVMCTL" format --size " 1M" "$dir/huge"
expect_usage "--jobs '0': out of range \(1 to 4096\)" -- "$IVMCTL" format --jobs 0 "$dev"
expect_usage "--slots '65537': out of range" -- "$IVMCTL" format --slots 65537 "$dev"
expect_usage "--job '4096': out of range \(0 to 4095\)" -- "$IVMCTL" clean --job 4096 "$dev"
expect_usage "--jobs '8k': unexpected 'k'" -- "$IVMCTL" format --jobs 8k "$dev"
expect_usage "--lease '604801': out of range" -- "$IVMCTL" info --lease 604801 "$dev"
expect_usage "--lease '4294967296': out of range" -- "$IVMCTL" clean --lease 4294967296 "$dev"
expect_usage "--size does not apply to 'info'" -- "$IVMCTL" info --size 1M "$dev"
expect_usage "--force does not apply to 'devices'" -- "$IVMCTL" devices --force "$dev"
expect_usage "unknown option '--frob'" -- "$IVMCTL" info --frob "$dev"
expect_usage "unknown option '-x'" -- "$IVMCTL" -x info "$dev"
expect_usage "option '--jobs' needs an argument" -- "$IVMCTL" format "$dev" --jobs
expect_usage "unknown command 'frobnicate'" -- "$IVMCTL" frobnicate "$dev"
expect_usage "no command given" -- "$IVMCTL"
expect_usage "takes one DEVICE at most" -- "$IVMCTL" info "$dev" "$dev"
[ ! -e "$dir/huge" ] || fail "a refused --size created a file"
expect_json 2 -- "$IVMCTL" --json format --size 17179869185G "$dir/huge"
expect_json 2 -- "$IVMCTL" info "$dev" --frob --json

# 13 (I/O): the file cannot grow past RLIMIT_FSIZE (SIGXFSZ ignored: EFBIG)
rc=0
(trap '' XFSZ; ulimit -f 1024; exec "$IVMCTL" format --size 16M "$dir/capped") >"$dir/out" 2>&1 || rc=$?
[ "$rc" -eq 13 ] || { cat "$dir/out"; fail "format --size past RLIMIT_FSIZE exited $rc, expected 13"; }
grep -q "I/O error: cannot size" "$dir/out" || { cat "$dir/out"; fail "no I/O error message"; }

# 9 (permission denied), as an unprivileged user
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
    chmod 711 "$dir"
    chmod 600 "$dev"
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$IVMCTL" info "$dev" >"$dir/out" 2>&1 || rc=$?
    [ "$rc" -eq 9 ] || { cat "$dir/out"; fail "info on an unreadable device exited $rc, expected 9"; }
    grep -q "permission denied" "$dir/out" || { cat "$dir/out"; fail "no 'permission denied'"; }
    rc=0
    setpriv --reuid=65534 --regid=65534 --clear-groups "$IVMCTL" --json devices "$dev" >"$dir/perm.json" 2>&1 || rc=$?
    [ "$rc" -eq 0 ] || { cat "$dir/perm.json"; fail "devices on an unreadable device exited $rc"; }
    python3 - "$dir/perm.json" <<'PY' || { cat "$dir/perm.json"; fail "devices: unreadable device"; }
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert d["mode"] == "0600" and d["readable"] is False and d["writable"] is False, d
assert d["region"]["state"] == "no permission" and d["region"]["code"] == 9, d
assert d["mapping"] is None, d
PY
    chmod 700 "$dir"
else
    echo "note: not root or no setpriv: exit code 9 not exercised"
fi

# 11 (job not active), 8 (busy), 12 (lock held): a process that stays attached
expect 0 "formatted" -- "$IVMCTL" format --jobs 8 --slots 64 "$dev"
expect 11 "job 5 is not active" -- "$IVMCTL" clean --job 5 "$dev"
expect_json 11 -- "$IVMCTL" clean --json --job 5 "$dev"
wait_ready() {
    for _ in $(seq 100); do [ -s "$1" ] && return 0; sleep 0.1; done
    fail "the helper never became ready"
}
"$dir/times" hold "$dev" "$dir/held" & holder=$!
trap 'kill $holder 2>/dev/null || true; rm -rf "$dir"' EXIT
wait_ready "$dir/held"
expect 8 "processes .* are attached" -- "$IVMCTL" format "$dev"
expect 8 "alive; not removing it" -- "$IVMCTL" clean --job 0 "$dev"
expect_json 8 -- "$IVMCTL" --json format "$dev"

# the label and host name the helper wrote: quotes, backslashes, control
# characters, bytes that are not UTF-8 (and in the host, a surrogate encoded
# as UTF-8, which is not UTF-8 either)
"$IVMCTL" --json info "$dev" >"$dir/hostile.json"
json_ok "$dir/hostile.json" "info --json with a hostile label"
python3 - "$dir/hostile.json" <<'PY' || { cat "$dir/hostile.json"; fail "label/host not escaped faithfully"; }
import json, os, sys
d = json.load(open(sys.argv[1]))
assert os.fsencode(d["jobs"][0]["label"]) == b'q"b\\s\n\x01\x1f\x7f\xff\xfe', d["jobs"]
assert os.fsencode(d["slots"][0]["host"]) == b'h"o\\st\t\xc3\xa9\xed\xa0\x80', d["slots"]
PY
# text output: the same strings sanitized to printable ASCII
"$IVMCTL" info "$dev" >"$dir/out"
printable "$dir/out" || { od -c "$dir/out" | tail; fail "info: hostile label printed raw"; }
kill "$holder"; wait "$holder" 2>/dev/null || true

"$dir/times" lock "$dev" "$dir/locked" & holder=$!
wait_ready "$dir/locked"
expect 12 "timed out" -- "$IVMCTL" clean "$dev"
kill "$holder"; wait "$holder" 2>/dev/null || true
expect 0 "freed" -- "$IVMCTL" clean --break-lock "$dev"

# file names as hostile as a file system allows
mkdir "$dir/names"
python3 - "$dir/names" <<'PY'
import os, sys
names = [b'quote"d', b'back\\slash', b'new\nline', b'tab\tand\rcr',
         b'ctl\x01\x1b[31m\x7f', b'non-utf8 \xff\xfe\xc0\xaf', b'utf8 \xc3\xa9\xe2\x82\xac',
         b'surrogate \xed\xa0\x80', b'{"json":1}']
d = os.fsencode(sys.argv[1])
for n in names:
    open(os.path.join(d, n), "wb").close()
PY
n=0
while IFS= read -r -d '' f; do
    n=$((n + 1))
    expect_json 0 -- "$IVMCTL" --json format --size 2M "$f"
    python3 - "$dir/j.out" "$f" <<'PY' || { cat "$dir/j.out"; fail "format --json: the file name"; }
import json, os, sys
assert os.fsencode(json.load(open(sys.argv[1]))["formatted"]) == os.fsencode(sys.argv[2])
PY
    expect_json 0 -- "$IVMCTL" --json info "$f"
    expect_json 0 -- "$IVMCTL" --json devices --no-measure "$f"
    python3 - "$dir/j.out" "$f" <<'PY' || { cat "$dir/j.out"; fail "devices --json: the file name"; }
import json, os, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert os.fsencode(d["spec"]) == os.fsencode(d["path"]) == os.fsencode(sys.argv[2]), d
assert d["region"]["state"] == "formatted", d
PY
    expect_json 3 -- "$IVMCTL" --json info "$f.missing"
    python3 - "$dir/j.out" "$f" <<'PY' || { cat "$dir/j.out"; fail "error --json: the file name"; }
import json, os, sys
assert os.fsencode(sys.argv[2]) + b".missing" in os.fsencode(json.load(open(sys.argv[1]))["error"]["message"])
PY
done < <(find "$dir/names" -type f -print0)
[ "$n" -eq 9 ] || fail "only $n hostile names were tried"

# devices on a fake sysfs tree: one ivshmem function (with resource2_wc and
# a driver), one other device; named by PCI address and by resource2 path it
# is listed once
sys=$dir/sys
pdev=$sys/bus/pci/devices/0000:00:04.0
mkdir -p "$pdev" "$sys/bus/pci/devices/0000:00:03.0" "$sys/bus/pci/drivers/uio_pci_generic"
echo 0x1af4 >"$pdev/vendor"; echo 0x1110 >"$pdev/device"
echo 0x8086 >"$sys/bus/pci/devices/0000:00:03.0/vendor"; echo 0x1110 >"$sys/bus/pci/devices/0000:00:03.0/device"
truncate -s 4M "$pdev/resource2"; : >"$pdev/resource2_wc"
ln -s ../../drivers/uio_pci_generic "$pdev/driver"
IVM_SYSFS_ROOT=$sys OMPI_MCA_opal_common_ivm_device=00:04.0,$dir/names/nope \
    "$IVMCTL" --json devices >"$dir/dev.json" || { cat "$dir/dev.json"; fail "devices on the fake sysfs"; }
json_ok "$dir/dev.json" "devices"
python3 - "$dir/dev.json" "$pdev" <<'PY' || { cat "$dir/dev.json"; fail "devices on the fake sysfs"; }
import json, sys
devs = json.load(open(sys.argv[1]))["devices"]
pci = [d for d in devs if d["kind"] == "pci"]
assert len(pci) == 1, devs                        # 00:04.0 and the scan's resource2: once
p = pci[0]
assert p["path"] == sys.argv[2] + "/resource2" and p["size"] == 4 << 20, p
assert p["source"] == "OMPI_MCA_opal_common_ivm_device", p
assert p["pci"] == {"address": "0000:00:04.0", "vendor": "0x1af4", "device": "0x1110",
                    "resource2_wc": True, "driver": "uio_pci_generic"}, p
assert p["region"]["state"] == "not formatted" and p["region"]["code"] == 10, p
m = p["mapping"]
assert m["read_ratio"] > 0 and m["threshold"] == 8 and m["uncached"] == (m["read_ratio"] > 8), p
missing = [d for d in devs if d["spec"].endswith("/nope")]
assert len(missing) == 1 and missing[0]["region"]["state"] == "missing", devs
assert missing[0]["region"]["code"] == 3 and missing[0]["size"] is None, devs
PY
"$IVMCTL" format "$pdev/resource2" >/dev/null
expect 0 "pci: +0000:00:04.0, 1af4:1110, driver uio_pci_generic, resource2_wc present" -- \
    env IVM_SYSFS_ROOT="$sys" "$IVMCTL" probe
grep -q "region: *formatted, version 1" "$dir/out" || { cat "$dir/out"; fail "probe: region state"; }
grep -q "mapping: *reading it takes" "$dir/out" || { cat "$dir/out"; fail "probe: no measurement"; }
# a region of another format version
printf '\x07' | dd of="$pdev/resource2" bs=1 seek=8 conv=notrunc status=none
IVM_SYSFS_ROOT=$sys "$IVMCTL" --json devices --no-measure >"$dir/dev.json"
python3 - "$dir/dev.json" <<'PY' || { cat "$dir/dev.json"; fail "devices: incompatible version"; }
import json, sys
d = json.load(open(sys.argv[1]))["devices"][0]
assert d["region"]["state"] == "incompatible version" and d["region"]["version"] == 7, d
assert d["region"]["code"] == 6 and d["mapping"] is None, d
PY
if [ ! -e /run/ivm/ivshmem ]; then
    expect 3 "no ivshmem PCI device" -- env IVM_SYSFS_ROOT="$dir/empty" "$IVMCTL" devices
    expect_json 3 -- env IVM_SYSFS_ROOT="$dir/empty" "$IVMCTL" --json probe
fi

expect 0 "Usage: ivmctl" -- "$IVMCTL" --help
echo "ivmctl_cli: ok"
