// Bundles the loader (js/loader.js + the wasm-bindgen glue from pkg/web) into dist/tailor.js,
// one classic script that a merchant can include with <script async>.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  mode: 'production',
  target: ['web', 'es2020'],
  entry: path.join(here, 'js/loader.js'),
  output: {
    path: path.join(here, 'dist'),
    filename: 'tailor.js',
    iife: true,
    clean: false,
  },
  module: {
    parser: {
      javascript: {
        // `new URL('tailor_bg.wasm', ...)` must not pull the wasm into the bundle as an asset.
        url: false,
      },
    },
    rules: [
      {
        test: /[\\/]pkg[\\/]web[\\/]tailor\.js$/,
        loader: path.join(here, 'scripts/webpack-no-import-meta.cjs'),
      },
    ],
  },
  performance: { hints: false },
  devtool: false,
};
