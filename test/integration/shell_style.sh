#!/bin/bash
# Shell style of the project's scripts (test/python/check_shell_style.py):
# no shell function in contrib/ or test/ is longer than 80 lines (the text of
# here-documents does not count), and the two VM harnesses, contrib/ivm-vmsim
# and contrib/ivm-qemu, share no run of 10 or more identical lines with each
# other or with their library contrib/ivm-vm-lib.sh: what they have in common
# lives in the library.  Runs nothing else.
# Exit 0 pass, 77 skip, anything else fail.
#
# Copyright (c) 2026 The ivm authors.  All rights reserved.
# SPDX-License-Identifier: BSD-3-Clause
# ivm-deps: python3
set -eu -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
cd "$TOP"
check() { python3 -B test/python/check_shell_style.py "$@"; }

# The checks themselves must catch what they are for: an 81-line function
# (header and closing brace included; not an 80-line one, nor the text of a
# long here-document), and 10 shared lines (not 9).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
body() { for ((i = 0; i < $1; i++)); do echo "	echo line $i $2"; done; }
{ echo '#!/bin/bash'; echo 'long() {'; body 79 a; echo '}'; } >"$tmp/long.sh"
{ echo '#!/bin/bash'; echo 'ok() {'; body 77 b; printf '\tcat <<EOF\n'; body 50 c; echo EOF; echo '}'; } >"$tmp/ok.sh"
check functions "$tmp/ok.sh" >/dev/null || { echo "FAIL: an 80-line function was reported"; exit 1; }
check functions "$tmp/long.sh" >/dev/null && { echo "FAIL: an 81-line function was not reported"; exit 1; }
{ echo '#!/bin/bash'; body 10 same; } >"$tmp/a.sh"
{ echo '#!/bin/bash'; echo 'echo other'; body 10 same; } >"$tmp/b.sh"
{ echo '#!/bin/bash'; body 9 same; } >"$tmp/c.sh"
check duplicates "$tmp/a.sh" "$tmp/b.sh" >/dev/null && { echo "FAIL: 10 shared lines were not reported"; exit 1; }
check duplicates "$tmp/a.sh" "$tmp/c.sh" >/dev/null || { echo "FAIL: 9 shared lines were reported"; exit 1; }

rc=0
check functions --max-lines 80 contrib test || rc=1
check duplicates --min-run 10 \
	contrib/ivm-vmsim contrib/ivm-qemu contrib/ivm-vm-lib.sh || rc=1
exit $rc
