#!/bin/sh
# test/consumers/pkg-config.sh MESON BUILDDIR WORKDIR PREFIX LIBDIR: builds
# consumer.c with the flags of the uvev.pc that `meson install --destdir`
# put in a tree, and runs it: first against the shared library, then, with
# the shared library taken out of the tree, statically with `pkg-config
# --static`, which must bring what libuvev.a needs.
set -eu
meson=$1 build=$2 work=$3 prefix=$4 libdir=$5
here=$(cd "$(dirname "$0")" && pwd)
# meson test points LD_LIBRARY_PATH at the build tree (the test depends on
# libuvev); the consumer must find the installed copy by itself.
unset LD_LIBRARY_PATH
cc=${CC:-cc}

rm -rf "$work"
mkdir -p "$work"
"$meson" install -C "$build" --no-rebuild --quiet --destdir "$work/root"
case $libdir in
  /*) lib=$work/root$libdir ;;
  *) lib=$work/root$prefix/$libdir ;;
esac
# The .pc files name /usr/local (the prefix); the sysroot maps their paths
# into the tree.
export PKG_CONFIG_PATH="$lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$work/root"

echo "shared: $(pkg-config --cflags --libs uvev)"
# shellcheck disable=SC2046  # the flags are words
$cc -o "$work/consumer-shared" "$here/consumer.c" \
  $(pkg-config --cflags --libs uvev)
LD_LIBRARY_PATH=$lib ldd "$work/consumer-shared" | grep -q "=> $lib/libuvev" ||
  { echo "FAIL: consumer-shared does not use $lib/libuvev.so"; exit 1; }
LD_LIBRARY_PATH=$lib "$work/consumer-shared"

rm -f "$lib"/libuvev.so*
echo "static: $(pkg-config --static --cflags --libs uvev)"
# shellcheck disable=SC2046
$cc -o "$work/consumer-static" "$here/consumer.c" \
  $(pkg-config --static --cflags --libs uvev)
if readelf -d "$work/consumer-static" | grep NEEDED | grep libuvev; then
  echo "FAIL: consumer-static needs a shared libuvev"
  exit 1
fi
"$work/consumer-static"
