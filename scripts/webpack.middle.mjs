// webpack.config.js with scripts/bench-middle.js and its worker as the entries (scripts/build-middle.sh).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import base from '../webpack.config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export default { ...base, entry: { tailor: path.join(here, 'bench-middle.js'), 'tailor.worker': path.join(here, 'bench-middle-worker.js') } };
