#!/usr/bin/env python3
# Copyright (c) 2026 The ivm authors.  All rights reserved.
# SPDX-License-Identifier: BSD-3-Clause
"""Style checks of the project's shell scripts (test/integration/shell_style.sh).

functions  No shell function in contrib/ or test/ is longer than --max-lines
           (default 80) lines of code.  The lines of a here-document are the
           text it writes (help text, a generated config file or script),
           not the function's logic, so they do not count; everything else
           between the header and the closing brace does, blank lines and
           comments included.
duplicates No run of --min-run (default 10) or more identical lines (white
           space folded; blank lines and comments skipped) stands in two of
           the given files, e.g. the two VM harnesses, whose shared logic
           lives in contrib/ivm-vm-lib.sh.

Exit 0 when every check passes, 1 with one line per finding otherwise.
Run: python3 -B test/python/check_shell_style.py functions|duplicates ...
"""

import argparse
import os
import re
import sys

HEADER = re.compile(r"^(\s*)(?:function\s+)?([A-Za-z_][A-Za-z0-9_:-]*)\s*\(\)\s*([{(])\s*(.*)$")
HEREDOC = re.compile(r"<<(-?)\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\2")


def is_bash(path):
    """A shell script: *.sh, or an executable file with a sh/bash shebang."""
    if path.endswith(".sh"):
        return True
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return False
    return first.startswith(b"#!") and re.search(rb"\b(ba)?sh\b", first) is not None


def code_lines(text):
    """Yield (lineno, line, in_heredoc) for every line of a script."""
    pending = []  # here-documents opened on the current line, in order
    for no, line in enumerate(text.splitlines(), 1):
        if pending:
            strip_tabs, word = pending[0]
            body = line.lstrip("\t") if strip_tabs else line
            if body == word:
                pending.pop(0)
            yield no, line, True
            continue
        yield no, line, False
        if not line.lstrip().startswith("#"):
            for m in HEREDOC.finditer(line):
                pending.append((m.group(1) == "-", m.group(3)))


def functions(path):
    """Yield (name, first line, last line, counted lines) of each function."""
    lines = list(code_lines(open(path, encoding="utf-8", errors="replace").read()))
    open_fns = []  # stack of [name, indent, closer, start, counted]
    for no, line, in_doc in lines:
        for fn in open_fns:
            if not in_doc:
                fn[4] += 1
        if in_doc:
            continue
        m = HEADER.match(line)
        if m:
            indent, name, brace, rest = m.groups()
            closer = "}" if brace == "{" else ")"
            # a one-line function ends on its own line
            if not rest.rstrip().endswith(closer):
                open_fns.append([name, indent, closer, no, 1])
            continue
        if open_fns:
            name, indent, closer, start, counted = open_fns[-1]
            if re.match(r"^" + re.escape(indent) + re.escape(closer) + r"\s*(;.*|#.*|[<>|&].*)?$", line):
                open_fns.pop()
                yield name, start, no, counted
    for name, _, _, start, counted in open_fns:
        yield name, start, None, counted


def check_functions(paths, max_lines):
    bad = 0
    for path in paths:
        for name, start, end, counted in functions(path):
            if end is None:
                print(f"{path}:{start}: cannot find the end of function {name}")
                bad += 1
            elif counted > max_lines:
                print(f"{path}:{start}-{end}: function {name} has {counted} lines (at most {max_lines})")
                bad += 1
    return bad


def normalised(path):
    """(lineno, text) of the lines that count for duplicates."""
    out = []
    for no, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
        s = " ".join(line.split())
        if s and not s.startswith("#") and s not in ("}", "{", "fi", "done", "esac", ";;", "else", "EOF"):
            out.append((no, s))
    return out


def shared_runs(a, b, min_run):
    """Maximal runs of >= min_run consecutive identical counted lines."""
    la, lb = normalised(a), normalised(b)
    where = {}
    for j, (_, s) in enumerate(lb):
        where.setdefault(s, []).append(j)
    runs = []
    prev = {}  # j -> run length ending at (i - 1, j - 1)
    for i, (_, s) in enumerate(la):
        cur = {}
        for j in where.get(s, ()):
            cur[j] = prev.get(j - 1, 0) + 1
        for j, n in prev.items():
            if cur.get(j + 1, 0) == 0 and n >= min_run:
                runs.append((la[i - n][0], la[i - 1][0], lb[j - n + 1][0], lb[j][0], n))
        prev = cur
    for j, n in prev.items():
        if n >= min_run:
            runs.append((la[len(la) - n][0], la[-1][0], lb[j - n + 1][0], lb[j][0], n))
    return runs


def check_duplicates(paths, min_run):
    bad = 0
    for x in range(len(paths)):
        for y in range(x + 1, len(paths)):
            for a0, a1, b0, b1, n in shared_runs(paths[x], paths[y], min_run):
                print(f"{paths[x]}:{a0}-{a1} ~ {paths[y]}:{b0}-{b1}: {n} identical lines")
                bad += 1
    return bad


def expand(paths):
    out = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, files in os.walk(p):
                out += [os.path.join(root, f) for f in sorted(files)]
        else:
            out.append(p)
    return sorted(p for p in out if is_bash(p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="check", required=True)
    f = sub.add_parser("functions", help="no shell function over --max-lines lines")
    f.add_argument("--max-lines", type=int, default=80)
    f.add_argument("--exclude", action="append", default=[], help="path to skip (repeatable)")
    f.add_argument("paths", nargs="+", help="scripts or directories")
    d = sub.add_parser("duplicates", help="no run of --min-run identical lines between files")
    d.add_argument("--min-run", type=int, default=10)
    d.add_argument("paths", nargs="+", help="two or more files")
    args = ap.parse_args()
    if args.check == "functions":
        paths = [p for p in expand(args.paths) if p not in args.exclude]
        bad = check_functions(paths, args.max_lines)
        print(f"functions: {len(paths)} scripts checked, {bad} finding(s)")
    else:
        bad = check_duplicates(args.paths, args.min_run)
        print(f"duplicates: {len(args.paths)} files compared, {bad} shared run(s) of >= {args.min_run} lines")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
