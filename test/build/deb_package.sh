#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Debian package test: builds openmpi-ivm with dpkg-buildpackage from a
# copy of this tree, runs lintian on it, replaces the "make install" copy
# of ivm in the system's Open MPI by the package (dpkg -i), checks that
# ompi_info lists the components with ivm's own version and runs the demo
# (contrib/ivm-demo) with them, removes the package (dpkg -r) and checks
# that no file of it, and nothing of ivm, is left.  Then it puts the
# "make install" copy back (make -C $IVM_BUILD_DIR install), also when it
# fails half-way, so the tests after it still find the components.
#
# It replaces the system-wide components: run it alone (the heavy lock).
# The unit tests are not run again inside the package build
# (DEB_BUILD_OPTIONS=nocheck): run-tests and build/dist run them.
#
# Environment:
#   IVM_BUILD_DIR       configured standalone build whose "make install"
#                       copy is removed first and restored last
#                       (default /tmp/ivm-build; run-tests sets it)
#   IVM_DEB_DIR         scratch directory (default /tmp/ivm-deb)
#   IVM_TEST_BUILDDIR   where the demo builds its MPI programs
#
# Exit 0 pass, 77 skip (not root, not Debian, no Open MPI, tools missing
# and not installable), anything else fail.
#
# ivm-timeout: 900
# ivm-deps: dpkg-dev debhelper lintian autoconf automake libtool perl libopenmpi-dev openmpi-bin
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
builddir=${IVM_BUILD_DIR:-/tmp/ivm-build}
work=${IVM_DEB_DIR:-/tmp/ivm-deb}
pkg=openmpi-ivm

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
t_start=$(date +%s)
phase() { echo "=== [$(( $(date +%s) - t_start ))s] $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i / -r)"
command -v dpkg-query >/dev/null || skip "not a Debian system"
command -v ompi_info >/dev/null || skip "no Open MPI (ompi_info)"

# --- tools ---------------------------------------------------------------
missing=
for t in dpkg-buildpackage:dpkg-dev dh:debhelper lintian:lintian autoreconf:autoconf \
         automake:automake libtoolize:libtool; do
    command -v "${t%%:*}" >/dev/null || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
    phase "installing$missing"
    # shellcheck disable=SC2086 # one word per package
    apt-get install -y --no-install-recommends $missing >/dev/null 2>&1 ||
        skip "cannot install:$missing"
fi

ompi_path() { ompi_info --parsable --path "$1" | sed -n "s/^path:$1://p"; }
ompi_libdir=$(ompi_path libdir)
ompi_pkglibdir=$(ompi_path pkglibdir)
ompi_datadir=$(ompi_path pkgdatadir)
ompi_bindir=$(ompi_path bindir)
ivm_version=$(sed -n 's/^ivm_version=//p' "$src/opal/mca/common/ivm/VERSION")
[ -n "$ivm_version" ] || fail "no ivm_version in opal/mca/common/ivm/VERSION"

# Every ivm file "make install" puts into Open MPI's directories, found by
# name (the package's file list is checked separately).
ivm_files() {
    find "$ompi_pkglibdir" "$ompi_libdir" "$ompi_datadir" -maxdepth 1 \
         \( -name 'mca_*_ivm.*' -o -name 'libmca_common_ivm.*' -o -name 'help-*ivm*.txt' \) 2>/dev/null
    for f in "$ompi_bindir/ivmctl" /usr/share/man/man1/ivmctl.1* \
             /usr/share/bash-completion/completions/ivmctl /etc/bash_completion.d/ivmctl \
             /lib/udev/rules.d/99-ivm-ivshmem.rules /usr/lib/udev/rules.d/99-ivm-ivshmem.rules; do
        [ -e "$f" ] || [ -L "$f" ] && echo "$f"
    done
    return 0
}
ompi_ivm() { ompi_info 2>/dev/null | grep -E 'MCA [a-z]+: ivm ' || true; }

# --- put the "make install" copy back however this ends ------------------
restored=0
restore() {
    [ "$restored" = 1 ] && return 0
    restored=1
    if dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -q installed; then
        dpkg -r "$pkg" >/dev/null 2>&1 || true
    fi
    if [ -f "$builddir/Makefile" ]; then
        phase "restoring the make install copy (make -C $builddir install)"
        make -C "$builddir" install >"$work/restore.log" 2>&1 ||
            { tail -n 20 "$work/restore.log"; echo "FAIL: make -C $builddir install"; return 1; }
    fi
}
trap 'restore || exit 1' EXIT

mkdir -p "$work"
rm -rf "$work/src" "$work"/${pkg}_* "$work"/${pkg}-dbgsym_*

# --- 1. remove the make install copy -------------------------------------
phase "removing the make install copy of ivm"
if dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null | grep -q installed; then
    dpkg -r "$pkg" >/dev/null
fi
if [ -f "$builddir/Makefile" ]; then
    make -C "$builddir" uninstall >"$work/uninstall.log" 2>&1 ||
        { tail -n 20 "$work/uninstall.log"; fail "make -C $builddir uninstall"; }
fi
# what another build installed under other names goes too
ivm_files | while read -r f; do
    dpkg-query -S "$f" >/dev/null 2>&1 || rm -f "$f"
done
left=$(ivm_files)
[ -z "$left" ] || fail "ivm files left after uninstalling: $left"
[ -z "$(ompi_ivm)" ] || fail "ompi_info still lists ivm: $(ompi_ivm)"

# --- 2. build the package from a clean copy ------------------------------
phase "copying the tree to $work/src"
mkdir -p "$work/src"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$src" && git ls-files -co --exclude-standard -z | tar --null -cf - -T -) | tar -xf - -C "$work/src"
else
    (cd "$src" && tar -cf - --exclude=./debian/build --exclude=./debian/$pkg --exclude=./debian/.debhelper .) |
        tar -xf - -C "$work/src"
fi
phase "dpkg-buildpackage -b -us -uc"
t0=$(date +%s)
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" dpkg-buildpackage -b -us -uc) \
    >"$work/build.log" 2>&1 || { tail -n 60 "$work/build.log"; fail "dpkg-buildpackage (log: $work/build.log)"; }
echo "built in $(( $(date +%s) - t0 ))s"
deb=$(ls "$work"/${pkg}_"$ivm_version"-*_*.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no ${pkg}_${ivm_version}-*.deb in $work (version mismatch?)"
changes=$(ls "$work"/${pkg}_"$ivm_version"-*_*.changes | head -n 1)

# --- 3. lintian -----------------------------------------------------------
phase "lintian $(basename "$changes")"
lintian --pedantic -I "$changes" >"$work/lintian.log" 2>&1 || true
cat "$work/lintian.log"
# The man page comes with ivmctl's own work (doc/ivmctl.1); until the tree
# has it, its absence is the one tag allowed.
allow='^$'
[ -f "$src/doc/ivmctl.1" ] || allow='no-manual-page \[usr/bin/ivmctl\]'
bad=$(grep -E '^[EW]: ' "$work/lintian.log" | grep -Ev "$allow" || true)
[ -z "$bad" ] || fail "lintian errors/warnings (fix, or explain in debian/$pkg.lintian-overrides): $bad"
grep -q '^[EW]: ' "$work/lintian.log" && echo "NOTE: allowed while doc/ivmctl.1 is missing: $allow"

# --- 4. what the package holds --------------------------------------------
phase "checking $(basename "$deb")"
dpkg-deb -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' >"$work/contents"
for f in "$ompi_pkglibdir"/mca_btl_ivm.so "$ompi_pkglibdir"/mca_mpool_ivm.so \
         "$ompi_pkglibdir"/mca_coll_ivm.so "$ompi_libdir"/libmca_common_ivm.so.0 \
         "$ompi_datadir"/help-btl-ivm.txt "$ompi_datadir"/help-mpool-ivm.txt \
         "$ompi_datadir"/help-mpi-coll-ivm.txt "$ompi_datadir"/help-mpi-common-ivm.txt \
         "$ompi_bindir"/ivmctl /lib/udev/rules.d/99-ivm-ivshmem.rules \
         /usr/share/doc/$pkg/README.Debian /usr/share/doc/$pkg/copyright \
         /usr/share/doc/$pkg/examples/libvirt-ivshmem.xml \
         /usr/share/doc/$pkg/examples/qemu-ivshmem.txt \
         /usr/share/doc/$pkg/examples/openmpi-mca-params.conf; do
    grep -qxF "$f" "$work/contents" || fail "$f is not in the package"
done
if [ -f "$src/doc/ivmctl.1" ]; then
    grep -q '/usr/share/man/man1/ivmctl\.1\.gz$' "$work/contents" || fail "the ivmctl man page is not in the package"
fi
if [ -f "$src/contrib/admin/ivmctl.bash-completion" ]; then
    grep -q '/bash-completion/completions/ivmctl$' "$work/contents" || fail "ivmctl's bash completion is not in the package"
fi
grep -E '\.la$' "$work/contents" && fail "libtool archives in the package"
# pinned to the Open MPI build it was compiled against
pal=$(realpath "$ompi_libdir/libopen-pal.so")
ompi_pkg=$(dpkg-query -S "$pal" | sed -n '1s/:.*//p')
ompi_ver=$(dpkg-query -W -f='${Version}' "$ompi_pkg")
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
case ", $depends," in
    *", $ompi_pkg (= $ompi_ver),"*) ;;
    *) fail "Depends does not pin $ompi_pkg (= $ompi_ver)" ;;
