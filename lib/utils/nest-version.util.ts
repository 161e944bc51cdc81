import { createRequire } from 'node:module';
import { join } from 'node:path';

let major: number | undefined | null = null;

/**
 * The major version of the `@nestjs/core` the application runs, as resolved from its working
 * directory (read once); undefined when it cannot be told. NestJS 11 and 12 differ where the
 * platform fails open (gateways and global guards) and in what a `ws` gateway sends.
 */
export function nestMajor(): number | undefined {
  if (major === null) {
    try {
      const require = createRequire(join(process.cwd(), 'noop.js'));
      const { version } = require('@nestjs/core/package.json') as { version: string };
      major = Number.parseInt(version, 10);
    } catch {
      major = undefined;
    }
  }
  return major;
}
