#!/usr/bin/env python3
"""mutants.py: prints the mutant table of docs/design.md ("## 9. Mutants"),
one "NUMBER SCENARIO,SCENARIO..." line per mutant (the scenarios of its
"caught by" column), for test/model/meson.build. The table is the only list
of mutants; this keeps the build from having a second one."""
import re
import sys

text = open(sys.argv[1], encoding="utf-8").read()
section = text.split("## 9. Mutants", 1)[1].split("\n## ", 1)[0]
rows = re.findall(r"^\| (\d+) \| ([^|]*) \|", section, re.M)
if not rows:
    sys.exit("no mutant rows found in " + sys.argv[1])
numbers = [int(n) for n, _ in rows]
if numbers != list(range(1, len(numbers) + 1)):
    sys.exit("mutants must be numbered 1..N in order, found %s" % numbers)
for n, caught_by in rows:
    names = re.findall(r"`([^`]+)`", caught_by)
    if not names or any("," in s or " " in s for s in names):
        sys.exit("mutant %s: no scenario names in its caught-by column" % n)
    print(n, ",".join(names))
