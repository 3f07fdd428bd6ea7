#!/usr/bin/env node
// Thin launcher: the command line itself is compiled from bin/cli.ts into dist/.
import('../dist/bin/cli.js').catch((err) => {
  if (err && err.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/bin/cli.js')) {
    console.error('chargebench is not built yet: run `npm install` (or `npm run build`) first.');
    process.exit(2);
  }
  throw err;
});
