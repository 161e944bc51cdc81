import { createRequire } from 'node:module';
import { join } from 'node:path';

let major: number | undefined | null = null;

/**
 * Where `@nestjs/core` is resolved from: this file in the CommonJS build (the copy this library
 * loads, even in a monorepo whose root has another), the working directory in the ES module
 * build, which has no `__filename`.
 */
function resolveFrom(): string {
  return typeof __filename === 'string' ? __filename : join(process.cwd(), 'noop.js');
}

/**
 * The major version of the `@nestjs/core` the application runs (read once); undefined when it
 * cannot be told. NestJS 11 and 12 differ where the platform fails open (gateways and global
 * guards) and in what a `ws` gateway sends.
 */
export function nestMajor(): number | undefined {
  if (major === null) {
    try {
      const require = createRequire(resolveFrom());
      const { version } = require('@nestjs/core/package.json') as { version: string };
      major = Number.parseInt(version, 10);
    } catch {
      major = undefined;
    }
  }
  return major;
}
