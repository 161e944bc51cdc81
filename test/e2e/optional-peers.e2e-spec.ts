import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

describe('optional peers stay optional', () => {
  it('a REST app serves protected routes without loading any transport package', () => {
    const output = execFileSync(
      process.execPath,
      [
        '-r',
        join(__dirname, '../support/ts-register.cjs'),
        join(__dirname, '../support/rest-only-app.ts'),
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    const { statuses, loaded } = JSON.parse(output.trim().split('\n').pop()!) as {
      statuses: number[];
      loaded: string[];
    };
    expect(statuses).toEqual([401, 200, 403]);
    expect(loaded).toEqual([]);
  });
});
