import { MemoryStore, type VoxKeyModuleOptions, type VoxKeyStore } from '../../../lib/index';
import { namespaceOf } from '../../../lib/store/shared-state';
import { HttpStub, json } from '../../support/http-stub';
import { buildServices, closeServices } from '../../support/services';

const UUID_A = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const UUID_B = '9b2e4c1d-1f3a-4e5b-8c7d-0a1b2c3d4e5f';
const M2M = { clientId: 'm2m-client', clientSecret: 'm2m-secret' };
const RESOURCE = 'https://api.example.test/v1';

/** A store other instances would share (in memory here), recording the keys written to it. */
class RecordingStore implements VoxKeyStore {
  readonly shared = true;
  readonly written: string[] = [];
  private readonly memory = new MemoryStore();

  get(key: string): Promise<string | undefined> {
    return this.memory.get(key);
  }

  set(key: string, value: string, ttlMs: number): Promise<void> {
    this.written.push(key);
    return this.memory.set(key, value, ttlMs);
  }

  delete(key: string): Promise<void> {
    return this.memory.delete(key);
  }

  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    return this.memory.setIfAbsent(key, value, ttlMs);
  }
}

describe('M2MTokenService: the shared store key of a token', () => {
  let stub: HttpStub;
  let store: RecordingStore;
  const tokenEndpoint = (uuid: string) => `${stub.origin}/oauth2/${uuid}/token`;
  const tokenKeys = () => store.written.filter((key) => key.startsWith('m2m:'));

  let issued = 0;

  beforeAll(async () => {
    stub = await HttpStub.start((_req, res) =>
      json(res, 200, { access_token: `token-${++issued}`, token_type: 'Bearer', expires_in: 300 }),
    );
  });
  beforeEach(() => {
    store = new RecordingStore();
    issued = 0;
    stub.requests.length = 0;
  });
  afterEach(closeServices);
  afterAll(async () => stub?.close());

  it('single realm: m2m:<namespaceOf(token endpoint, client id, scope, resource)>, as earlier versions wrote it', async () => {
    const options: VoxKeyModuleOptions = {
      domain: stub.origin,
      realm: UUID_A,
      audience: RESOURCE,
      store,
      m2m: { ...M2M, scope: 'read:posts', resource: RESOURCE },
    };
    const { m2m } = await buildServices(options);
    expect(await m2m.getToken()).toBe('token-1');
    expect(await m2m.getToken({ scope: 'users:read users:write' })).toBe('token-2');
    expect(stub.requests).toEqual([`POST /oauth2/${UUID_A}/token`, `POST /oauth2/${UUID_A}/token`]);
    // A rolling upgrade shares these keys with instances of the earlier version.
    expect(tokenKeys()).toEqual([
      `m2m:${namespaceOf(tokenEndpoint(UUID_A), M2M.clientId, 'read:posts', RESOURCE)}`,
      `m2m:${namespaceOf(tokenEndpoint(UUID_A), M2M.clientId, 'users:read users:write', RESOURCE)}`,
    ]);
  });

  it('several realms: each realm its own key, naming the realm', async () => {
    const options: VoxKeyModuleOptions = {
      domain: stub.origin,
      audience: RESOURCE,
      store,
      realms: [
        { id: 'a', realm: UUID_A, m2m: { ...M2M, scope: 'read:posts', resource: RESOURCE } },
        { id: 'b', realm: UUID_B, m2m: { ...M2M, scope: 'read:posts', resource: RESOURCE } },
      ],
    };
    const { m2m } = await buildServices(options);
    expect(await m2m.forRealm('a').getToken()).toBe('token-1');
    expect(await m2m.forRealm('b').getToken()).toBe('token-2');
    const keys = tokenKeys();
    expect(keys).toEqual([
      `m2m:${namespaceOf('a', tokenEndpoint(UUID_A), M2M.clientId, 'read:posts', RESOURCE)}`,
      `m2m:${namespaceOf('b', tokenEndpoint(UUID_B), M2M.clientId, 'read:posts', RESOURCE)}`,
    ]);
    expect(keys[0]).not.toBe(
      `m2m:${namespaceOf(tokenEndpoint(UUID_A), M2M.clientId, 'read:posts', RESOURCE)}`,
    );
  });
});
