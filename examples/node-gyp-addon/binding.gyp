# examples/node-gyp-addon/binding.gyp: the example addon, built as an addon
# author builds one: uvev comes from npm (`npm install uvev`), its headers
# from require('uvev').include and its static library from the `uvev` target
# of require('uvev').gyp. Node's headers (and Node's uv.h) come from
# node-gyp; the addon links no libuv.
{
  'targets': [{
    'target_name': 'uvev_example',
    'sources': ['addon.c'],
    'include_dirs': ["<!(node -p \"require('uvev').include\")"],
    'dependencies': ["<!(node -p \"require('uvev').gyp\"):uvev"],
    'defines': ['NAPI_VERSION=8'],
  }],
}
