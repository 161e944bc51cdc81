import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nestMajor } from '../../../lib/utils/nest-version.util';

describe('nestMajor', () => {
  it('is the major version of the @nestjs/core the application resolves', () => {
    const { version } = JSON.parse(
      readFileSync(join(__dirname, '../../../node_modules/@nestjs/core/package.json'), 'utf8'),
    ) as { version: string };
    expect(nestMajor()).toBe(Number.parseInt(version, 10));
  });
});
