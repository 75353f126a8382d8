'use strict';
// npm/index.js: what require('uvev') gives a node-gyp addon's binding.gyp,
// as node-addon-api does for its own:
//   include  the directory of uvev.h, an absolute path
//   gyp      npm/uvev.gyp, relative to the current directory (node-gyp
//            runs <!(...) commands in the directory of binding.gyp); its
//            target is `uvev`: "<!(node -p \"require('uvev').gyp\"):uvev"
const path = require('path');

module.exports = {
  include: path.join(__dirname, '..', 'include'),
  gyp: path.relative('.', path.join(__dirname, 'uvev.gyp')),
  version: require('../package.json').version,
};
