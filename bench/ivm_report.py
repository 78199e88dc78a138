#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-3-Clause
"""Reports of the ivm benchmarks (contrib/ivm-bench, contrib/ivm-bench-coll).

The drivers only run the benchmarks and keep each run's output in OUT/runs/
(CONFIG.repN.out, meta.sh, failed).  This module turns that directory into
raw.csv, medians.csv, placement.csv (p2p only), summary.md and the PNG plots.
Both benchmarks use it, so that they take medians, ratios and verdicts the
same way, and --report-only can redo every output from runs/ alone.

    ivm_report.py p2p OUT [--no-plots]    contrib/ivm-bench's outputs
    ivm_report.py coll OUT [--no-plots]   contrib/ivm-bench-coll's outputs
    ivm_report.py qemu DIR                contrib/ivm-bench --qemu's table
    ivm_report.py machine                 a machine='...' line for meta.sh

Python 3.11 standard library only; gnuplot (gnuplot-nox) draws the plots.
"""

import argparse
import glob
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1024 * 1024
BIG = '1-4 MiB'  # a "size" that stands for the mean over BIG_SIZES
BIG_SIZES = (MIB, 2 * MIB, 4 * MIB)
MEDIAN, MIN, MAX = 0, 1, 2  # positions in a medians.csv value triple


class ReportError(Exception):
    """An unusable output directory or a failed plot: reported, exit 1."""


# ----------------------------------------------------------------------
# numbers and formats


def to_float(text):
    """The number in a CSV field, or None if it is empty or not a number.

    A run cut short can leave a field empty or garbled; such a value must
    be left out of a median, not count as 0."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def summarize(values):
    """(n, median, min, max) of the numbers among values; None if none.

    Every reported number is a median over separate runs so that one run
    disturbed by other load does not move it; min and max keep the spread.
    With an even count the median is the mean of the two middle values."""
    nums = sorted(v for v in map(to_float, values) if v is not None)
    if not nums:
        return None
    return len(nums), statistics.median(nums), nums[0], nums[-1]


def ratio(a, b):
    """a / b, or None when either is missing or b is not positive.

    A ratio against a baseline that was not measured (or is 0) would be
    meaningless; the tables then say n/a instead of a number."""
    if a is None or b is None or b <= 0:
        return None
    return a / b


def passes(r, direction, threshold):
    """Whether ratio r meets a target: 'le' (at most) or 'ge' (at least).

    Targets are ratios in both directions (ivm / vader <= 1.1, tcp / ivm
    >= 10); naming the direction keeps each target readable where it is
    defined."""
    if direction == 'le':
        return r <= threshold
    if direction == 'ge':
        return r >= threshold
    raise ValueError(f'unknown target direction {direction!r}')


def verdict(ok):
    """The result cell of a target line."""
    return '**PASS**' if ok else '**MISS**'


def fmt_value(x, decimals):
    """x for a table: 'decimals' digits after the point below 10, one fewer
    per decade above, none from 10**decimals on; 'n/a' when missing.

    Keeps about four significant digits without exponents, which is what
    the numbers' run-to-run noise justifies."""
    if x is None:
        return 'n/a'
    for shown in range(decimals):
        if x >= 10 ** (decimals - shown):
            return '%.*f' % (shown, x)
    return '%.*f' % (decimals, x)


def human_size(size):
    """A message size as the tables show it: 4 MiB, 64 KiB, 8 B.

    Only exact multiples get a unit, so that no size is shown rounded."""
    for unit, name in ((MIB, 'MiB'), (1024, 'KiB')):
        if size >= unit and size % unit == 0:
            return f'{size // unit} {name}'
    return f'{size} B'


def md_row(cells):
    """One markdown table line."""
    return '| ' + ' | '.join(cells) + ' |'


def md_rule(aligns):
    """A markdown table's separator line from '---' / '--:' entries."""
    return '|' + ''.join(a + '|' for a in aligns)


# ----------------------------------------------------------------------
# the output directory


def read_meta(outdir, tool):
    """runs/meta.sh's NAME=VALUE assignments, unquoted as the shell would.

    The drivers write meta.sh as shell (older directories too), so it is
    read with shell quoting rules rather than being sourced."""
    path = os.path.join(outdir, 'runs', 'meta.sh')
    if not os.path.isfile(path):
        raise ReportError(f'{path} missing: not an {tool} output directory')
    meta = {}
    with open(path) as f:
        for line in f:
            try:
                words = shlex.split(line, comments=True)
            except ValueError:
                continue
            if len(words) == 1 and '=' in words[0]:
                name, _, value = words[0].partition('=')
                meta[name] = value
    return meta


def run_files(outdir, pattern='*.out'):
    """The run outputs matching pattern, by name: the order of raw.csv."""
    return sorted(glob.glob(os.path.join(outdir, 'runs', pattern)))


def tagged_lines(path, tags):
    """The comma-separated fields of the lines of path whose first field is
    one of tags (the benchmarks tag every machine-readable line)."""
    with open(path, errors='replace') as f:
        for line in f:
            fields = line.rstrip('\n').split(',')
            if fields[0] in tags:
                yield fields


def pad(fields, n):
    """fields extended with empty strings to n entries (a truncated line)."""
    return fields + [''] * (n - len(fields))


def failed_runs(outdir):
    """runs/failed as one line, 'a 1 124;b 2 1;', or '' if none failed."""
    try:
        with open(os.path.join(outdir, 'runs', 'failed')) as f:
            lines = [line for line in f.read().split('\n') if line]
    except FileNotFoundError:
        return ''
    return ''.join(line + ';' for line in lines)


def write_csv(path, header, rows):
    """Write rows comma-separated, unquoted: their fields were split on
    commas, so they hold none, and this is how raw.csv always looked."""
    with open(path, 'w') as f:
        f.write(header + '\n')
        for row in rows:
            f.write(','.join(row) + '\n')


def read_csv(path):
    """The rows of a CSV that write_csv wrote, without the header."""
    with open(path) as f:
        return [line.rstrip('\n').split(',') for line in f][1:]


def write_text(path, lines):
    """Write lines as a text file, each ending in a newline."""
    with open(path, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))


# ----------------------------------------------------------------------
# statistics


def median_rows(rows, key_cols, value_col, fmt):
    """medians.csv rows: key fields, n, median, min, max, one per key in the
    order the keys first appear in rows (raw.csv's order).

    A key without a single number (every run of it cut short) gets no row;
    the tables then show n/a for it."""
    groups = {}
    for row in rows:
        key = tuple(row[i] for i in key_cols)
        groups.setdefault(key, []).append(row[value_col])
    out = []
    for key, values in groups.items():
        stats = summarize(values)
        if stats:
            out.append(list(key) + [str(stats[0])] + [fmt % v for v in stats[1:]])
    return out


