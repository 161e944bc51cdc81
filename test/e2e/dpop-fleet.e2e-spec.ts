import { randomUUID } from 'node:crypto';
import { createClient } from 'redis';
import { DpopTestKey, VoxKeyTestRealm } from '../../lib/testing/index';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';
import { FleetWorker } from '../support/fleet';
import { sleep } from '../support/http-stub';
import { describeWithRedis, RedisServer } from '../support/redis-server';

// A fleet: API instances in their own processes (one VoxKeyModule app each, as in production)
// sharing one real redis-server through `store: new RedisStore({ url })`, behind one public URL.
const PUBLIC = 'https://api.example.com';
const POSTS = `${PUBLIC}/posts`;
const ALGS = `algs="${SUPPORTED_ALGORITHMS.join(' ')}"`;
/** The replay cache's warning when it answers from an instance's memory. */
const LOCAL_WARNING = 'DPoP replay cache: the shared store is unavailable';

interface Answer {
  status: number;
  challenge: string | null;
  retryAfter: string | null;
}

describeWithRedis('DPoP replay cache of a fleet sharing Redis', () => {
  let redis: RedisServer;
  let realm: VoxKeyTestRealm;
  let inspector: ReturnType<typeof createClient>;
  /** Two instances with `onStoreDown: 'local'`, one with `'reject'`. */
  let one: FleetWorker;
  let two: FleetWorker;
  let strict: FleetWorker;
  const key = DpopTestKey.generate();
  let token: string;
  /** Every jti, proof and token sent, for the checks of Redis and of the logs. */
  const jtis: string[] = [];
  const secrets: string[] = [];

  /** A fresh proof for GET /posts with the bound token. */
  const proof = (): string => {
    const jti = `jti-${randomUUID()}`;
    const value = key.proof('GET', POSTS, { accessToken: token, jti });
    jtis.push(jti);
    secrets.push(value);
    return value;
  };
  const get = async (worker: FleetWorker, dpop: string): Promise<Answer> => {
    const res = await fetch(`${worker.url}/posts`, {
      headers: { authorization: `DPoP ${token}`, dpop },
    });
    await res.arrayBuffer();
    return {
      status: res.status,
      challenge: res.headers.get('www-authenticate'),
      retryAfter: res.headers.get('retry-after'),
    };
  };
  const expectAccepted = (answer: Answer) => {
    expect(answer).toEqual({ status: 200, challenge: null, retryAfter: null });
  };
  const expectReplayRefused = (answer: Answer) => {
    expect(answer.status).toBe(401);
    expect(answer.challenge).toMatch(
      new RegExp(`^Bearer realm="[^"]+", DPoP error="invalid_dpop_proof", .*${ALGS}`),
    );
  };
  /** The replay cache's keys in Redis. */
  const replayKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const batch of inspector.scanIterator({ MATCH: 'voxkey:dpop:*', COUNT: 1000 })) {
      keys.push(...batch);
    }
    return keys;
  };
  /** `count` replay keys, each a hash (no jti in its name, `1` as its value). */
  const expectReplayKeys = async (count: number) => {
    const keys = await replayKeys();
    expect(keys).toHaveLength(count);
    for (const name of keys) {
      expect(name).toMatch(/^voxkey:dpop:[\w-]{43}$/);
      expect(await inspector.get(name)).toBe('1');
    }
    const names = keys.join('\n');
    for (const jti of jtis) expect(names).not.toContain(jti);
  };
  const warnings = async (worker: FleetWorker) =>
    (await worker.logs()).filter((line) => line.includes(LOCAL_WARNING)).length;
  /** Whether a test left Redis killed (it is restarted after that test, for the next ones). */
  let redisDown = false;
  const killRedis = async () => {
    redisDown = true;
    await redis.kill();
  };
  const restartRedis = async () => {
    await redis.restart();
    redisDown = false;
  };
  /** No instance logged a token, a proof or a jti sent so far (the refusals are logged). */
  const expectNothingSecretLogged = async () => {
    const lines = (await Promise.all([one, two, strict].map((w) => w.logs()))).flat();
    expect(lines.some((l) => l.includes('invalid_dpop_proof (replay)'))).toBe(true);
    for (const secret of secrets) {
      const signature = secret.split('.')[2];
      for (const line of lines) expect(line).not.toContain(signature);
    }
    for (const jti of jtis) for (const line of lines) expect(line).not.toContain(jti);
  };
  /** Polls `worker` with fresh proofs until one is recorded in Redis again (bounded). */
  const untilShared = async (worker: FleetWorker) => {
    for (let i = 0; i < 40; i++) {
      const before = (await replayKeys()).length;
      const answer = await get(worker, proof());
      if ((await replayKeys()).length > before) return answer;
      await sleep(200);
    }
    throw new Error('the instance did not use Redis again within 8 s');
  };

  beforeAll(async () => {
    redis = await RedisServer.start();
    realm = await VoxKeyTestRealm.start();
    inspector = createClient({ url: redis.url });
    inspector.on('error', () => undefined); // Redis is killed on purpose below
    await inspector.connect();
    const options = (onStoreDown: 'local' | 'reject') =>
      realm.moduleOptions({ dpop: { publicUrl: PUBLIC, replay: { onStoreDown } } });
    const started = await Promise.allSettled([
      FleetWorker.start(redis.url, options('local')),
      FleetWorker.start(redis.url, options('local')),
      FleetWorker.start(redis.url, options('reject')),
    ]);
    // Those that started are stopped in afterAll even when another did not.
    [one, two, strict] = started.map((r) => (r.status === 'fulfilled' ? r.value : undefined!));
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    token = realm.mint({ scope: 'read:posts', dpopKey: key });
    secrets.push(token);
  }, 40_000);
  afterEach(async () => {
    if (redisDown) await restartRedis();
  });
  afterAll(async () => {
    await Promise.all([one?.stop(), two?.stop(), strict?.stop()]);
    await inspector?.close().catch(() => undefined);
    await realm?.close();
    await redis?.stop();
  });

  it('a proof accepted by one instance is refused by the other, both ways; one key per accepted proof', async () => {
    await inspector.flushAll();
    const first = proof();
    expectAccepted(await get(one, first));
    expectReplayRefused(await get(two, first));
    const second = proof();
    expectAccepted(await get(two, second));
    expectReplayRefused(await get(one, second));
    // And on the instance that accepted it.
    expectReplayRefused(await get(two, second));
    await expectReplayKeys(2);
    await expectNothingSecretLogged();
  });

  it('of 40 concurrent copies of a proof, 20 sent to each instance, exactly one is accepted', async () => {
    await inspector.flushAll();
    const once = proof();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => get(i % 2 === 0 ? one : two, once)),
    );
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    const refused = answers.filter((a) => a.status !== 200);
    expect(refused).toHaveLength(39);
    refused.forEach(expectReplayRefused);
    await expectReplayKeys(1);
    await expectNothingSecretLogged();
  });

  it("'local': with Redis killed fresh proofs are accepted, a proof used during the outage is refused again by that instance, one warning per outage", async () => {
    await inspector.flushAll();
    const before = proof();
    expectAccepted(await get(one, before));
    expect(await warnings(one)).toBe(0);

    await killRedis();
    const during: Answer[] = [];
    for (let i = 0; i < 5; i++) during.push(await get(one, proof()));
    for (let i = 0; i < 3; i++) during.push(await get(two, proof()));
    expect(during.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    const used = proof();
    expectAccepted(await get(one, used));
    expectReplayRefused(await get(one, used));
    // The trade-off 'local' documents: memory knows only what it saw since the outage began, so
    // a proof used on another instance, or before the outage, passes once more.
    expectAccepted(await get(two, used));
    expectReplayRefused(await get(two, used));
    expectAccepted(await get(one, before));
    expectReplayRefused(await get(one, before));
    // Past the store's one-second probe, which fails again: still one warning.
    await sleep(1_100);
    const later = proof();
    expectAccepted(await get(one, later));
    expectReplayRefused(await get(one, later));
    expect(await warnings(one)).toBe(1);
    expect(await warnings(two)).toBe(1);

    await restartRedis();
    expectAccepted(await untilShared(one));
    expectAccepted(await untilShared(two));
    // Shared again: a proof accepted by one instance is refused by the other.
    const shared = proof();
    expectAccepted(await get(one, shared));
    expectReplayRefused(await get(two, shared));
    expect(await warnings(one)).toBe(1);

    // A second outage is warned about once more.
    await killRedis();
    expectAccepted(await get(one, proof()));
    expectAccepted(await get(one, proof()));
    expect(await warnings(one)).toBe(2);
    await restartRedis();
    await untilShared(one);
    await untilShared(two);
    await expectNothingSecretLogged();
  }, 40_000);

  it("'reject': with Redis killed fresh proofs get 503 with Retry-After and none is accepted, until it is back", async () => {
    await inspector.flushAll();
    expectAccepted(await untilShared(strict));
    await expectReplayKeys(1);

    await killRedis();
    const during: Answer[] = [];
    for (let i = 0; i < 5; i++) during.push(await get(strict, proof()));
    await sleep(1_100); // the store's probe fails again
    for (let i = 0; i < 3; i++) during.push(await get(strict, proof()));
    expect(during.filter((a) => a.status === 200)).toHaveLength(0);
    for (const answer of during) {
      expect(answer.status).toBe(503);
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(answer.challenge).toBeNull();
    }

    await restartRedis(); // empty: nothing is persisted
    let refusedAfterRestart = 0;
    let first: Answer | undefined;
    for (let i = 0; i < 40 && first === undefined; i++) {
      const answer = await get(strict, proof());
      if (answer.status === 200) first = answer;
      else {
        expect(answer.status).toBe(503);
        refusedAfterRestart++;
        await sleep(200);
      }
    }
    expect(first).toBeDefined();
    const next = proof();
    expectAccepted(await get(strict, next));
    expectReplayRefused(await get(strict, next));
    expectReplayRefused(await get(one, next));
    // One key per accepted proof since the restart: none for the 503s or the replays.
    await expectReplayKeys(2);
    expect(refusedAfterRestart).toBeLessThan(40);
    // The 'local' warning is never logged in 'reject' mode.
    expect(await warnings(strict)).toBe(0);
    await expectNothingSecretLogged();
  }, 30_000);
});
