// webpack.config.js with the loader's page glue replaced by scripts/bench-jsdom.js: the real
// loader with a JavaScript DOM layer and no WebAssembly on the page (scripts/build-jsdom.sh).
// Never shipped.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';
import base from '../webpack.config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export default {
  ...base,
  entry: { tailor: path.join(here, '../js/loader.js') },
  plugins: [
    ...base.plugins,
    new webpack.NormalModuleReplacementPlugin(/pkg[\\/]web[\\/]tailor\.js/, path.join(here, 'bench-jsdom.js')),
  ],
};
