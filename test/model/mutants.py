#!/usr/bin/env python3
"""mutants.py: prints the mutant table of docs/design.md ("## 9. Mutants"),
one "NUMBER SET" line per mutant, for test/model/meson.build. The table is
the only list of mutants; this keeps the build from having a second one."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## 9. Mutants", 1)[1].split("\n## ", 1)[0]
rows = re.findall(r"^\| (\d+) \| (core|chan) \|", section, re.M)
if not rows:
    sys.exit("no mutant rows found in " + sys.argv[1])
numbers = [int(n) for n, _ in rows]
if numbers != list(range(1, len(numbers) + 1)):
    sys.exit("mutants must be numbered 1..N in order, found %s" % numbers)
for n, s in rows:
    print(n, s)
