#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Licence check: LICENSE is the BSD-3-Clause text, and every source file
# of the tree carries "SPDX-License-Identifier: BSD-3-Clause" in its
# header (its first 40 lines).
#
# Source files: C sources and headers, shell, Python and Perl scripts,
# Makefile.am/Makefile, configure.ac and *.m4, Open MPI help files
# (help-*.txt), debian/rules, and every executable file.  Not checked:
# data (fuzzing corpus and crash inputs, benchmark results), the
# examples of contrib/admin/ (XML, udev, QEMU notes: covered by
# LICENSE and debian/copyright), documentation.
#
# The list is git's (tracked files) in a checkout, else every file under
# the tree except what autotools generate (a release tarball).
#
# Exit 0 pass, 1 fail (each offending file named).
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
cd "$src"
tag='SPDX-License-Identifier: BSD-3-Clause'
fail=0

# LICENSE: BSD-3-Clause, the ivm authors
if [ ! -f LICENSE ]; then
    echo "FAIL: no LICENSE file"
    fail=1
else
    for phrase in 'Copyright (c) [0-9-]* The ivm authors' \
                  'Neither the name of the copyright holder nor the names of its' \
                  "$tag"; do
        grep -q "$phrase" LICENSE || { echo "FAIL: LICENSE lacks '$phrase'"; fail=1; }
    done
fi
if [ -f debian/copyright ] && ! grep -q '^License: BSD-3-Clause' debian/copyright; then
    echo "FAIL: debian/copyright does not name BSD-3-Clause"
    fail=1
fi

# "MODE PATH" lines: from git in a checkout, else from find
list_files() {
    if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        git ls-files -s | awk -F '\t' '{ split($1, m, " "); print m[1] " " $2 }'
    else
        find . -type f ! -path './.git/*' ! -path './autom4te.cache/*' \
             ! -path './config/m4/*' ! -path './config/build-aux/*' \
             ! -name aclocal.m4 ! -name configure ! -name 'Makefile.in' \
             ! -path './config/ivm_components.m4' ! -path './debian/.debhelper/*' \
             -printf '%m %P\n' | awk '{ print ($1 ~ /[1357]$/ ? "100755" : "100644") " " $2 }'
    fi
}

is_source() {   # is_source MODE PATH
    case "$2" in
        test/fuzz/corpus/*|test/fuzz/crashes/*|bench/results/*|contrib/admin/*) return 1 ;;
        *.c|*.h|*.sh|*.py|*.pl|*.m4|*.am|*.ac|*/Makefile|Makefile|*/help-*.txt|debian/rules) return 0 ;;
    esac
    [ "$1" = 100755 ]
}

checked=0
missing=0
while read -r mode path; do
    is_source "$mode" "$path" || continue
    [ -L "$path" ] && continue
    checked=$((checked + 1))
    if ! head -n 40 "$path" | grep -qF "$tag"; then
        echo "FAIL: $path: no '$tag' in its header"
        missing=$((missing + 1))
    fi
done < <(list_files)

echo "$checked source files checked, $missing without the SPDX line"
[ "$checked" -gt 0 ] || { echo "FAIL: no source file found"; fail=1; }
[ "$missing" -eq 0 ] || fail=1
exit "$fail"
