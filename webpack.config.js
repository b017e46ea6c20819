// Bundles the loader (js/loader.js + the wasm-bindgen glue from pkg/web) into dist/tailor.js,
// one classic script that a merchant can include with <script async>, and the worker it starts
// (js/worker.js + its own copy of the glue) into dist/tailor.worker.js.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const here = path.dirname(fileURLToPath(import.meta.url));

export default {
  mode: 'production',
  target: ['web', 'es2020'],
  // The loader, and the worker it starts (js/worker.js): each one file with its own copy of the
  // glue (webpack shares no module between two entry scripts unless told to).
  entry: { tailor: path.join(here, 'js/loader.js'), 'tailor.worker': path.join(here, 'js/worker.js') },
  output: {
    path: path.join(here, 'dist'),
    filename: '[name].js',
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
  plugins: [
    // Chromium's explicit compile hint, in both files: every function of the file runs at load, so V8
    // compiles them all eagerly on the thread that streams the script, instead of lazily, one
    // by one, on the main thread. It roughly halved the loader's own main-thread time at 4x
    // CPU throttling (BENCHMARKS.md). It must be the file's first line, so it goes in after
    // the minifier (which drops comments).
    new webpack.BannerPlugin({ banner: '//# allFunctionsCalledOnLoad', raw: true, entryOnly: true, stage: webpack.Compilation.PROCESS_ASSETS_STAGE_REPORT }),
  ],
  // A third pass and arrow functions where `this` is not used: about 70 bytes of the loader's
  // exact budget (size-budgets.json).
  optimization: { minimizeOptions: { javascript: { compress: { passes: 3, unsafe_arrows: true, unsafe_methods: true } } } },
  performance: { hints: false },
  devtool: false,
};
