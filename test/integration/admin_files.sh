#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# The admin files are checked, not just shipped (issue 12):
#  1. contrib/admin/*.xml are well-formed (xmllint --noout), and each is valid
#     for libvirt (virt-xml-validate): a whole document against its own
#     schema, a device element (<shmem>) inside a minimal domain against the
#     domain schema.  A broken copy must fail, so the check can fail.
#  2. doc/ivmctl.1 formats without groff warnings, and the exit codes agree
#     everywhere: ivmctl.h, ivmctl --help, the man page and README.md.
#  3. contrib/admin/ivmctl.bash-completion completes commands, options per
#     command and ivshmem PCI addresses under bash-completion.
#  4. make install put the man page and the completion where man and
#     bash-completion look (when ivm is installed).
#  5. every setting of contrib/admin/openmpi-mca-params.conf, commented-out
#     ones included, is read by the installed Open MPI (ompi_info).
# Checked in real QEMU guests by test/integration/qemu_guests.sh instead:
# the QEMU options of contrib/admin/qemu-ivshmem.txt (its guests boot with
# the file's -object and -device lines, only mem-path= changed: steps 1-2)
# and the udev rule contrib/admin/99-ivm-ivshmem.rules (run by udev's daemon
# in a guest: step 8).
# Exit 0 pass, 77 skip, anything else fail.
# ivm-deps: libxml2-utils libvirt-clients bash-completion groff-base python3
set -eu -o pipefail

src=$(cd "$(dirname "$0")/../.." && pwd)
admin=$src/contrib/admin
for t in xmllint virt-xml-validate groff python3; do
    command -v "$t" >/dev/null || { echo "SKIP: $t missing (contrib/ivm-dev deps)"; exit 77; }
done
[ -f /usr/share/bash-completion/bash_completion ] ||
    { echo "SKIP: bash-completion missing (contrib/ivm-dev deps)"; exit 77; }

dir=$(mktemp -d /tmp/ivm-admin-files.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# ---- 1. XML ----
# libvirt_check FILE: validate FILE as libvirt would take it
libvirt_check() {
    local f=$1 root
    root=$(python3 -c 'import sys, xml.etree.ElementTree as E; print(E.parse(sys.argv[1]).getroot().tag)' "$f")
    case "$root" in
        domain|network|pool|volume|nodedev|secret|filter|interface|capabilities)
            virt-xml-validate "$f" ;;
        shmem|disk|hostdev|memory|controller|video|input)
            # a device: what "virsh attach-device" and <devices> take
            python3 - "$f" >"$dir/wrapped.xml" <<'PY'
import sys, xml.etree.ElementTree as E
dev = E.parse(sys.argv[1]).getroot()
dom = E.fromstring("<domain type='kvm'><name>ivm-admin-check</name>"
                   "<memory unit='MiB'>512</memory>"
                   "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
                   "<devices/></domain>")
dom.find("devices").append(dev)
sys.stdout.write(E.tostring(dom, encoding="unicode"))
PY
            virt-xml-validate "$dir/wrapped.xml" domain ;;
        *) echo "$f: root <$root> is no libvirt document or device"; return 1 ;;
    esac
}

