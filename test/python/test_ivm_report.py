#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Unit tests of bench/ivm_report.py, the benchmark drivers' reports.

Small synthetic inputs check the statistics and formats one by one; the
last tests regenerate the committed bench/results/ from their runs/ and
compare, so that a change of the report code that would change published
numbers shows up here, not in a later benchmark run.
Run: python3 -B test/python/test_ivm_report.py (test/integration/bench_report.sh).
"""

import os
import shutil
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True  # keep bench/ free of __pycache__
TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, os.path.join(TOP, 'bench'))
import ivm_report as r  # noqa: E402

MIB = 1024 * 1024


def write(path, text):
    """Create path (and its directory) with text."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        f.write(text)


class Statistics(unittest.TestCase):
    def test_median_of_odd_count_is_the_middle_value(self):
        self.assertEqual(r.summarize(['3', '1', '2']), (3, 2.0, 1.0, 3.0))

    def test_median_of_even_count_is_the_mean_of_the_middle_two(self):
        self.assertEqual(r.summarize(['4', '1', '3', '2']), (4, 2.5, 1.0, 4.0))

    def test_missing_values_are_left_out_not_zero(self):
        self.assertEqual(r.summarize(['5', '', 'x', 'nan', '1']), (2, 3.0, 1.0, 5.0))

    def test_no_values_give_no_median(self):
        self.assertIsNone(r.summarize(['', 'junk']))

    def test_median_rows_keep_first_appearance_order_and_count_values(self):
        rows = [['b', '1', '4'], ['a', '1', '1'], ['b', '2', ''], ['b', '3', '2'], ['c', '1', '']]
        self.assertEqual(r.median_rows(rows, (0,), 2, '%.6g'),
                         [['b', '2', '3', '2', '4'], ['a', '1', '1', '1', '1']])

    def test_medians_by_key_uses_the_rounded_csv_values(self):
        med = r.medians_by_key([['ivm', 'lat', '8', 'us', '5', '0.105296', '0.0998', '0.13']], 3)
        self.assertEqual(med, {('ivm', 'lat', 8): (0.105296, 0.0998, 0.13)})


class Ratios(unittest.TestCase):
    def test_ratio_is_numerator_over_baseline(self):
        self.assertAlmostEqual(r.ratio(7.0, 0.1), 70.0)
        self.assertAlmostEqual(r.ratio(0.1, 7.0), 1 / 70)

    def test_no_ratio_without_a_positive_baseline(self):
        self.assertIsNone(r.ratio(None, 1.0))
        self.assertIsNone(r.ratio(1.0, None))
        self.assertIsNone(r.ratio(1.0, 0.0))

    def test_direction_of_targets(self):
        self.assertTrue(r.passes(1.10, 'le', 1.10))
        self.assertFalse(r.passes(1.11, 'le', 1.10))
        self.assertTrue(r.passes(10, 'ge', 10))
        self.assertFalse(r.passes(9.9, 'ge', 10))
        with self.assertRaises(ValueError):
            r.passes(1, 'lt', 2)


class Formats(unittest.TestCase):
    def test_p2p_values_keep_about_four_digits(self):
        got = [r.fmt_value(x, 3) for x in (43274.4, 484.42, 26.224, 0.10529, 0.0, None)]
        self.assertEqual(got, ['43274', '484.4', '26.22', '0.105', '0.000', 'n/a'])

    def test_coll_values_keep_two_decimals_below_ten(self):
        got = [r.fmt_value(x, 2) for x in (6401.2, 140.6, 11.14, 0.0618)]
        self.assertEqual(got, ['6401', '141', '11.1', '0.06'])

    def test_sizes_get_a_unit_only_when_exact(self):
        got = [r.human_size(s) for s in (0, 8, 1024, 65536, MIB, 4 * MIB, 1536, MIB + 1024)]
        self.assertEqual(got, ['0 B', '8 B', '1 KiB', '64 KiB', '1 MiB', '4 MiB', '1536 B',
                               '1025 KiB'])

    def test_markdown_row_and_rule(self):
        self.assertEqual(r.md_row(['8 B', '0.08', 'n/a']), '| 8 B | 0.08 | n/a |')
        self.assertEqual(r.md_rule(['---', '--:']), '|---|--:|')

    def test_failed_runs_line(self):
        with tempfile.TemporaryDirectory() as d:
            self.assertEqual(r.failed_runs(d), '')
            write(os.path.join(d, 'runs', 'failed'), 'tcp 4 124\nivm 2 1\n')
            self.assertEqual(r.failed_runs(d), 'tcp 4 124;ivm 2 1;')


