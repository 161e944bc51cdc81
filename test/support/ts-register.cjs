// Lets a plain `node` child process (the fleet workers) load this repository's TypeScript, the
// way jest does: swc transpiles .ts to CommonJS with decorator metadata, and the lib's
// `./x.js` imports resolve to `./x.ts`. NestJS 12 (ESM) loads through Node's require(esm).
const Module = require('node:module');
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  try {
    return resolve.call(this, request, parent, ...rest);
  } catch (error) {
    if (!request.startsWith('.')) throw error;
    const base = request.endsWith('.js') ? request.slice(0, -3) : request;
    return resolve.call(this, `${base}.ts`, parent, ...rest);
  }
};

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};
