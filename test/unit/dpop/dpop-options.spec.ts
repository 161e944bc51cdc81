import { resolveDpop } from '../../../lib/dpop/dpop-options';
import { resolveMtls } from '../../../lib/mtls/mtls-options';
import { resolveResources } from '../../../lib/resource/resource-options';
import { SUPPORTED_ALGORITHMS } from '../../../lib/voxkey.constants';

const SECRET = 'a-secret-of-at-least-thirty-two-bytes!';
const resources = (...uris: string[]) =>
  resolveResources({ resources: uris.map((resource) => ({ resource })) } as never);

describe('resolveDpop', () => {
  it("is 'allowed' when the resources share an origin, and builds htu from that origin", () => {
    const dpop = resolveDpop(
      undefined,
      resources('https://api.example.com/mcp', 'https://api.example.com/v1'),
    );
    expect(dpop).toEqual({
      mode: 'allowed',
      publicUrl: 'https://api.example.com',
      algorithms: SUPPORTED_ALGORITHMS,
      maxAgeSec: 300,
      futureLeewaySec: 30,
      nonce: undefined,
      replay: { onStoreDown: 'local' },
    });
  });

  it("is 'off' with no public URL known (no resource, or resources of several origins)", () => {
    expect(resolveDpop(undefined, []).mode).toBe('off');
    expect(resolveDpop({}, resources('https://a.example/x', 'https://b.example/y')).mode).toBe(
      'off',
    );
  });

  it('takes publicUrl as given (a path prefix kept, the trailing slash dropped)', () => {
    expect(resolveDpop({ publicUrl: 'https://api.example.com/v1/' }, [])).toMatchObject({
      mode: 'allowed',
      publicUrl: 'https://api.example.com/v1',
    });
    expect(resolveDpop({ publicUrl: 'http://127.0.0.1:3000' }, []).publicUrl).toBe(
      'http://127.0.0.1:3000',
    );
  });

  it.each([
    [{ mode: 'on' }, "'dpop.mode' must be one of"],
    [{ mode: 'required' }, "'dpop.mode' 'required' needs 'dpop.publicUrl'"],
    [{ publicUrl: 'api.example.com' }, "'dpop.publicUrl' must be an absolute URL"],
    [{ publicUrl: 'http://api.example.com' }, "'dpop.publicUrl' must use https"],
    [{ publicUrl: 'https://api.example.com/?x=1' }, 'must not have a query or a fragment'],
    [{ publicUrl: 'https://u:p@api.example.com' }, 'must not hold credentials'],
    [
      { publicUrl: 'https://a.example', algorithms: [] },
      "'dpop.algorithms' must be a non-empty list",
    ],
    [
      { publicUrl: 'https://a.example', algorithms: ['HS256'] },
      "'dpop.algorithms' contains 'HS256'",
    ],
    [{ publicUrl: 'https://a.example', maxAgeSec: 0 }, "'dpop.maxAgeSec' must be a whole number"],
    [{ publicUrl: 'https://a.example', futureLeewaySec: 1.5 }, "'dpop.futureLeewaySec' must be"],
    [
      { publicUrl: 'https://a.example', nonce: { secrets: [] } },
      "'dpop.nonce.secrets' must be a non-empty list",
    ],
    [
      { publicUrl: 'https://a.example', nonce: { secrets: ['short'] } },
      "'dpop.nonce.secrets[0]' must be",
    ],
    [
      { publicUrl: 'https://a.example', nonce: { secrets: [SECRET], lifetimeSec: 5 } },
      "'dpop.nonce.lifetimeSec'",
    ],
    [
      { publicUrl: 'https://a.example', replay: { onStoreDown: 'ignore' } },
      "'dpop.replay.onStoreDown'",
    ],
  ])('refuses %j at start-up', (given, message) => {
    expect(() => resolveDpop(given as never, [])).toThrow(message);
  });

  it('keeps nonce secrets as bytes (the first signs) and the lifetime', () => {
    const dpop = resolveDpop(
      {
        publicUrl: 'https://a.example',
        nonce: { secrets: [SECRET, Buffer.alloc(32, 1)], lifetimeSec: 60 },
      },
      [],
    );
    expect(dpop.nonce?.secrets.map((s) => s.length)).toEqual([Buffer.byteLength(SECRET), 32]);
    expect(dpop.nonce?.lifetimeSec).toBe(60);
  });
});

describe('resolveMtls', () => {
  it('is undefined without mtls, and defaults the mode', () => {
    expect(resolveMtls(undefined)).toBeUndefined();
    expect(resolveMtls({ certificate: 'socket' })).toEqual({
      certificate: 'socket',
      mode: 'allowed',
    });
    const read = () => undefined;
    expect(resolveMtls({ certificate: read, mode: 'required' })).toEqual({
      certificate: read,
      mode: 'required',
    });
  });

  it.each([
    ['not an object', 'x'],
    ['an unknown source', { certificate: 'x-client-cert' }],
    ['an unknown mode', { certificate: 'socket', mode: 'strict' }],
  ])('refuses %s', (_, given) => {
    expect(() => resolveMtls(given as never)).toThrow(/'mtls/);
  });
});