esac

# --- 5. install, ompi_info, ivmctl, the demo ------------------------------
phase "dpkg -i $(basename "$deb")"
dpkg -i "$deb" >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "dpkg -i"; }
# the package's files (not the directories, most shared with others)
dpkg-query -L "$pkg" | sed '/^\/\.$/d' | while read -r f; do
    [ -d "$f" ] || echo "$f"   # (/lib is a symlink to a directory here)
done | sort >"$work/files"
[ "$(dpkg-query -W -f='${Version}' "$pkg")" = "$(dpkg-deb -f "$deb" Version)" ] || fail "dpkg -s version"
ompi_ivm
for fw in btl mpool coll osc; do
    ompi_ivm | grep -q "MCA $fw: ivm (.*Component v$ivm_version)" ||
        fail "ompi_info does not list $fw/ivm with ivm's version $ivm_version"
done
if "$ompi_bindir/ivmctl" --version >"$work/ivmctl-version" 2>&1; then
    cat "$work/ivmctl-version"
    grep -qF "$ivm_version" "$work/ivmctl-version" || fail "ivmctl --version does not say $ivm_version"
elif grep -q -- '--version' "$src/opal/mca/common/ivm/ivmctl.c"; then
    fail "ivmctl --version failed"
fi

phase "contrib/ivm-demo with the package's components"
"$src/contrib/ivm-demo" >"$work/demo.log" 2>&1 </dev/null || { cat "$work/demo.log"; fail "contrib/ivm-demo"; }
cat "$work/demo.log"
# every pair of ranks in different VMs goes over ivm (2 VMs x 2 ranks: 4)
cross=$(grep -Ec '^rank [0-9]+ \(vm0\) <-> rank [0-9]+ \(vm1\): ivm$' "$work/demo.log" || true)
[ "$cross" = 4 ] || fail "the demo shows $cross of 4 cross-VM pairs over ivm"

