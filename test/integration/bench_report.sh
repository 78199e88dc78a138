#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# Unit tests of bench/ivm_report.py, the reports of contrib/ivm-bench and
# contrib/ivm-bench-coll (test/python/test_ivm_report.py): statistics,
# tables and targets on synthetic inputs, and the committed bench/results/
# regenerated from their runs/.  Runs no benchmark.
# Exit 0 pass, 77 skip, anything else fail.
#
# ivm-deps: python3 gnuplot-nox
set -eu -o pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
command -v python3 >/dev/null || { echo "SKIP: python3 missing"; exit 77; }
cd "$TOP"
python3 -B test/python/test_ivm_report.py -v
