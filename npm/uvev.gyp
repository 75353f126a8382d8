# npm/uvev.gyp: the gyp target `uvev` of the npm package, for node-gyp addons.
#
# A static library of uvev's sources (the library's, as meson.build lists
# them; the consumers test checks that the two lists agree). node-gyp puts
# the include directory of the Node being built for on every target's
# include path, so <uv.h> here is Node's own, and the library links no libuv:
# the addon's uv_* references bind to the ones the node binary exports (on
# Windows through node.lib; on macOS with -undefined dynamic_lookup). A
# second libuv in the process would not be the one running Node's loop.
# A dependent gets include/ on its include path.
{
  'targets': [{
    'target_name': 'uvev',
    'type': 'static_library',
    'sources': [
      '../src/any.c',
      '../src/chan.c',
      '../src/event.c',
      '../src/heap.c',
      '../src/ring.c',
      '../src/sync.c',
      '../src/wait.c',
      '../src/waitset.c',
      '../src/waker.c',
    ],
    'include_dirs': ['../include'],
    'direct_dependent_settings': {
      'include_dirs': ['../include'],
    },
    'conditions': [
      ['OS=="win"', {
        # The sources use the GCC/Clang __atomic builtins and GNU inline
        # asm, which MSVC's cl lacks: this target builds with clang-cl
        # (Visual Studio's "C++ Clang tools for Windows"); the addon links
        # it with MSVC's linker as any other library.
        'msbuild_toolset': 'ClangCL',
      }],
      ['OS=="mac"', {
        'xcode_settings': {'GCC_C_LANGUAGE_STANDARD': 'gnu11'},
      }],
      ['OS!="win" and OS!="mac"', {
        'cflags_c': ['-std=gnu11'],
      }],
      ['OS=="linux" or OS=="freebsd"', {
        # uvev.h declares its functions with default visibility; GNU ld and
        # lld keep them out of the addon's dynamic symbol table, so that an
        # addon's calls into uvev bind to its own copy, never to another
        # addon's, and need no PLT. (macOS's two-level namespace binds them
        # to the addon's own copy by itself.)
        'link_settings': {'ldflags': ['-Wl,--exclude-libs,uvev.a']},
      }],
    ],
  }],
}