def medians_by_key(rows, nkey, first=5):
    """{(key fields..., size): (median, min, max)} from medians.csv rows
    whose first nkey fields are the key, size last, and whose median, min
    and max are fields first to first + 2.

    Tables and plots use the medians as medians.csv states them (rounded),
    so every number in summary.md can be checked against that file."""
    med = {}
    for row in rows:
        try:
            size = int(row[nkey - 1])
        except (IndexError, ValueError):
            continue
        med[tuple(row[:nkey - 1]) + (size,)] = tuple(
            to_float(x) for x in pad(row, first + 3)[first:first + 3])
    return med


# ----------------------------------------------------------------------
# common summary parts


def cpu_model():
    """The first 'model name' of /proc/cpuinfo, or '' where there is none."""
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(': ')[1].rstrip('\n') for line in f
                         if line.startswith('model name') and ': ' in line), '')
    except OSError:
        return ''


def ompi_version():
    """The last word of `ompi_info --version`'s first line (v4.1.4), or ''."""
    try:
        out = subprocess.run(['ompi_info', '--version'], capture_output=True, text=True).stdout
    except OSError:
        return ''
    words = out.split('\n', 1)[0].split()
    return words[-1] if words else ''


def machine_facts():
    """'2 CPUs, MODEL, Linux KERNEL; Open MPI VERSION' of this machine.

    The drivers store it in meta.sh at the end of a run, so that a later
    --report-only states the machine that measured, not the one reporting
    (directories from before that fall back to the reporting machine)."""
    cpus = len(os.sched_getaffinity(0))
    return f'{cpus} CPUs, {cpu_model()}, Linux {os.uname().release}; Open MPI {ompi_version()}'


def busy_note(load_start):
    """A warning when the 1-minute load average at the start was above 0.5:
    the ranks busy-poll, so any other load lands in the numbers."""
    first = (load_start.split() or ['0'])[0]
    if (to_float(first) or 0) > 0.5:
        return ' (**not a quiet machine: treat the numbers as noisy**)'
    return ''


def header_lines(title, command, run_text, meta):
    """The summary's title, provenance, machine and load lines."""
    elapsed = int(to_float(meta.get('t_end')) or 0) - int(to_float(meta.get('t_start')) or 0)
    if to_float(meta.get('elapsed')) is not None:  # a run made of parts (--append)
        elapsed = int(to_float(meta.get('elapsed')))
    machine = meta.get('machine') or machine_facts()
    load_start, load_end = meta.get('load_start', ''), meta.get('load_end', '')
    return [
        f'# {title}', '',
        f'Generated {time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())} by `{command}` '
        f'({run_text}, {elapsed} s).',
        f'Machine: {machine}, pml ob1; ivm {meta.get("git_rev", "unknown")}.',
        f'Load average before / after: {load_start} / {load_end}{busy_note(load_start)}.',
    ]


def run_notes(quick_text, failed, failed_fields):
    """The optional quick-run and failed-runs paragraphs."""
    lines = ['', quick_text] if quick_text else []
    if failed:
        lines += ['', f'**Failed runs** ({failed_fields}): {failed}']
    return lines


# ----------------------------------------------------------------------
# plots


def write_dat(path, names, rows):
    """A gnuplot data file: 'size NAME...', then one line per size with a
    value per name, NaN where it is missing."""
    with open(path, 'w') as f:
        f.write(' '.join(['size'] + names) + '\n')
        for size, values in rows:
            cells = ['NaN' if v is None else repr(v) for v in values]
            f.write(' '.join([str(size)] + cells) + '\n')


def gnuplot_script(png, dat, ncols, title, xlabel, ylabel, xaxis, key='top left',
                   enhanced=True, extra=''):
    """A log-log plot of every column of dat against the first, one line
    with points per column, titled by the column's header."""
    plain = '' if enhanced else ' noenhanced'
    lines = [
        'set terminal pngcairo size 1000,650 font ",11"', f"set output '{png}'",
        f"set title '{title}'{plain}", f"set xlabel '{xlabel}'", f"set ylabel '{ylabel}'",
        'set logscale x 2', xaxis, 'set logscale y 10', "set format y '%g'",
        'set grid xtics ytics mytics', f'set key {key}', "set datafile missing 'NaN'",
    ]
    if extra:
        lines.append(extra)
    lines.append(f"plot for [i=2:{ncols}] '{dat}' using 1:i with linespoints lw 2 pt (i+4) "
                 f"title columnheader(i){plain}")
    return '\n'.join(lines) + '\n'


def run_gnuplot(script, outdir):
    """Run a gnuplot script in outdir (its PNG names are relative)."""
    if not shutil.which('gnuplot'):
        raise ReportError('gnuplot not found (apt-get install gnuplot-nox), or use --no-plots')
    if subprocess.run(['gnuplot'], input=script, text=True, cwd=outdir).returncode != 0:
        raise ReportError('gnuplot failed')


# ----------------------------------------------------------------------
# point to point (contrib/ivm-bench)

P2P_RAW = 'config,rep,test,size,loop,iters,window,seconds,value,unit'
P2P_MEDIANS = 'config,test,size,unit,n,median,min,max'
P2P_PLACEMENT = 'config,rep,rank,host,cpu_start,cpu_end,affinity,autogroup'
P2P_TESTS = ('lat', 'bw', 'bibw', 'rate')
P2P_DESC = {
    'vader-cma': 'vader, 1 VM (single copy: cma)',
    'vader-none': 'vader, 1 VM (single copy: none)',
    'sm-cma': 'sm, 1 VM (single copy: cma)',
    'sm-none': 'sm, 1 VM (single copy: none)',
    'ivm': 'ivm, 2 VMs (ordinary buffers)',
    'ivm-allocmem': 'ivm, 2 VMs (MPI_Alloc_mem mpool_hints=ivm)',
    'tcp': 'tcp, 2 VMs (veth)',
}
P2P_KEY_COLUMNS = (  # (header, test, size) of the key-numbers table
    ('lat 0 B (us)', 'lat', 0), ('lat 8 B (us)', 'lat', 8), ('lat 4 KiB (us)', 'lat', 4096),
    ('lat 64 KiB (us)', 'lat', 65536), ('lat 1 MiB (us)', 'lat', MIB),
    ('bw 64 KiB (MB/s)', 'bw', 65536), ('bw 1-4 MiB (MB/s)', 'bw', BIG),
    ('bibw 1-4 MiB (MB/s)', 'bibw', BIG), ('rate 8 B (Mmsg/s)', 'rate', 8),
)
# The targets name the in-VM baseline "vader" (Open MPI 4.1); p2p_shm()
# swaps in "sm" for a run against Open MPI 5.
P2P_TARGETS = (  # label, numerator, baseline, test, size, direction, threshold, unit, required
    ('ivm 8 B latency / vader (cma) 8 B latency', 'ivm', 'vader-cma', 'lat', 8,
     'le', 1.10, 'us', '<= 1.10x'),
    ('tcp 8 B latency / ivm 8 B latency', 'tcp', 'ivm', 'lat', 8, 'ge', 10, 'us', '>= 10x'),
    ('ivm (ordinary buffers) 1-4 MiB bandwidth / vader (none)', 'ivm', 'vader-none', 'bw', BIG,
     'ge', 0.95, 'MB/s', '>= 0.95x'),
    ('ivm (MPI_Alloc_mem) 1-4 MiB bandwidth / vader (cma)', 'ivm-allocmem', 'vader-cma', 'bw', BIG,
     'ge', 1.0, 'MB/s', '>= 1.00x'),
)
P2P_TITLES = {
    'lat': 'Ping-pong latency, half round trip (us)',
    'bw': 'Streaming bandwidth (MB/s)',
    'bibw': 'Bidirectional bandwidth, both directions (MB/s)',
    'rate': 'Message rate (million messages/s)',
}
P2P_PLOTS = (  # test, PNG, title ({reps} = runs), y label, key position
    ('lat', 'latency.png', 'Ping-pong latency (median of {reps} runs; lower is better)',
     'half round trip (us)', 'top left'),
    ('bw', 'bandwidth.png', 'Streaming bandwidth (median of {reps} runs)', 'MB/s (10^6 B/s)',
     'top left'),
    ('bibw', 'bibw.png', 'Bidirectional bandwidth (median of {reps} runs)',
     'MB/s (10^6 B/s), both directions', 'top left'),
    ('rate', 'msgrate.png', 'Message rate (median of {reps} runs)', 'million messages/s',
     'bottom left'),
)
P2P_XAXIS = ('set xtics ("1" 1, "8" 8, "64" 64, "512" 512, "4K" 4096, "32K" 32768, '
             '"256K" 262144, "2M" 2097152)')


