#!/usr/bin/env python3
"""check_readme.py README HEADER: the README's API tables against the header.

Every function include/uvev.h declares (UVEV_EXTERN) must appear in a table
row of the README, and every uvev_ call a table row names must be declared
there, so the summary cannot drift from the reference. Prints what differs
and exits 1, or prints the count and exits 0."""
import re
import sys

readme = open(sys.argv[1], encoding="utf-8").read()
header = open(sys.argv[2], encoding="utf-8").read()

declared = set(re.findall(r"UVEV_EXTERN\s[^;]*?\b(uvev_\w+)\s*\(", header))
rows = [line for line in readme.splitlines() if line.startswith("|")]
named = set()
for row in rows:
    named.update(re.findall(r"\b(uvev_\w+)\s*\(", row))

missing = sorted(declared - named)
unknown = sorted(named - declared)
for name in missing:
    print("README: no table row names %s, which uvev.h declares" % name)
for name in unknown:
    print("README: a table row names %s, which uvev.h does not declare" % name)
if missing or unknown:
    sys.exit(1)
print("README tables and uvev.h agree on %d functions" % len(declared))
