import { SingleFlight } from '../../../lib/utils/single-flight.util';

describe('SingleFlight', () => {
  it('shares one promise per key while it runs, then forgets it', async () => {
    const flight = new SingleFlight<number>();
    let calls = 0;
    let open = () => {};
    const gate = new Promise<void>((resolve) => (open = resolve));
    const work = () => gate.then(() => ++calls);
    const both = Promise.all([flight.run('k', work), flight.run('k', work)]);
    open(); // both calls were made while the first one's work was still pending
    const [a, b] = await both;
    expect([a, b, calls]).toEqual([1, 1, 1]);
    expect(flight.has('k')).toBe(false);
    await expect(flight.run('k', work)).resolves.toBe(2);
  });
  it('a failure is shared too and not kept', async () => {
    const flight = new SingleFlight<number>();
    await expect(flight.run('k', () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(flight.run('k', () => Promise.resolve(1))).resolves.toBe(1);
  });
});