def p2p_medians():
    """Synthetic p2p medians: (config, test, size) -> (median, min, max)."""
    med = {('vader-cma', 'lat', 8): (0.113, 0.11, 0.2), ('ivm', 'lat', 8): (0.105, 0.104, 0.3),
           ('tcp', 'lat', 8): (6.963, 6.9, 7.5), ('vader-none', 'lat', 8): (0.108, 0.1, 0.2)}
    for size, ivm, none in ((MIB, 43000.0, 43000.0), (2 * MIB, 45000.0, 42000.0)):
        med[('ivm', 'bw', size)] = (ivm, ivm - 100, ivm + 100)
        med[('vader-none', 'bw', size)] = (none, none - 100, none + 100)
    return med


class QemuTable(unittest.TestCase):
    """contrib/ivm-bench --qemu's table from pingpong logs."""

    def test_columns_ratio_and_missing_values(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, 'ivm.log'), 'w') as f:
                f.write('noise\npingpong size=8 lat_us=20.5 bw_MBps=1.2 iters=10 checked=0\n')
            with open(os.path.join(d, 'tcp.log'), 'w') as f:
                f.write('pingpong size=8 lat_us=205 bw_MBps=0.1\npingpong size=64 lat_us=300\n')
            lines = r.qemu_table(d, ['8', '64'])
        self.assertEqual(len(lines), 4)
        self.assertTrue(lines[0].startswith('| size (B) | ivm 2 guests | tcp 2 guests (virtio-net) | tcp / ivm |'))
        self.assertEqual(lines[1], '|' + '---:|' * 12)
        self.assertEqual(lines[2], '| 8 | 20.5 | 205 | 10x | - | - | - | 1.2 | 0.1 | - | - | - |')
        # no ivm value: no ratio, a dash for every missing cell
        self.assertEqual(lines[3], '| 64 | - | 300 | - | - | - | - | - | - | - | - | - |')