def p2p_run_label(path):
    """(config, rep) of runs/CONFIG.repN.out."""
    base = os.path.basename(path)[:-len('.out')]
    config, sep, rep = base.rpartition('.rep')
    return (config, rep) if sep else (base, base)


def p2p_unit(test):
    """The unit of a test's values (ivm_p2pbench's RESULT lines carry none)."""
    return {'lat': 'us', 'rate': 'Mmsg/s'}.get(test, 'MB/s')


def p2p_raw_rows(outdir):
    """raw.csv rows: every measured loop of every run, from its lines
    RESULT,label,test,size,loop,iters,window,seconds,value."""
    rows = []
    for path in run_files(outdir):
        config, rep = p2p_run_label(path)
        for fields in tagged_lines(path, ('RESULT',)):
            values = pad(fields, 9)[2:9]
            rows.append([config, rep] + values + [p2p_unit(values[0])])
    return rows


def p2p_placement_rows(outdir):
    """placement.csv rows, from CPU,rank,host,cpu_start,cpu_end,affinity,autogroup."""
    rows = []
    for path in run_files(outdir):
        config, rep = p2p_run_label(path)
        rows += [[config, rep] + pad(f, 7)[1:7] for f in tagged_lines(path, ('CPU',))]
    return rows


def p2p_measure(med, config, test, size, which=MEDIAN):
    """A configuration's median (or min or max) of test at size; for size
    BIG the mean over the 1, 2 and 4 MiB values that exist."""
    if size != BIG:
        values = med.get((config, test, size))
        return values[which] if values else None
    found = [med[(config, test, s)][which] for s in BIG_SIZES if (config, test, s) in med]
    found = [v for v in found if v is not None]
    return sum(found) / len(found) if found else None


def p2p_fmt(x):
    """A p2p table number (three decimals below 10)."""
    return fmt_value(x, 3)


def p2p_placement_notes(rows):
    """{config: 'vm0 cpu 0 / vm1 cpu 1'} with a warning where the ranks'
    CPUs changed between runs, a rank could use more than one CPU, both
    shared a CPU set or both shared a scheduler autogroup: each of these
    skews the comparison between configurations."""
    place, varies, bad, shared, group = {}, set(), set(), set(), {}
    for row in rows:
        if len(row) < 7:
            continue
        config, rep, rank, host, affinity = row[0], row[1], row[2], row[3], row[6]
        where = f'{host} cpu {affinity}'
        if place.setdefault((config, rank), where) != where:
            varies.add((config, rank))
        if len(affinity.split()) != 1:
            bad.add(config)
        group[(config, rep, rank)] = row[7] if len(row) > 7 else ''
        if rank == '1' and group.get((config, rep, '0')) == group[(config, rep, rank)]:
            shared.add(config)
    text = {k: v + (' (varies!)' if k in varies else '') for k, v in place.items()}
    notes = {}
    for config in {k[0] for k in text}:
        r0, r1 = text.get((config, '0'), ''), text.get((config, '1'), '')
        if (config, '0') in text and r0 == r1:
            bad.add(config)
        notes[config] = (f'{r0} / {r1}' + (' (**not one CPU each!**)' if config in bad else '')
                         + (' (**one autogroup!**)' if config in shared else ''))
    return notes


def p2p_key_table(med, configs, notes):
    """The key-numbers table: one line per configuration."""
    lines = ['## Key numbers (medians)', '',
             md_row(['configuration', 'rank 0 / rank 1'] + [c[0] for c in P2P_KEY_COLUMNS]),
             md_rule(['---', '---'] + ['--:'] * len(P2P_KEY_COLUMNS))]
    for config in configs:
        values = [p2p_fmt(p2p_measure(med, config, t, s)) for _, t, s in P2P_KEY_COLUMNS]
        lines.append(md_row([P2P_DESC.get(config, ''), notes.get(config, ' / ')] + values))
    return lines


def p2p_shm(med):
    """The shared-memory BTL the run measured: 'sm' (Open MPI 5) or 'vader'."""
    return 'sm' if any(k[0].startswith('sm-') for k in med) else 'vader'


def p2p_target_row(med, target):
    """One target line: the ratio of the medians, required, PASS/MISS, and
    the same ratio over each configuration's best run (lowest latency,
    highest bandwidth)."""
    label, num, base, test, size, direction, threshold, unit, required = target
    shm = p2p_shm(med)
    label, base = label.replace('vader', shm), base.replace('vader', shm)
    a, b = p2p_measure(med, num, test, size), p2p_measure(med, base, test, size)
    r = ratio(a, b)
    if r is None:
        return md_row([label, 'n/a', required, 'n/a', 'n/a'])
    best = MIN if test == 'lat' else MAX
    rb = ratio(p2p_measure(med, num, test, size, best), p2p_measure(med, base, test, size, best))
    return md_row([label, '%.2fx (%s vs %s %s)' % (r, p2p_fmt(a), p2p_fmt(b), unit), required,
                   verdict(passes(r, direction, threshold)), 'n/a' if rb is None else '%.2fx' % rb])


