// The lint tools for the repository's eslint.config.js. typescript-eslint and the helpers it
// loads (ts-api-utils) need TypeScript's JavaScript compiler API, which TypeScript 7, the
// build's compiler, no longer ships; npm hoists some of them next to it. So, in the lint process
// only, every require('typescript') loads the TypeScript 6 installed beside this file.
import Module, { createRequire } from 'node:module';

const typescript6 = createRequire(import.meta.url).resolve('typescript');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'typescript' ? typescript6 : request, ...rest);
};

export const { default: js } = await import('@eslint/js');
export const { default: tseslint } = await import('typescript-eslint');