# --- 6. remove: nothing may be left -----------------------------------------
phase "dpkg -r $pkg"
dpkg -r "$pkg" >"$work/remove.log" 2>&1 || { cat "$work/remove.log"; fail "dpkg -r"; }
status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || echo not-installed)
[ "$status" = not-installed ] || fail "after dpkg -r the package is '$status' (conffiles left?)"
left=
while read -r f; do
    { [ -e "$f" ] || [ -L "$f" ]; } && left="$left $f"
done <"$work/files"
# and the directories that are the package's alone
for d in /usr/share/doc/$pkg /usr/share/lintian/overrides/$pkg; do
    [ -e "$d" ] && left="$left $d"
done
[ -z "$left" ] || fail "left after dpkg -r:$left"
[ -z "$(ivm_files)" ] || fail "ivm files left after dpkg -r: $(ivm_files)"
[ -z "$(ompi_ivm)" ] || fail "ompi_info still lists ivm after dpkg -r"
echo "none of the package's $(wc -l <"$work/files") files is left"

# --- 7. the make install copy again ----------------------------------------
restore
trap - EXIT
if [ -f "$builddir/Makefile" ]; then
    [ -n "$(ompi_ivm)" ] || fail "make -C $builddir install did not bring the components back"
fi
phase "done"
exit 0