def p2p_per_size(med):
    """The bandwidth ratios behind targets 3 and 4, at 1, 2 and 4 MiB."""
    text = 'Per size,'
    shm = p2p_shm(med)
    for num, base in (('ivm', f'{shm}-none'), ('ivm-allocmem', f'{shm}-cma')):
        text += f' {num} / {base}:'
        for size in BIG_SIZES:
            r = ratio(p2p_measure(med, num, 'bw', size), p2p_measure(med, base, 'bw', size))
            if r is not None:
                text += ' %s %.2fx;' % (human_size(size), r)
    return text


def p2p_targets(med):
    """The targets section."""
    return ['## Targets', '',
            md_row(['target', 'measured (medians)', 'required', 'result', 'best runs']),
            md_rule(['---', '--:', '--:', '---', '--:'])] + [
        p2p_target_row(med, t) for t in P2P_TARGETS] + [
        '', 'PASS/MISS uses the medians. "best runs" is the same ratio over the best',
        'repetition of each configuration (lowest latency, highest bandwidth): a hint of what an '
        'undisturbed machine gives',
        'when the load average above says the medians are noisy.', '',
        '"1-4 MiB bandwidth" is the mean of the streaming-bandwidth medians at 1, 2 and 4 MiB.',
        p2p_per_size(med)]


def p2p_detail_tables(med, configs):
    """One table per test: medians against size, a column per configuration."""
    lines = []
    for test in P2P_TESTS:
        sizes = sorted({k[2] for k in med if k[1] == test})
        if not sizes:
            continue
        lines += ['', '## ' + P2P_TITLES[test], '', md_row(['size'] + configs),
                  md_rule(['--:'] * (len(configs) + 1))]
        lines += [md_row([human_size(s)] + [p2p_fmt(p2p_measure(med, c, test, s)) for c in configs])
                  for s in sizes]
    return lines


def p2p_cvar(outdir, config, name):
    """An MPI_T control variable's value in the first run of config."""
    files = run_files(outdir, f'{config}.rep*.out')
    if not files:
        return ''
    values = (','.join(f[2:]) for f in tagged_lines(files[0], ('CVAR',)) if f[1:2] == [name])
    return next(values, '')


def p2p_pvar_sum(outdir, config, name):
    """An MPI_T performance variable summed over the ranks and runs of config."""
    total = 0.0
    for path in run_files(outdir, f'{config}.rep*.out'):
        total += sum(to_float(pad(f, 4)[3]) or 0.0 for f in tagged_lines(path, ('PVAR',))
                     if f[2:3] == [name])
    return '%.0f' % total


def p2p_settings(outdir, meta):
    """The lines on the effective btl settings and single-copy traffic."""
    def cvar(config, name):
        return p2p_cvar(outdir, config, name)
    ivm_mca, extra = meta.get('IVM_MCA', ''), meta.get('EXTRA_MCA', '')
    shm = 'sm' if 'sm-cma' in meta.get('CONFIGS', '') else 'vader'

    def mechanism(config):
        # 4.1: vader's own variable; 5.0: the smsc framework (contrib/ivm-bench),
        # whose selection MPI_T does not show, but whose cma component's
        # variables exist only when it was loaded
        if shm == 'vader':
            return cvar(config, 'btl_vader_single_copy_mechanism')
        return 'cma' if cvar(config, 'smsc_cma_priority') else 'none'
    return [
        f'ivm settings: eager_limit {cvar("ivm", "btl_ivm_eager_limit")}, max_send_size '
        f'{cvar("ivm", "btl_ivm_max_send_size")}, fbox_size {cvar("ivm", "btl_ivm_fbox_size")}, '
        f'fbox_threshold {cvar("ivm", "btl_ivm_fbox_threshold")}; {shm} single copy: {shm}-cma = '
        f'{mechanism(f"{shm}-cma")}, {shm}-none = {mechanism(f"{shm}-none")}'
        + (f'; extra ivm MCA:{ivm_mca}' if ivm_mca else '')
        + (f'; extra MCA:{extra}' if extra else '') + '.',
        'Single-copy bytes moved by btl/ivm (all runs, both ranks): ivm '
        f'{p2p_pvar_sum(outdir, "ivm", "btl_ivm_single_copy_bytes")}, ivm-allocmem '
        f'{p2p_pvar_sum(outdir, "ivm-allocmem", "btl_ivm_single_copy_bytes")}.',
    ]


def p2p_summary(outdir, meta, med, placement):
    """summary.md of a p2p run, as lines."""
    quick = meta.get('QUICK') == '1'
    configs = meta.get('CONFIGS', '').split()
    run_text = (f'{meta.get("REPS", "")} repetitions = separate mpirun runs per configuration, '
                f'{meta.get("TARGET_MS", "")} ms per measured loop')
    lines = header_lines('ivm point-to-point benchmark',
                         'contrib/ivm-bench' + (' --quick' if quick else ''), run_text, meta)
    lines += run_notes('**Quick smoke run: few sizes and repetitions, tiny measurement times. '
                       'The numbers are not meaningful.**' if quick else '',
                       failed_runs(outdir), 'config rep exit')
    lines += [''] + p2p_settings(outdir, meta) + ['']
    lines += p2p_key_table(med, configs, p2p_placement_notes(placement)) + ['']
    return lines + p2p_targets(med) + p2p_detail_tables(med, configs)


def p2p_plots(outdir, med, configs, reps):
    """latency.png, bandwidth.png, bibw.png, msgrate.png: medians against
    size (sizes above 0, as the axes are logarithmic)."""
    with tempfile.TemporaryDirectory(prefix='ivm-bench-report.') as tmp:
        for test, png, title, ylabel, key in P2P_PLOTS:
            sizes = sorted({k[2] for k in med if k[1] == test and k[2] > 0})
            if not sizes:
                continue
            dat = os.path.join(tmp, test + '.dat')
            write_dat(dat, configs, [(s, [p2p_measure(med, c, test, s) for c in configs])
                                     for s in sizes])
            run_gnuplot(gnuplot_script(png, dat, len(configs) + 1, title.format(reps=reps),
                                       'message size (bytes; K = 1024, M = 1024^2)', ylabel,
                                       P2P_XAXIS, key), outdir)


def p2p_report(outdir, plots=True):
    """Every output of contrib/ivm-bench from outdir/runs/."""
    meta = read_meta(outdir, 'ivm-bench')
    raw = p2p_raw_rows(outdir)
    write_csv(os.path.join(outdir, 'raw.csv'), P2P_RAW, raw)
    write_csv(os.path.join(outdir, 'medians.csv'), P2P_MEDIANS,
              median_rows(raw, (0, 2, 3, 9), 8, '%.6g'))
    placement = p2p_placement_rows(outdir)
    write_csv(os.path.join(outdir, 'placement.csv'), P2P_PLACEMENT, placement)
    med = medians_by_key(read_csv(os.path.join(outdir, 'medians.csv')), 3)
    if plots:
        p2p_plots(outdir, med, meta.get('CONFIGS', '').split(), meta.get('REPS', ''))
    write_text(os.path.join(outdir, 'summary.md'), p2p_summary(outdir, meta, med, placement))


