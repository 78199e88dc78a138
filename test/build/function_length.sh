#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Function length check: no C function of the tree (components, ivmctl,
# tests, fuzz harnesses, benchmarks) spans more than IVM_MAX_FUNCTION_LINES
# lines (default 80), signature and braces included, as Universal Ctags
# measures it (its line: and end: fields).  A function that long should
# be split into named steps; data belongs in tables, not in code.  (The
# shell scripts' functions are checked by test/integration/shell_style.sh.)
#
# Files: git's list in a checkout, else every *.c/*.h under the tree.
# Exit 0 pass, 1 fail (each long function named), 77 skip (no ctags).
#
# ivm-deps: universal-ctags
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
max=${IVM_MAX_FUNCTION_LINES:-80}
version=$(ctags --version 2>/dev/null || true)
[[ $version == *"Universal Ctags"* ]] || { echo "SKIP: Universal Ctags is not installed"; exit 77; }

files=()
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r f; do files+=("$f"); done < <(git ls-files '*.c' '*.h')
else
    while IFS= read -r f; do files+=("${f#./}"); done < <(find . -name '*.[ch]' -not -path './test/fuzz/corpus/*' | sort)
fi
[ ${#files[@]} -gt 0 ] || { echo "FAIL: no C files found under $src"; exit 1; }

# one line per function: LINES FILE:LINE NAME
lengths=$(ctags --c-kinds=f --fields=+ne -o - "${files[@]}" 2>/dev/null | awk -F'\t' '
    { ln = 0; en = 0
      for (i = 4; i <= NF; i++) {
          if ($i ~ /^line:/) ln = substr($i, 6)
          if ($i ~ /^end:/) en = substr($i, 5)
      }
      if (ln > 0 && en >= ln) print en - ln + 1, $2 ":" ln, $1 }')
n=$(printf '%s\n' "$lengths" | grep -c . || true)
[ "$n" -gt 0 ] || { echo "FAIL: ctags found no functions"; exit 1; }
long=$(printf '%s\n' "$lengths" | awk -v m="$max" '$1 > m' | sort -rn)
if [ -n "$long" ]; then
    printf '%s\n' "$long" | sed 's/^/  /'
    echo "FAIL: $(printf '%s\n' "$long" | wc -l) C functions over $max lines (split them into named steps)"
    exit 1
fi
top=$(printf '%s\n' "$lengths" | awk '$1 > m { m = $1; t = $0 } END { print t }')
echo "PASS: $n C functions in ${#files[@]} files, none over $max lines (longest: $top)"