class P2PTables(unittest.TestCase):
    def test_target_pass_with_best_run_ratio(self):
        row = r.p2p_target_row(p2p_medians(), r.P2P_TARGETS[0])
        self.assertEqual(row, '| ivm 8 B latency / vader (cma) 8 B latency'
                              ' | 0.93x (0.105 vs 0.113 us) | <= 1.10x | **PASS** | 0.95x |')

    def test_open_mpi_5_targets_compare_with_sm(self):
        med = {(k[0].replace('vader', 'sm'),) + k[1:]: v for k, v in p2p_medians().items()}
        row = r.p2p_target_row(med, r.P2P_TARGETS[0])
        self.assertEqual(row, '| ivm 8 B latency / sm (cma) 8 B latency'
                              ' | 0.93x (0.105 vs 0.113 us) | <= 1.10x | **PASS** | 0.95x |')

    def test_target_miss_when_the_ratio_is_on_the_wrong_side(self):
        med = p2p_medians()
        med[('tcp', 'lat', 8)] = (0.9, 0.9, 0.9)
        self.assertIn('| 8.57x (0.900 vs 0.105 us) | >= 10x | **MISS** |',
                      r.p2p_target_row(med, r.P2P_TARGETS[1]))

    def test_bandwidth_target_uses_the_mean_over_1_to_4_mib(self):
        row = r.p2p_target_row(p2p_medians(), r.P2P_TARGETS[2])
        self.assertIn('| 1.04x (44000 vs 42500 MB/s) | >= 0.95x | **PASS** | 1.04x |', row)

    def test_target_without_baseline_is_not_applicable(self):
        row = r.p2p_target_row(p2p_medians(), r.P2P_TARGETS[3])
        self.assertEqual(row, '| ivm (MPI_Alloc_mem) 1-4 MiB bandwidth / vader (cma) | n/a'
                              ' | >= 1.00x | n/a | n/a |')

    def test_key_numbers_row(self):
        lines = r.p2p_key_table(p2p_medians(), ['ivm'], {'ivm': 'vm0 cpu 0 / vm1 cpu 1'})
        self.assertEqual(lines[-1], '| ivm, 2 VMs (ordinary buffers) | vm0 cpu 0 / vm1 cpu 1 | n/a'
                                    ' | 0.105 | n/a | n/a | n/a | n/a | 44000 | n/a | n/a |')

    def test_detail_table_sorts_sizes_numerically(self):
        med = {('ivm', 'lat', 1024): (1.0, 1, 1), ('ivm', 'lat', 8): (0.1, 0.1, 0.1)}
        lines = r.p2p_detail_tables(med, ['ivm', 'tcp'])
        self.assertEqual(lines[3:], ['| size | ivm | tcp |', '|--:|--:|--:|',
                                     '| 8 B | 0.100 | n/a |', '| 1 KiB | 1.000 | n/a |'])

    def test_placement_warnings(self):
        rows = [['ivm', '1', '0', 'vm0', '0', '0', '0', '/a-1'],
                ['ivm', '1', '1', 'vm1', '1', '1', '1', '/a-2'],
                ['ivm', '2', '1', 'vm1', '0', '0', '0', '/a-3'],
                ['ivm', '3', '1', 'vm1', '1', '1', '1', '/a-4'],
                ['tcp', '1', '0', 'vm0', '0', '0', '0 1', '/a-5'],
                ['tcp', '1', '1', 'vm1', '1', '1', '1', '/a-5']]
        notes = r.p2p_placement_notes(rows)
        self.assertEqual(notes['ivm'], 'vm0 cpu 0 / vm1 cpu 1 (varies!)')
        self.assertEqual(notes['tcp'], 'vm0 cpu 0 1 / vm1 cpu 1 (**not one CPU each!**)'
                                       ' (**one autogroup!**)')


class CollTables(unittest.TestCase):
    def med(self):
        values = {('allreduce', 'b2b', 8): (0.08, 0.16, 0.2), ('bcast', 'b2b', 8): (0.5, 0.17, 0.12),
                  ('bcast', 'sep', 8): (0.3, 0.4, None), ('bcast', 'b2b', MIB): (90, 100, None)}
        return {(cfg, '2', op, pat, size): (v, 0, 0)
                for (op, pat, size), triple in values.items()
                for cfg, v in zip(('ivm', 'vader', 'ivmbtl'), triple) if v is not None}

    def test_ratio_uses_the_better_baseline(self):
        self.assertAlmostEqual(r.coll_ratio(self.med(), '2', 'bcast', 'b2b', 8), 0.5 / 0.12)
        self.assertAlmostEqual(r.coll_ratio(self.med(), '2', 'allreduce', 'b2b', 8), 0.5)
        self.assertAlmostEqual(r.coll_ratio(self.med(), '2', 'bcast', 'sep', 8), 0.75)

    def test_ratio_not_measured(self):
        self.assertIsNone(r.coll_ratio(self.med(), '4', 'bcast', 'sep', 8))
        self.assertEqual(r.coll_ratio_cell(None), 'n/a')

    def test_ratio_table_bolds_losses(self):
        lines = r.coll_ratio_table(self.med(), '2')
        self.assertEqual(lines[0], '| collective | pattern | 8 B | 1 MiB |')
        self.assertIn('| bcast | sep | 0.75 | n/a |', lines)
        self.assertIn('| bcast | b2b | **4.17** | 0.90 |', lines)
        self.assertIn('| allreduce | b2b | 0.50 | n/a |', lines)

    def test_legacy_lines_get_their_old_pattern(self):
        self.assertEqual(r.coll_legacy_pattern('bcast'), 'sep')
        self.assertEqual(r.coll_legacy_pattern('alltoall'), 'b2b')

    def test_op_table_per_pattern(self):
        lines = r.coll_op_tables(self.med(), 'bcast', ['2'], ['ivm', 'ivmbtl', 'vader'])
        self.assertIn('## MPI_bcast, back-to-back calls (us, median)', lines)
        self.assertIn('| size | ivm 2 | ivmbtl 2 | vader 2 | ratio 2 |', lines)
        self.assertIn('| 8 B | 0.50 | 0.12 | 0.17 | **4.17** |', lines)

    def test_plot_script_has_a_panel_per_rank_count(self):
        script = r.coll_plot_script('bcast.png', [('2', 'a.dat'), ('4', 'b.dat')],
                                    [('ivm', 'sep'), ('vader', 'b2b')], 'T')
        self.assertIn('set multiplot layout 1,2', script)
        self.assertIn('set key outside below', script)
        self.assertEqual(script.count('\nplot '), 2)