# ----------------------------------------------------------------------
# collectives (contrib/ivm-bench-coll)

COLL_RAW = 'config,np,rep,op,pattern,size,iters,usec,component'
COLL_MEDIANS = 'config,np,op,pattern,size,runs,median_us,min_us,max_us'
COLL_OPS = ('barrier', 'bcast', 'reduce', 'allreduce', 'allgather', 'alltoall', 'reduce_scatter')
COLL_PATTERNS = ('sep', 'b2b')
COLL_PATTERN_DESC = {'sep': 'calls separated by barriers', 'b2b': 'back-to-back calls'}
COLL_BASELINES = ('vader', 'ivmbtl')  # the ratio's denominator: the better of these
COLL_DESC = {
    'ivm': 'coll/ivm across VMs',
    'ivmbtl': 'tuned over btl/ivm across VMs',
    'vader': 'tuned over vader in one VM',
    'tcp': 'tuned over tcp across VMs',
}
COLL_XAXIS = "set format x '%.0b%BB'"


def coll_run_label(path):
    """(config, np, rep) of runs/CONFIG-NP.repN[.TAG].out (rep keeps the
    tag: runs of different parts stay apart in raw.csv)."""
    base = os.path.basename(path)[:-len('.out')]
    config, _, rest = base.partition('-')
    np_, _, rep = (rest or base).partition('.rep')
    return config, np_, rep


def coll_legacy_pattern(op):
    """The pattern of a RESULT line without one (runs before the two
    patterns): bcast and reduce were timed separated, the others
    back to back."""
    return 'sep' if op in ('bcast', 'reduce') else 'b2b'


def coll_raw_rows(outdir):
    """raw.csv rows from RESULT,label,op,size,iters,usec[,pattern] lines,
    each with the component that ran MPI_Allreduce (the run's COLL line)."""
    rows = []
    for path in run_files(outdir):
        config, np_, rep = coll_run_label(path)
        component, results = '', []
        for fields in tagged_lines(path, ('RESULT', 'COLL')):
            if fields[0] == 'COLL':
                component = pad(fields, 3)[2]
                continue
            op, size, iters, usec, pattern = pad(fields, 7)[2:7]
            results.append([op, pattern or coll_legacy_pattern(op), size, iters, usec])
        rows += [[config, np_, rep] + r + [component] for r in results]
    return rows


def coll_calls(outdir):
    """{(np, op): (run by coll/ivm, fell back, handed over)} summed over
    the ivm runs (CALLS lines: coll/ivm's counters, every call of the run,
    warm-up and the benchmark's own barriers and reductions included)."""
    calls = {}
    for path in run_files(outdir, 'ivm-*.out'):
        np_ = coll_run_label(path)[1]
        for fields in tagged_lines(path, ('CALLS',)):
            op, counts = pad(fields, 6)[2], pad(fields, 6)[3:6]
            old = calls.get((np_, op), (0, 0, 0))
            calls[(np_, op)] = tuple(a + int(to_float(b) or 0) for a, b in zip(old, counts))
    return calls


def coll_value(med, config, np_, op, pattern, size):
    """The median of one cell, or None."""
    return med.get((config, np_, op, pattern, size), (None,))[MEDIAN]


def coll_best_baseline(med, np_, op, pattern, size, baselines=COLL_BASELINES):
    """(value, config) of the faster baseline, or (None, '') if none was
    measured."""
    found = [(v, c) for c in baselines
             if (v := coll_value(med, c, np_, op, pattern, size)) is not None]
    return min(found) if found else (None, '')


def coll_ratio(med, np_, op, pattern, size, baselines=COLL_BASELINES):
    """coll/ivm / min(baselines) of one cell, or None."""
    return ratio(coll_value(med, 'ivm', np_, op, pattern, size),
                 coll_best_baseline(med, np_, op, pattern, size, baselines)[0])


def coll_fmt(x):
    """A coll table number (two decimals below 10)."""
    return fmt_value(x, 2)


def coll_ratio_cell(r):
    """A ratio cell: bold when coll/ivm is slower than the better baseline."""
    if r is None:
        return 'n/a'
    return ('**%.2f**' if r > 1.0 else '%.2f') % r


def coll_sizes(med, op=None):
    """The sizes measured (of op), ascending."""
    return sorted({k[4] for k in med if op is None or k[2] == op})


def coll_ratio_table(med, np_, baselines=COLL_BASELINES):
    """coll/ivm / min(baselines): a row per collective and pattern, a
    column per size (barrier: its one size, 0 B, in the first column)."""
    sizes = [s for s in coll_sizes(med) if s > 0] or [0]
    lines = [md_row(['collective', 'pattern'] + [human_size(s) for s in sizes]),
             md_rule(['---', '---'] + ['--:'] * len(sizes))]
    for op in COLL_OPS:
        for pattern in COLL_PATTERNS:
            if not any(k[1] == np_ and k[2] == op and k[3] == pattern for k in med):
                continue
            if op == 'barrier':
                cells = [coll_ratio_cell(coll_ratio(med, np_, op, pattern, 0, baselines))]
                cells += [''] * (len(sizes) - 1)
            else:
                cells = [coll_ratio_cell(coll_ratio(med, np_, op, pattern, s, baselines))
                         for s in sizes]
            lines.append(md_row([op, pattern] + cells))
    return lines


def coll_ratios(med, nps, per_vm):
    """The ratios section: one table per rank count."""
    lines = ['## Ratios: coll/ivm / min(tuned over vader in one VM, tuned over btl/ivm '
             'across VMs)', '',
             'Medians; below 1.0 coll/ivm is faster than the better baseline, **bold** where '
             'it is slower. sep: calls separated by an untimed barrier, each timed alone; '
             'b2b: a loop of back-to-back calls. Barrier: 0 B.']
    for np_ in nps:
        # runs before --per-vm put every rank in a VM of its own
        layout = 'one per VM' if int(np_) <= 2 or not per_vm else f'{per_vm} per VM'
        over = ', more ranks than CPUs' if int(np_) > (os.cpu_count() or 2) else ''
        lines += ['', f'### {np_} ranks ({layout}{over})', ''] + coll_ratio_table(med, np_)
    if any(k[0] == 'ivmbtl' for k in med):
        lines += ['', '## Ratios: coll/ivm / tuned over btl/ivm (the same VMs without coll/ivm)',
                  '', 'What selecting coll/ivm changes for ranks that are in different VMs.']
        for np_ in nps:
            lines += ['', f'### {np_} ranks', ''] + coll_ratio_table(med, np_, ('ivmbtl',))
    return lines


def coll_calls_lines(calls, nps):
    """Which calls coll/ivm ran and which it handed over, per collective."""
    if not calls:
        return []
    lines = ['', "Calls in the ivm runs (coll/ivm's counters <op>_calls / _fallbacks / "
             "_handovers, all runs and ranks, warm-up and the benchmark's own calls "
             'included):', '',
             md_row(['collective'] + [f'{n} ranks: run / fell back / handed over' for n in nps]),
             md_rule(['---'] + ['--:'] * len(nps))]
    for op in COLL_OPS:
        if any((n, op) in calls for n in nps):
            lines.append(md_row([op] + ['%d / %d / %d' % calls.get((n, op), (0, 0, 0))
                                        for n in nps]))
    return lines


