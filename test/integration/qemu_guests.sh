#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# ivm in real QEMU guests: 'contrib/ivm-qemu test' boots 2 TCG (or KVM)
# guests that share one ivshmem-plain device, checks that the device layer in
# each guest finds the PCI BAR by itself, runs ring and a checked ping-pong
# across the guests over btl/ivm, shows that --mca btl self alone fails,
# compares ivm's 8-byte latency with tcp over virtio-net, checks that a host
# process sees the guests' slots in the backing file, and tears down.
# Exit 0 pass, 77 skip (no accelerator can boot a guest, or no root / tun),
# anything else fail.
#
# ivm-timeout: 600
# ivm-deps: qemu-system-x86 busybox-static kmod xz-utils zstd iproute2 openssh-server openssh-client openmpi-bin
set -eu

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespace, tap devices)"; exit 77; }
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 77; }
command -v qemu-system-x86_64 >/dev/null || { echo "FAIL: qemu-system-x86_64 missing (contrib/ivm-dev deps)"; exit 1; }
# Run from /: the caller's directory may be invisible in the guests.
cd /
exec "$TOP/contrib/ivm-qemu" test
