#!/bin/sh
# test/consumers/npm.sh SRCDIR WORKDIR VERSION SOURCES...: what a Node addon
# author does with uvev's npm package. `npm pack` in SRCDIR; a new project
# with examples/node-gyp-addon's files installs that tarball (offline);
# node-gyp, from the npm registry, builds it against this node's own headers
# (--nodedir: nothing downloaded); then `node --test test.js`, which also
# checks that the addon links no libuv. VERSION is meson's project version
# and SOURCES the library's sources (meson.build): the package must agree
# with both.
#
# node-gyp is installed once into $UVEV_CACHE (default ~/.cache/uvev), by
# version, so later runs need no network at all. Exit 77 (skipped) without
# node, npm, or the headers of this node.
set -eu
src=$1 work=$2 version=$3
shift 3
node_gyp_version=11.5.0   # supports Node ^18.17 and >= 20.5

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

command -v node >/dev/null || skip "node not found"
command -v npm >/dev/null || skip "npm not found"
# Node's headers live in <prefix>/include/node, next to <prefix>/bin/node,
# and their uv.h must be the libuv this node runs.
prefix=$(node -p 'require("path").resolve(process.execPath, "../..")')
headers=$prefix/include/node
[ -f "$headers/node_api.h" ] && [ -f "$headers/uv/version.h" ] ||
  skip "no Node headers (node_api.h, uv.h) in $headers"
header_uv=$(sed -n 's/^#define UV_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' \
  "$headers/uv/version.h" | paste -sd.)
node_uv=$(node -p process.versions.uv)
[ "$header_uv" = "$node_uv" ] ||
  skip "$headers has libuv $header_uv, node runs $node_uv"

# The package agrees with meson.build: its version, and the gyp target's
# sources are the library's.
[ "$(node -p "require('$src/package.json').version")" = "$version" ] ||
  fail "package.json's version is not meson.build's $version"
python3 - "$src/npm/uvev.gyp" "$@" <<'EOF'
import ast, os, sys
gyp = ast.literal_eval(open(sys.argv[1]).read())
listed = sorted(os.path.basename(f) for f in gyp["targets"][0]["sources"])
library = sorted(os.path.basename(f) for f in sys.argv[2:])
if listed != library:
    sys.exit("FAIL: npm/uvev.gyp compiles %s, meson.build's library %s"
             % (listed, library))
EOF

cache=${UVEV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/uvev}
gyp_dir=$cache/node-gyp-$node_gyp_version
node_gyp=$gyp_dir/node_modules/.bin/node-gyp
if ! "$node_gyp" --version >/dev/null 2>&1; then
  echo "installing node-gyp $node_gyp_version into $gyp_dir"
  rm -rf "$gyp_dir.new"
  mkdir -p "$gyp_dir.new"
  timeout 300 npm install --prefix "$gyp_dir.new" --no-save --no-audit \
    --no-fund --loglevel=warn "node-gyp@$node_gyp_version"
  rm -rf "$gyp_dir"
  mv "$gyp_dir.new" "$gyp_dir"
fi

rm -rf "$work"
mkdir -p "$work/project"
tarball=$(cd "$src" && npm pack --silent --pack-destination "$work")
tarball=$work/$tarball
contents=$(tar -tzf "$tarball")
for f in package/package.json package/npm/index.js package/npm/uvev.gyp \
         package/include/uvev.h package/include/uvev/private.h \
         package/src/atomic.h; do
  echo "$contents" | grep -qx "$f" || fail "$tarball has no $f"
done
for f in "$@"; do
  echo "$contents" | grep -qx "package/src/$(basename "$f")" ||
    fail "$tarball has no src/$(basename "$f")"
done
if echo "$contents" | grep -Ev '^package/(package.json|README.md|npm/|include/|src/)'
then
  fail "$tarball carries more than the package needs (above)"
fi

example=$src/examples/node-gyp-addon
cp "$example/package.json" "$example/binding.gyp" "$example/addon.c" \
   "$example/index.js" "$example/test.js" "$work/project/"
cd "$work/project"
npm install --offline --ignore-scripts --no-audit --no-fund --loglevel=warn \
  "$tarball"
node -e '
  const fs = require("fs"), path = require("path"), uvev = require("uvev");
  if (!fs.existsSync(path.join(uvev.include, "uvev.h")))
    throw new Error(`no uvev.h in require("uvev").include: ${uvev.include}`);
  if (!fs.existsSync(uvev.gyp))
    throw new Error(`no file at require("uvev").gyp: ${uvev.gyp}`);'

"$node_gyp" rebuild --nodedir="$prefix" --jobs=max --loglevel=warn
grep -q "\"nodedir\": \"$prefix\"" build/config.gypi ||
  fail "node-gyp did not build against $prefix"
# test.js bounds each wait; this bounds the process, which would not exit
# if something kept Node's loop alive.
timeout 180 node --test test.js