def coll_op_tables(med, op, nps, configs):
    """One collective's medians against size, a table per pattern: every
    configuration and the ratio, for each rank count."""
    sizes = coll_sizes(med, op)
    lines = []
    for pattern in COLL_PATTERNS:
        if not any(k[2] == op and k[3] == pattern for k in med):
            continue
        head = ['size']
        for np_ in nps:
            head += [f'{c} {np_}' for c in configs] + [f'ratio {np_}']
        lines += ['', f'## MPI_{op}, {COLL_PATTERN_DESC[pattern]} (us, median)', '',
                  md_row(head), md_rule(['--:'] * len(head))]
        for size in sizes:
            cells = [human_size(size)]
            for np_ in nps:
                cells += [coll_fmt(coll_value(med, c, np_, op, pattern, size)) for c in configs]
                cells.append(coll_ratio_cell(coll_ratio(med, np_, op, pattern, size)))
            lines.append(md_row(cells))
    return lines


def coll_components(raw):
    """'ivm-2 ivm; vader-2 other; ' : the component that ran MPI_Allreduce
    in the first run of each configuration and rank count, which shows
    whether coll/ivm served exactly the ivm runs."""
    first = {}
    for row in raw:
        first.setdefault(f'{row[0]}-{row[1]}', row[8])
    return ''.join(f'{k} {c}; ' for k, c in first.items())


COPYFLOOR_METHODS = (
    ('two', 'two copies through shared memory (pipelined, 64 KiB chunks)'),
    ('one', "one copy from the sender's unchanged buffer (CMA in this benchmark)"),
    ('two-new', 'two copies, the sender rewriting its buffer before every send'),
    ('one-new', 'one copy, the sender rewriting its buffer before every send'),
)


def coll_copyfloor_lines(outdir):
    """The copy floor section: medians over the repetitions of
    bench/src/ivm_copyfloor's COPYFLOOR,method,size,us lines, per size,
    and two / one, the least a two-copy path can take relative to vader's
    single copy in this benchmark."""
    values = {}
    for path in sorted(glob.glob(os.path.join(outdir, 'runs', 'copyfloor.rep*.txt'))):
        for fields in tagged_lines(path, ('COPYFLOOR',)):
            method, size, us = pad(fields, 4)[1:4]
            if to_float(us) is not None and size.isdigit():
                values.setdefault((method, int(size)), []).append(to_float(us))
    sizes = sorted({k[1] for k in values})
    if not sizes:
        return []
    med = {k: summarize(v)[1] for k, v in values.items()}
    head = ['size'] + [m for m, _ in COPYFLOOR_METHODS] + ['two / one', 'two-new / one-new']
    lines = ['', '## Copy floor on this machine (bench/src/ivm_copyfloor, no MPI)', '',
             'Microseconds to move one buffer between two processes on CPUs 0 and 1, medians over '
             f'{max(len(v) for v in values.values())} runs: '
             + '; '.join(f'{m} = {d}' for m, d in COPYFLOOR_METHODS)
             + ". Malloc'd buffers cross a VM boundary with two copies at least, so "
             '"two / one" is about the ratio any component must expect against '
             "vader's single copy at that size in this benchmark (MPI's own costs come on "
             'top of both); "two-new / one-new" is the same when the data change between '
             'sends, as in an application.', '',
             md_row(head), md_rule(['--:'] * len(head))]
    for size in sizes:
        two, one, two_new, one_new = (med.get((m, size)) for m, _ in COPYFLOOR_METHODS)
        lines.append(md_row([human_size(size)] + [coll_fmt(v) for v in (two, one, two_new, one_new)]
                            + [fmt_value(ratio(two, one), 2), fmt_value(ratio(two_new, one_new), 2)]))
    return lines


def coll_summary(outdir, meta, med, raw):
    """summary.md of a coll run, as lines."""
    quick = meta.get('QUICK_FLAG', '')
    nps, configs = meta.get('NPS', '').split(), meta.get('CONFIGS', '').split()
    run_text = (f'{meta.get("REPS", "")} runs per configuration, '
                f'{meta.get("TARGET_MS", "")} ms per measured loop')
    lines = header_lines('coll/ivm latency benchmark', 'contrib/ivm-bench-coll' + quick,
                         run_text, meta)
    lines += run_notes('**Quick smoke run: the numbers are not meaningful.**' if quick else '',
                       failed_runs(outdir), 'config np rep exit')
    buffers = ('MPI_Alloc_mem with mpool_hints=ivm (in the region)'
               if meta.get('ALLOC_MEM') == '1' else 'malloc')
    lines += ['', 'Configurations: ' + '; '.join(f'{c} = {COLL_DESC.get(c, c)}' for c in configs)
              + f'. Buffers: {buffers}.', '', "Component that ran MPI_Allreduce (coll/ivm's MPI_T counter): "
              + coll_components(raw)]
    lines += coll_calls_lines(coll_calls(outdir), nps)
    lines += [''] + coll_ratios(med, nps, meta.get('PER_VM', ''))
    lines += coll_copyfloor_lines(outdir)
    for op in COLL_OPS:
        lines += coll_op_tables(med, op, nps, configs)
    return lines


def coll_plot_title(op, meta):
    """A plot's title: the collective, how it was measured, and where."""
    machine = (meta.get('machine') or machine_facts()).split(',')[0]
    day = time.strftime('%Y-%m-%d', time.gmtime(int(to_float(meta.get('t_end')) or 0)))
    return (f'MPI_{op}: median of {meta.get("REPS", "")} runs (lower is better); '
            f'{machine}, {day}, ivm {meta.get("git_rev", "unknown")}')


def coll_plots(outdir, med, meta):
    """OP.png per collective: medians against size, one panel per rank
    count, one line per configuration and pattern (size 0 drawn at 1 on
    the log axis), the legend below the panels, off the data."""
    configs = meta.get('CONFIGS', '').split()
    nps = meta.get('NPS', '').split()
    with tempfile.TemporaryDirectory(prefix='ivm-bench-coll-report.') as tmp:
        for op in COLL_OPS:
            sizes = coll_sizes(med, op)
            if not sizes:
                continue
            columns = [(c, p) for c in configs for p in COLL_PATTERNS
                       if any(k[0] == c and k[2] == op and k[3] == p for k in med)]
            panels = []
            for np_ in nps:
                rows = [(s or 1, [coll_value(med, c, np_, op, p, s) for c, p in columns])
                        for s in sizes]
                if not any(v is not None for _, values in rows for v in values):
                    continue  # gnuplot cannot draw a panel without a point
                dat = os.path.join(tmp, f'{op}-{np_}.dat')
                write_dat(dat, [f'{c}/{p}' for c, p in columns], rows)
                panels.append((np_, dat))
            if panels:
                one = (sizes[0] or 1) if len(sizes) == 1 else None
                run_gnuplot(coll_plot_script(f'{op}.png', panels, columns,
                                             coll_plot_title(op, meta), one), outdir)