P2P_RUN = """INFO,label,{cfg}
CVAR,btl_ivm_eager_limit,4096
CPU,0,vm0,0,0,0,/autogroup-1
CPU,1,vm{vm},1,1,1,/autogroup-2
RESULT,{cfg},lat,8,0,1000,1,0.1,{lat}
RESULT,{cfg},bw,1048576,0,10,64,0.1,{bw}
PVAR,0,btl_ivm_single_copy_bytes,{sc}
"""


class WholeReports(unittest.TestCase):
    """p2p_report and coll_report over small synthetic runs/ directories."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='test-ivm-report.')

    def tearDown(self):
        shutil.rmtree(self.dir)

    def runs(self, name, text):
        write(os.path.join(self.dir, 'runs', name), text)

    def read(self, name):
        with open(os.path.join(self.dir, name)) as f:
            return f.read()

    def test_p2p(self):
        self.runs('meta.sh', "QUICK=1\nREPS=2\nTARGET_MS=5\nCONFIGS='vader-cma ivm'\n"
                  "IVM_MCA=''\nEXTRA_MCA=' a=b'\nt_start=100\nt_end=160\n"
                  "load_start='0.1 0.2 0.3'\nload_end='1 1 1'\ngit_rev='abc'\n"
                  "machine='2 CPUs, Test CPU, Linux 6; Open MPI v4.1.4'\n")
        self.runs('failed', 'ivm 2 124\n')
        for rep, lat, bw in ((1, '0.2', '40000'), (2, '0.4', '44000')):
            self.runs(f'vader-cma.rep{rep}.out', P2P_RUN.format(cfg='vader-cma', vm=0, lat=lat,
                                                                bw=bw, sc=0))
        self.runs('ivm.rep1.out', P2P_RUN.format(cfg='ivm', vm=1, lat='0.25', bw='45000', sc=7))
        r.p2p_report(self.dir, plots=False)
        self.assertEqual(self.read('raw.csv').splitlines()[1],
                         'ivm,1,lat,8,0,1000,1,0.1,0.25,us')
        self.assertIn('vader-cma,lat,8,us,2,0.3,0.2,0.4\n', self.read('medians.csv'))
        self.assertIn('ivm,1,1,vm1,1,1,1,/autogroup-2\n', self.read('placement.csv'))
        summary = self.read('summary.md')
        for line in ('Machine: 2 CPUs, Test CPU, Linux 6; Open MPI v4.1.4, pml ob1; ivm abc.',
                     'Load average before / after: 0.1 0.2 0.3 / 1 1 1.',
                     '**Failed runs** (config rep exit): ivm 2 124;',
                     'Single-copy bytes moved by btl/ivm (all runs, both ranks): ivm 7, '
                     'ivm-allocmem 0.',
                     '| ivm 8 B latency / vader (cma) 8 B latency | 0.83x (0.250 vs 0.300 us)'
                     ' | <= 1.10x | **PASS** | 1.25x |'):
            self.assertIn(line + '\n', summary)
        self.assertIn('by `contrib/ivm-bench --quick` (2 repetitions', summary)
        self.assertIn('extra MCA: a=b.', summary)

    def test_coll(self):
        self.runs('meta.sh', "QUICK_FLAG=''\nREPS=1\nTARGET_MS=50\nNPS='2'\n"
                  "CONFIGS='ivm ivmbtl vader'\nt_start=0\nt_end=9\nelapsed=30\n"
                  "load_start='3 3 3'\nload_end='3 3 3'\ngit_rev='abc'\nmachine='m'\n")
        for cfg, us, comp in (('ivm', '0.0618', 'ivm'), ('ivmbtl', '0.3', 'other'),
                              ('vader', '0.17', 'other')):
            self.runs(f'{cfg}-2.rep1.a.out', f'RESULT,{cfg}-2,barrier,0,1000,{us},b2b\n'
                                             f'CALLS,{cfg}-2,barrier,5,1,2\nCOLL,{cfg}-2,{comp}\n')
        self.runs('ivm-2.rep1.b.out', 'RESULT,ivm-2,bcast,8,100,0.5\nCOLL,ivm-2,ivm\n')
        r.coll_report(self.dir, plots=False)
        self.assertEqual(self.read('raw.csv').splitlines()[1],
                         'ivm,2,1.a,barrier,b2b,0,1000,0.0618,ivm')
        self.assertIn('ivm,2,bcast,sep,8,1,0.5,0.5,0.5\n', self.read('medians.csv'))
        summary = self.read('summary.md')
        self.assertIn("counter): ivm-2 ivm; ivmbtl-2 other; vader-2 other; \n", summary)
        self.assertIn('(**not a quiet machine: treat the numbers as noisy**)', summary)
        self.assertIn(', 30 s).', summary)
        self.assertIn('| barrier | 5 / 1 / 2 |\n', summary)
        self.assertIn('| barrier | b2b | 0.36 |\n', summary)
        self.assertIn('| 0 B | 0.06 | 0.30 | 0.17 | 0.36 |\n', summary)

    def test_not_an_output_directory(self):
        with self.assertRaisesRegex(r.ReportError, 'not an ivm-bench output directory'):
            r.p2p_report(self.dir, plots=False)

    @unittest.skipUnless(shutil.which('gnuplot'), 'gnuplot not installed')
    def test_plots_are_pngs(self):
        med = {('ivm', '2', 'barrier', 'b2b', 0): (0.06, 0, 0),
               ('vader', '2', 'barrier', 'b2b', 0): (0.2, 0, 0),
               ('ivm', '2', 'bcast', 'sep', 8): (0.1, 0, 0), ('ivm', '2', 'bcast', 'b2b', 64): (0.2, 0, 0),
               ('vader', '4', 'bcast', 'sep', 8): (9.0, 0, 0),
               ('vader', '4', 'bcast', 'b2b', 64): (9.5, 0, 0),
               # one size that is not 0 (a part with --sizes 8): a range around it
               ('ivm', '2', 'alltoall', 'sep', 8): (0.5, 0, 0)}
        r.coll_plots(self.dir, med, {'NPS': '2 4', 'CONFIGS': 'ivm vader', 'REPS': '1',
                                     'machine': '2 CPUs, x', 't_end': '0', 'git_rev': 'abc'})
        for op in ('barrier', 'bcast', 'alltoall'):
            with open(os.path.join(self.dir, op + '.png'), 'rb') as f:
                self.assertEqual(f.read(8), b'\x89PNG\r\n\x1a\n')


class CommittedResults(unittest.TestCase):
    """The committed bench/results/*/ regenerated from their runs/."""

    def regenerate(self, kind, report):
        src = os.path.join(TOP, 'bench', 'results', kind)
        if not os.path.isfile(os.path.join(src, 'runs', 'meta.sh')):
            self.skipTest(f'no bench/results/{kind}/runs')
        with tempfile.TemporaryDirectory(prefix='test-ivm-report.') as d:
            shutil.copytree(os.path.join(src, 'runs'), os.path.join(d, 'runs'))
            report(d, plots=False)
            for name in ('raw.csv', 'medians.csv', 'placement.csv', 'summary.md'):
                if os.path.exists(os.path.join(src, name)):
                    with self.subTest(name=name):
                        self.assertEqual(self.lines(d, name), self.lines(src, name))

    @staticmethod
    def lines(d, name):
        """The lines of a result file, less those about when and where it
        was generated (date, and the machine, unless meta.sh records it)."""
        with open(os.path.join(d, name)) as f:
            return [line for line in f if not line.startswith(('Generated ', 'Machine: '))]

    def test_p2p(self):
        self.regenerate('p2p', r.p2p_report)

    def test_coll(self):
        self.regenerate('coll', r.coll_report)


if __name__ == '__main__':
    unittest.main()
