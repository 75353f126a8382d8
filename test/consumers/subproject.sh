#!/bin/sh
# test/consumers/subproject.sh MESON SRCDIR WORKDIR: a meson project
# (subproject/) with a copy of uvev's source tree in subprojects/uvev builds
# and runs consumer.c. uvev as a subproject must build only the library: its
# configure must not look for Check (the tests) or Node (the examples).
# Exit 77 (skipped) when SRCDIR is not a git checkout (the copy is the files
# git knows, as a clone or a release would have them).
set -eu
meson=$1 src=$2 work=$3
here=$(cd "$(dirname "$0")" && pwd)

git -C "$src" rev-parse --git-dir >/dev/null 2>&1 ||
  { echo "skipped: $src is not a git checkout"; exit 77; }

rm -rf "$work"
mkdir -p "$work/project/subprojects/uvev"
cp "$here/subproject/meson.build" "$here/consumer.c" "$work/project/"
# Tracked files and new ones not ignored: no build trees, no .git.
git -C "$src" ls-files -z --cached --others --exclude-standard |
  (cd "$src" && tar --null -T - -cf -) |
  tar -C "$work/project/subprojects/uvev" -xf -

# --force-fallback-for: the subproject even if an installed uvev is found.
"$meson" setup "$work/build" "$work/project" --force-fallback-for=uvev
log=$work/build/meson-logs/meson-log.txt
# The log names what configure looked for; libuv shows the wording.
grep -q "Run-time dependency libuv found" "$log" ||
  { echo "FAIL: $log does not say how libuv was found"; exit 1; }
if grep -E "Run-time dependency check |Program node " "$log"; then
  echo "FAIL: uvev as a subproject looked for Check or Node"
  exit 1
fi
ninja -C "$work/build"
"$work/build/consumer"