def coll_plot_script(png, panels, columns, title, one_size=None):
    """Side-by-side log-log panels (one per rank count) sharing a title
    and a legend placed under them; one colour per configuration, solid
    for calls separated by barriers, dashed for back-to-back calls."""
    known = list(COLL_DESC)
    lines = [
        f'set terminal pngcairo size {560 * max(1, len(panels))},600 font ",10"',
        f"set output '{png}'", 'set termoption noenhanced',
        f"set multiplot layout 1,{max(1, len(panels))} title '{title}'",
        'set logscale x 2', COLL_XAXIS, 'set logscale y 10', "set format y '%g'",
        'set grid xtics ytics mytics', "set datafile missing 'NaN'",
        "set xlabel 'message size (bytes per rank)'", "set ylabel 'latency (us)'",
        'set key outside below horizontal maxcols 2 spacing 1.1',
        'set bmargin 8',
    ]
    if one_size:  # the only size measured (a log axis needs a range around it)
        lines.append(f"set xrange [{one_size / 2}:{one_size * 2}]")
    for np_, dat in panels:
        curves = []
        for i, (config, pattern) in enumerate(columns, start=2):
            colour = known.index(config) + 1 if config in known else len(known) + i
            dashes = 2 if pattern == 'b2b' else 1
            curves.append(f"'{dat}' using 1:{i} with linespoints lw 2 lc {colour} pt {i + 4} "
                          f"dt {dashes} title columnheader({i})")
        lines += [f"set title '{np_} ranks'", 'plot ' + ', '.join(curves)]
    lines.append('unset multiplot')
    return '\n'.join(lines) + '\n'


def coll_report(outdir, plots=True):
    """Every output of contrib/ivm-bench-coll from outdir/runs/."""
    meta = read_meta(outdir, 'ivm-bench-coll')
    raw = coll_raw_rows(outdir)
    write_csv(os.path.join(outdir, 'raw.csv'), COLL_RAW, raw)
    write_csv(os.path.join(outdir, 'medians.csv'), COLL_MEDIANS,
              median_rows(raw, (0, 1, 3, 4, 5), 7, '%.4g'))
    med = medians_by_key(read_csv(os.path.join(outdir, 'medians.csv')), 5, first=6)
    if plots:
        coll_plots(outdir, med, meta)
    write_text(os.path.join(outdir, 'summary.md'), coll_summary(outdir, meta, med, raw))


# ----------------------------------------------------------------------
# contrib/ivm-bench --qemu: test/progs/pingpong in QEMU guests

# (log file, column title) of the latency and bandwidth columns; tcp / ivm
# follows the two latency columns it divides
QEMU_LAT = (('ivm', 'ivm 2 guests'), ('tcp', 'tcp 2 guests (virtio-net)'),
            ('vader', 'vader 1 guest'), ('hostguest', 'ivm guest-host'), ('host', 'vader host'))
QEMU_BW = (('ivm', 'ivm MB/s'), ('tcp', 'tcp MB/s'), ('vader', 'vader guest MB/s'),
           ('hostguest', 'ivm guest-host MB/s'), ('host', 'vader host MB/s'))


def pingpong_values(path):
    """{size: {field: text}} from pingpong's "pingpong size=S k=v..." lines."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            words = line.split()
            if len(words) < 2 or words[0] != 'pingpong' or not words[1].startswith('size='):
                continue
            out[words[1][5:]] = dict(w.split('=', 1) for w in words[2:] if '=' in w)
    return out


def qemu_table(logdir, sizes):
    """The Markdown table of one contrib/ivm-bench --qemu run."""
    runs = {name: pingpong_values(os.path.join(logdir, name + '.log'))
            for name, _ in QEMU_LAT}

    def cell(name, size, field):
        return runs[name].get(size, {}).get(field, '-')

    titles = ['size (B)', QEMU_LAT[0][1], QEMU_LAT[1][1], 'tcp / ivm'] + \
        [t for _, t in QEMU_LAT[2:]] + [t for _, t in QEMU_BW]
    lines = [md_row(titles), md_rule(['---:'] * len(titles))]
    for size in sizes:
        ivm, tcp = to_float(cell('ivm', size, 'lat_us')), to_float(cell('tcp', size, 'lat_us'))
        speedup = f'{tcp / ivm:.0f}x' if ivm and tcp and ivm > 0 and tcp > 0 else '-'
        lines.append(md_row([size, cell('ivm', size, 'lat_us'), cell('tcp', size, 'lat_us'), speedup] +
                            [cell(n, size, 'lat_us') for n, _ in QEMU_LAT[2:]] +
                            [cell(n, size, 'bw_MBps') for n, _ in QEMU_BW]))
    return lines


# one-sided (contrib/ivm-bench-osc)

OSC_RAW = 'config,window,rep,test,size,iters,usec,osc_ivm_windows'
OSC_MEDIANS = 'config,window,test,size,n,median,min,max'
OSC_DESC = {  # config: (window flavor, description)
    'ivm': ('allocate', 'osc/ivm, 2 VMs (btl ivm,self)'),
    'sm': ('allocate', 'osc/sm, 1 VM (btl self,vader)'),
    'rdma': ('allocate', 'osc/rdma over btl/ivm, 2 VMs'),
    'ivm-create': ('create', 'osc/ivm, 2 VMs, MPI_Win_create on MPI_Alloc_mem(ivm)'),
    'vader-create': ('create', 'osc/rdma over vader, 1 VM, MPI_Win_create'),
}
OSC_TESTS = ('put', 'get', 'acc', 'fop', 'lock')
OSC_TARGETS = (  # test, size
    ('put', 8), ('get', 8), ('fop', 8))


def osc_run_label(path):
    """(config, rep) of runs/CONFIG.repN.out."""
    base = os.path.basename(path)[:-len('.out')]
    config, _, rep = base.partition('.rep')
    return config, rep


def osc_raw_rows(outdir):
    """raw.csv rows from RESULT,label,test,size,iters,usec lines, each with
    the run's OSC line (windows osc/ivm created: proves who served it)."""
    rows = []
    for path in run_files(outdir):
        config, rep = osc_run_label(path)
        windows, results = '', []
        for fields in tagged_lines(path, ('RESULT', 'OSC')):
            if fields[0] == 'OSC':
                windows = pad(fields, 2)[1]
            else:
                results.append(pad(fields, 6)[2:6])
        window = OSC_DESC.get(config, ('?', ''))[0]
        rows += [[config, window, rep] + r + [windows] for r in results]
    return rows


