#!/bin/sh
# test/consumers/cmake.sh MESON BUILDDIR WORKDIR PREFIX VERSION: a CMake
# project (cmake/) finds uvev with find_package in a `meson install
# --destdir` tree, through CMAKE_PREFIX_PATH, builds consumer.c against
# uvev::uvev and runs it. Exit 77 (skipped) when cmake is missing.
set -eu
meson=$1 build=$2 work=$3 prefix=$4 version=$5
here=$(cd "$(dirname "$0")" && pwd)
# meson test points LD_LIBRARY_PATH at the build tree (the test depends on
# libuvev); the consumer must find the installed copy by itself.
unset LD_LIBRARY_PATH

command -v cmake >/dev/null || { echo "skipped: cmake not found"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
"$meson" install -C "$build" --no-rebuild --quiet --destdir "$work/root"
root=$work/root$prefix

cmake -S "$here/cmake" -B "$work/build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$root" -DUVEV_VERSION="$version"
cmake --build "$work/build"

# The program links the uvev of that tree, not one installed elsewhere.
ldd "$work/build/consumer" | grep libuvev
ldd "$work/build/consumer" | grep -q "=> $root/" ||
  { echo "FAIL: consumer does not use $root's libuvev"; exit 1; }
"$work/build/consumer"
