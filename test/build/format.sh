#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Formatting check: every C source and header of the tree is formatted as
# .clang-format says (100 columns, 4-space indent, function braces on
# their own line, Open MPI's layout), checked with
# `clang-format --dry-run -Werror`.  To fix what it reports, run
#
#   git ls-files '*.c' '*.h' | xargs clang-format -i
#
# Files: git's list in a checkout, else every *.c/*.h under the tree
# (a release tarball).  Not checked: the fuzzing corpus (data).
#
# Exit 0 pass, 1 fail (the first offending lines shown), 77 skip (no
# clang-format).
#
# ivm-deps: clang-format
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
command -v clang-format >/dev/null || { echo "SKIP: clang-format is not installed"; exit 77; }
[ -f .clang-format ] || { echo "FAIL: no .clang-format at the top of the tree"; exit 1; }

files=()
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.c' '*.h')
else
    while IFS= read -r f; do files+=("${f#./}"); done < <(find . -name '*.[ch]' -not -path './test/fuzz/corpus/*' | sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C files found under $src"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! clang-format --dry-run -Werror "${files[@]}" >"$out" 2>&1; then
    bad=$(grep -oE '^[^:]+\.[ch]:' "$out" | sort -u | tr -d ':' | paste -sd' ')
    head -n 30 "$out"
    echo "FAIL: not formatted as .clang-format says: $bad"
    echo "      (fix: git ls-files '*.c' '*.h' | xargs clang-format -i)"
    exit 1
fi
echo "PASS: ${#files[@]} C files formatted as .clang-format says ($(clang-format --version | sed 's/.*version //'))"
