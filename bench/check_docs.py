#!/usr/bin/env python3
"""check_docs.py README BENCH_README UVEV_BENCH: the benchmark docs against
the program.

The metric list in bench/main.c is the one description of each metric. This
holds the docs to it: the table of README.md's "Benchmarks" section (a run's
results, a row or more per metric) and the table of bench/README.md's
"Metrics" section (exactly one row per metric, what each side does) must
name exactly the metrics `uvev-bench --list` prints, and neither may repeat
a one-line summary of `uvev-bench --help` word for word: that one lives in
the program. Prints what differs and exits 1, or prints the count and
exits 0."""
import re
import subprocess
import sys


def run(exe, option):
    return subprocess.run([exe, option], check=True, capture_output=True,
                          text=True).stdout


def section(text, title):
    """The lines under the `## title` heading, up to the next `## `."""
    lines = text.splitlines()
    try:
        start = lines.index("## " + title) + 1
    except ValueError:
        return None
    end = start
    while end < len(lines) and not lines[end].startswith("## "):
        end += 1
    return lines[start:end]


def table_names(lines):
    """The metric each body row of the section's tables names: the first
    word of its first cell, without backticks."""
    names = []
    for line in lines:
        if not line.startswith("|"):
            continue
        cell = line.strip("|").split("|")[0].strip()
        if cell == "name" or set(cell) <= set("-: "):
            continue  # a header or the line under it
        names.append(cell.split()[0].strip("`"))
    return names


def main():
    readme_path, bench_readme_path, exe = sys.argv[1:4]
    listed = run(exe, "--list").split()
    help_text = run(exe, "--help")
    summaries = {}
    for line in help_text.split("metrics:\n", 1)[1].splitlines():
        name, what = line.split(None, 1)
        summaries[name] = what.strip()
    errors = []
    if sorted(summaries) != sorted(listed):
        errors.append("--help and --list name different metrics")

    docs = [(readme_path, "Benchmarks", False),
            (bench_readme_path, "Metrics", True)]
    for path, title, once in docs:
        text = open(path, encoding="utf-8").read()
        lines = section(text, title)
        if lines is None:
            errors.append("%s: no section '## %s'" % (path, title))
            continue
        names = table_names(lines)
        for name in sorted(set(listed) - set(names)):
            errors.append("%s: the %s table has no row for %s" %
                          (path, title, name))
        for name in sorted(set(names) - set(listed)):
            errors.append("%s: the %s table names %s, which uvev-bench "
                          "--list does not" % (path, title, name))
        if once:
            for name in sorted(set(n for n in names if names.count(n) > 1)):
                errors.append("%s: %s has more than one row" % (path, name))
        flat = re.sub(r"\s+", " ", text)
        for name, what in sorted(summaries.items()):
            if what in flat:
                errors.append("%s: repeats the --help summary of %s; say "
                              "what the sides do instead" % (path, name))

    for error in errors:
        print(error)
    if errors:
        sys.exit(1)
    print("README.md, bench/README.md and uvev-bench agree on %d metrics" %
          len(listed))


main()
