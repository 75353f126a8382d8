'use strict';
// index.js: the example addon's JavaScript entry: the module node-gyp built.
module.exports = require('./build/Release/uvev_example.node');