n=0
for f in "$admin"/*.xml; do
    [ -e "$f" ] || continue
    n=$((n + 1))
    xmllint --noout "$f" || fail "$f is not well-formed XML"
    libvirt_check "$f" >"$dir/v.log" 2>&1 || { cat "$dir/v.log"; fail "$f is not valid for libvirt"; }
    echo "ok: ${f#"$src"/}: well-formed, valid for libvirt"

    # controls: the same checks must reject a broken copy
    sed 's/ivshmem-plain/ivshmem-bogus/; s/<shmem /<shmem bogus="1" /' "$f" >"$dir/bad.xml"
    if cmp -s "$f" "$dir/bad.xml"; then
        fail "$f: the control could not break it (no <shmem> or model?)"
    fi
    ! libvirt_check "$dir/bad.xml" >/dev/null 2>&1 || fail "a broken copy of $f validated"
    printf '<!-- a -- b -->\n' | cat - "$f" >"$dir/bad.xml"
    ! xmllint --noout "$dir/bad.xml" 2>/dev/null || fail "'--' in a comment went through xmllint"
done
[ "$n" -gt 0 ] || fail "no XML file in $admin"

# ---- 2. man page, and the exit codes everywhere ----
man1=$src/doc/ivmctl.1
LC_ALL=C.UTF-8 groff -t -man -ww -z "$man1" 2>"$dir/groff.log" || { cat "$dir/groff.log"; fail "groff failed on ivmctl.1"; }
[ ! -s "$dir/groff.log" ] || { cat "$dir/groff.log"; fail "groff warns about ivmctl.1"; }
help=""
if command -v ivmctl >/dev/null; then
    help=$dir/help.txt
    ivmctl --help >"$help"
fi
python3 - "$src/opal/mca/common/ivm/ivmctl.h" "$man1" "$src/README.md" "$help" <<'PY' ||
import re, sys
hdr, man, readme, helpf = sys.argv[1:5]
codes = {int(v): n for n, v in re.findall(r"IVMCTL_EXIT_(\w+)\s*=\s*(\d+)", open(hdr).read())}
assert sorted(codes) == list(range(len(codes))), codes
m = open(man).read()
table = m[m.index(".SH EXIT STATUS"):m.index(".TE")]
man_codes = [int(c) for c in re.findall(r"^(\d+)\t", table, re.M)]
assert man_codes == sorted(codes), ("man page", man_codes, sorted(codes))
r = open(readme).read()
readme_codes = [int(c) for c in re.findall(r"^\| (\d+) \| ", r, re.M)]
assert readme_codes == sorted(codes), ("README", readme_codes, sorted(codes))
if helpf:
    h = open(helpf).read()
    h = " ".join(h[h.index("Exit status:"):h.index("See ivmctl(1)")].split())
    help_codes = [int(c) for c in re.findall(r"[:,] (\d+) ", h)]
    assert help_codes == sorted(codes), ("--help", help_codes, sorted(codes))
print("ok: exit codes 0-%d agree in ivmctl.h, ivmctl.1, README.md%s"
      % (max(codes), ", ivmctl --help" if helpf else ""))
PY
    fail "the exit codes disagree"

# ---- 3. bash completion ----
comp=$admin/ivmctl.bash-completion
bash -n "$comp" || fail "$comp: syntax"
sysfs=$dir/sys
mkdir -p "$sysfs/bus/pci/devices/0000:00:04.0" "$sysfs/bus/pci/devices/0000:00:05.0"
echo 0x1af4 >"$sysfs/bus/pci/devices/0000:00:04.0/vendor"
echo 0x1110 >"$sysfs/bus/pci/devices/0000:00:04.0/device"
echo 0x1af4 >"$sysfs/bus/pci/devices/0000:00:05.0/vendor"
echo 0x1000 >"$sysfs/bus/pci/devices/0000:00:05.0/device"
touch "$dir/ivshmem-file"
IVM_COMPLETION_SYSFS=$sysfs bash --norc --noprofile -s "$comp" "$dir" >"$dir/comp.log" 2>&1 <<'SH' ||
set -u
source /usr/share/bash-completion/bash_completion
source "$1"
# the completion scans /sys: point it at the fake tree for this test
eval "$(declare -f _ivmctl_pci_devices | sed "s|/sys/bus|$IVM_COMPLETION_SYSFS/bus|")"
complete_to() { # WORDS... -> COMPREPLY sorted on one line
    COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    COMPREPLY=()
    _ivmctl ivmctl "${COMP_WORDS[-1]}" "${COMP_WORDS[-2]}"
    printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
check() { local want=$1; shift; local got; got=$(complete_to "$@")
    [ "$got" = "$want" ] || { echo "completing '$*': got '$got', want '$want'"; exit 1; }; }
check "clean devices format info probe" ivmctl ""
check "format" ivmctl fo
check "--force --help --jobs --json --size --slots --version" ivmctl format --
check "--break-lock --force --help --job --json --lease --version" ivmctl --json clean --
check "--help --json --no-measure --version" ivmctl probe --
check "" ivmctl format --jobs ""
check "0000:00:04.0" ivmctl info 0000
check "$2/ivshmem-file" ivmctl info "$2/ivshmem-f"
echo "ok: completion"
SH
    { cat "$dir/comp.log"; fail "bash completion"; }
cat "$dir/comp.log"

# ---- 4. installed where man and bash-completion look ----
if command -v ivmctl >/dev/null; then
    prefix=$(cd "$(dirname "$(command -v ivmctl)")/.." && pwd)
    cmp -s "$prefix/share/bash-completion/completions/ivmctl" "$comp" ||
        fail "make install did not install $comp as $prefix/share/bash-completion/completions/ivmctl"
    cmp -s "$prefix/share/man/man1/ivmctl.1" "$man1" ||
        fail "make install did not install ivmctl.1 into $prefix/share/man/man1"
    echo "ok: installed: $prefix/share/man/man1/ivmctl.1, $prefix/share/bash-completion/completions/ivmctl"
else
    echo "note: ivm is not installed: installation not checked"
fi
# ---- 5. the site snippet: every setting is a variable Open MPI knows ----
# Every "name = value" of contrib/admin/openmpi-mca-params.conf, the
# commented-out optional ones too, must be read from the file by the
# installed Open MPI (ompi_info: value as written, source the file): a
# misspelt or retired name would be silently ignored at every job start.
conf=$admin/openmpi-mca-params.conf
if command -v ompi_info >/dev/null && ompi_info 2>/dev/null | grep 'MCA btl: ivm' >/dev/null; then
    sed -E 's/^#[[:space:]]*([a-z][a-z0-9_]*[[:space:]]*=)/\1/' "$conf" >"$dir/params.conf"
    OMPI_MCA_mca_base_param_files=$dir/params.conf ompi_info --all --parsable >"$dir/params.out" 2>/dev/null || true
    n=0 unlisted=""
    while IFS='=' read -r name value; do
        name=$(echo "$name" | tr -d '[:space:]')
        value=$(echo "$value" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
        # ompi_info lists common/ivm's variables under btl/ivm's synonyms,
        # and does not list mpool's base variables at all
        shown=$name
        case $name in opal_common_ivm_*) shown=btl_ivm_${name#opal_common_ivm_} ;; esac
        if [ "$name" = mpool_base_default_hints ]; then
            unlisted="$unlisted $name"
            continue
        fi
        grep -F ":param:$shown:value:$value" "$dir/params.out" >/dev/null &&
            grep -F ":param:$shown:source:file ($dir/params.conf" "$dir/params.out" >/dev/null ||
            fail "$conf: '$name = $value' is not a setting the installed Open MPI reads"
        n=$((n + 1))
    done < <(grep -E '^[a-z][a-z0-9_]*[[:space:]]*=' "$dir/params.conf")
    [ "$n" -ge 4 ] || fail "$conf: only $n settings found"
    echo "ok: $conf: $n settings (commented-out ones included) are read by the installed Open MPI${unlisted:+ (not listed by ompi_info, so not checked:$unlisted)}"
else
    echo "note: ivm is not installed: the site snippet's settings not checked"
fi
echo "admin_files: ok"