def osc_med(med, config, test, size):
    """The median of config's test at size, or None."""
    window = OSC_DESC.get(config, ('?', ''))[0]
    return med.get((config, window, test, size), (None,))[MEDIAN]


def osc_targets(med):
    """8 B put, get, fetch_and_op: ivm / sm <= 1.2, rdma / ivm >= 10."""
    lines = ['## Targets (2 ranks, 8 B, each operation followed by MPI_Win_flush)', '',
             md_row(['operation', 'osc/ivm 2 VMs (us)', 'osc/sm 1 VM (us)',
                     'osc/rdma over btl/ivm (us)', 'ivm / sm', 'required', 'result',
                     'rdma / ivm', 'required', 'result']),
             md_rule(['---', '--:', '--:', '--:', '--:', '--:', '---', '--:', '--:', '---'])]
    for test, size in OSC_TARGETS:
        ivm, sm, rdma = (osc_med(med, c, test, size) for c in ('ivm', 'sm', 'rdma'))
        r1, r2 = ratio(ivm, sm), ratio(rdma, ivm)
        lines.append(md_row([test, fmt_value(ivm, 3), fmt_value(sm, 3), fmt_value(rdma, 3),
                             'n/a' if r1 is None else '%.2fx' % r1, '<= 1.2x',
                             'n/a' if r1 is None else verdict(passes(r1, 'le', 1.2)),
                             'n/a' if r2 is None else '%.0fx' % r2, '>= 10x',
                             'n/a' if r2 is None else verdict(passes(r2, 'ge', 10))]))
    return lines


def osc_tables(med, configs):
    """Latency of every test and size, and put/get bandwidth, per config."""
    lines = ['', '## Latency (us, median of the runs)', '',
             md_row(['test', 'size'] + configs), md_rule(['---', '--:'] + ['--:'] * len(configs))]
    bw = ['', '## Bandwidth (MB/s = size / latency, median)', '',
          md_row(['test', 'size'] + configs), md_rule(['---', '--:'] + ['--:'] * len(configs))]
    for test in OSC_TESTS:
        sizes = sorted({k[3] for k in med if k[2] == test})
        for size in sizes:
            vals = [osc_med(med, c, test, size) for c in configs]
            lines.append(md_row([test, human_size(size)] + [fmt_value(v, 3) for v in vals]))
            if test in ('put', 'get') and size >= 4096:
                bw.append(md_row([test, human_size(size)] + [
                    'n/a' if not v else fmt_value(size / v, 0) for v in vals]))
    return lines + bw


def osc_summary(outdir, meta, med, raw, configs):
    """summary.md of an osc run, as lines."""
    quick = meta.get('QUICK_FLAG', '')
    run_text = (f'{meta.get("REPS", "")} runs per configuration, '
                f'{meta.get("TARGET_MS", "")} ms per measurement')
    lines = header_lines('One-sided (osc) benchmark', 'contrib/ivm-bench-osc' + quick,
                         run_text, meta)
    lines += run_notes('**Quick smoke run: the numbers are not meaningful.**' if quick else '',
                       failed_runs(outdir), 'config rep exit')
    first = {}
    for row in raw:
        first.setdefault(row[0], row[7])
    lines += ['', 'Configurations: ' + '; '.join(
        f'{c} = {OSC_DESC.get(c, ("", c))[1]}' for c in configs) + '.',
        '', "Windows osc/ivm created per run (its MPI_T counter osc_ivm_windows; -1: not "
        "loaded): " + ''.join(f'{c} {w}; ' for c, w in first.items()), ''] + osc_targets(med)
    return lines + osc_tables(med, configs)


def osc_plots(outdir, med, meta, configs):
    """put.png and get.png: latency against size, one line per config."""
    with tempfile.TemporaryDirectory(prefix='ivm-bench-osc-report.') as tmp:
        for test in ('put', 'get'):
            sizes = sorted({k[3] for k in med if k[2] == test})
            if not sizes:
                continue
            dat = os.path.join(tmp, test + '.dat')
            write_dat(dat, configs, [(s, [osc_med(med, c, test, s) for c in configs])
                                     for s in sizes])
            title = (f'MPI_{test.capitalize()} + MPI_Win_flush latency, median of '
                     f'{meta.get("REPS", "")} runs (lower is better)')
            run_gnuplot(gnuplot_script(f'{test}.png', dat, len(configs) + 1, title, 'bytes',
                                       'latency (us)', P2P_XAXIS, enhanced=False), outdir)


def osc_report(outdir, plots=True):
    """Every output of contrib/ivm-bench-osc from outdir/runs/."""
    meta = read_meta(outdir, 'ivm-bench-osc')
    raw = osc_raw_rows(outdir)
    configs = [c for c in meta.get('CONFIGS', '').split() if any(r[0] == c for r in raw)]
    write_csv(os.path.join(outdir, 'raw.csv'), OSC_RAW, raw)
    write_csv(os.path.join(outdir, 'medians.csv'), OSC_MEDIANS,
              median_rows(raw, (0, 1, 3, 4), 6, '%.4g'))
    med = medians_by_key(read_csv(os.path.join(outdir, 'medians.csv')), 4)
    if plots:
        osc_plots(outdir, med, meta, configs)
    write_text(os.path.join(outdir, 'summary.md'), osc_summary(outdir, meta, med, raw, configs))


# ----------------------------------------------------------------------
# command line


def main(argv=None):
    """Parse the command line and run one subcommand; 1 on a report error."""
    parser = argparse.ArgumentParser(
        prog='ivm_report.py', description='CSVs, plots and summary.md of the ivm benchmarks.')
    sub = parser.add_subparsers(dest='command', required=True)
    for name, what in (('p2p', 'contrib/ivm-bench'), ('coll', 'contrib/ivm-bench-coll'),
                       ('osc', 'contrib/ivm-bench-osc')):
        cmd = sub.add_parser(name, help=f"regenerate {what}'s outputs in OUT from OUT/runs/")
        cmd.add_argument('outdir', metavar='OUT')
        cmd.add_argument('--no-plots', action='store_true', help='do not run gnuplot')
    cmd = sub.add_parser('qemu', help="print contrib/ivm-bench --qemu's table from the logs in DIR")
    cmd.add_argument('logdir', metavar='DIR')
    cmd.add_argument('--sizes', required=True, help='comma-separated message sizes')
    sub.add_parser('machine', help="print this machine's machine='...' line for runs/meta.sh")
    args = parser.parse_args(argv)
    try:
        if args.command == 'machine':
            print('machine=' + shlex.quote(machine_facts()))
        elif args.command == 'qemu':
            print('\n'.join(qemu_table(args.logdir, args.sizes.split(','))))
        elif args.command == 'p2p':
            p2p_report(args.outdir, plots=not args.no_plots)
        elif args.command == 'osc':
            osc_report(args.outdir, plots=not args.no_plots)
        else:
            coll_report(args.outdir, plots=not args.no_plots)
    except (ReportError, OSError) as e:
        print(f'ivm_report: error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
