import { type VoxKeyClaims, VoxKeyTokenError } from '../../../lib/index';
import { RealmRegistry } from '../../../lib/realm/realm.registry';
import { VoxKeyJwtStrategy } from '../../../lib/strategies/voxkey-jwt.strategy';
import { VoxKeyTestRealm } from '../../../lib/testing/index';
import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';

/** Runs a strategy once, as Passport does (a per-request copy with its actions), to its outcome. */
function run(strategy: VoxKeyJwtStrategy, authorization: string) {
  return new Promise<{ outcome: string; user?: unknown; info?: unknown; status?: number }>(
    (resolve) => {
      const action = Object.create(strategy) as Record<string, unknown>;
      action.success = (user: unknown, info: unknown) =>
        resolve({ outcome: 'success', user, info });
      action.fail = (info: unknown, status: number) => resolve({ outcome: 'fail', info, status });
      action.error = (info: unknown) => resolve({ outcome: 'error', info });
      (action as unknown as VoxKeyJwtStrategy).authenticate({
        headers: { authorization },
      } as never);
    },
  );
}

describe('VoxKeyJwtStrategy', () => {
  let realm: VoxKeyTestRealm;
  const made: VoxKeyJwtStrategy[] = [];
  const make = <T extends VoxKeyJwtStrategy>(
    Kind: new (...args: ConstructorParameters<typeof VoxKeyJwtStrategy>) => T,
  ): T => {
    const options = resolveVoxKeyOptions(realm.moduleOptions());
    const strategy = new Kind(options, new RealmRegistry(options));
    made.push(strategy);
    return strategy;
  };
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await realm?.close();
  });
  afterEach(() => made.splice(0).forEach((strategy) => strategy.onApplicationShutdown()));

  it('reports the claims as the user and the verifying key with the claims as info', async () => {
    const result = await run(make(VoxKeyJwtStrategy), `Bearer ${realm.mint({ subject: 's' })}`);
    expect(result.outcome).toBe('success');
    expect(result.user).toMatchObject({ sub: 's' });
    expect(result.info).toMatchObject({ claims: result.user, key: expect.anything() });
  });

  it('waits for an asynchronous validate(), and its user is what succeeds', async () => {
    class Mapping extends VoxKeyJwtStrategy {
      override async validate(_request: unknown, claims: VoxKeyClaims) {
        return { id: claims.sub };
      }
    }
    const result = await run(make(Mapping), `Bearer ${realm.mint({ subject: 'm' })}`);
    expect(result).toMatchObject({ outcome: 'success', user: { id: 'm' } });
  });

  it.each([null, false, undefined])(
    'a validate() that answers %s is a 401 failure',
    async (answer) => {
      class Refusing extends VoxKeyJwtStrategy {
        override async validate() {
          return answer;
        }
      }
      const result = await run(make(Refusing), `Bearer ${realm.mint()}`);
      expect(result.outcome).toBe('fail');
      expect(result.status).toBe(401);
      expect(result.info).toBeInstanceOf(VoxKeyTokenError);
    },
  );

  it('takes its name at initialisation; a second strategy is then refused at construction', () => {
    // Constructed twice before either initialises: neither holds the name yet.
    const first = make(VoxKeyJwtStrategy);
    make(VoxKeyJwtStrategy);
    first.onModuleInit();
    expect(() => make(VoxKeyJwtStrategy)).toThrow(
      "a 'voxkey-jwt' Passport strategy is already registered",
    );
  });
});
