// Marks each build output folder with its module system, so Node loads
// dist/cjs as CommonJS and dist/esm as ES modules whatever the root says.
import { writeFileSync } from 'node:fs';

writeFileSync('dist/cjs/package.json', JSON.stringify({ type: 'commonjs' }) + '\n');
writeFileSync('dist/esm/package.json', JSON.stringify({ type: 'module' }) + '\n');
