import { resolveVoxKeyOptions } from '../../../lib/voxkey.providers';
import {
  audienceIncludes,
  routeChallenge,
  routeResource,
  routeScopes,
} from '../../../lib/resource/route-resource';
import type { RouteMetadata } from '../../../lib/utils/route-metadata.util';

const REALM = '6f1c2a53-8a3e-4f43-9f0e-2b1c4c1d9e7a';
const options = (resources: string[]) =>
  resolveVoxKeyOptions({
    domain: 'https://your-domain.com',
    realm: REALM,
    resources: resources.map((resource) => ({ resource })),
  });
const route = (over: Partial<RouteMetadata> = {}): RouteMetadata => ({
  mode: 'required',
  anonymousOnInvalid: false,
  requireActive: false,
  scopes: { all: [], anyOf: [] },
  realms: undefined,
  resource: undefined,
  ...over,
});

describe('route resources', () => {
  const A = 'https://a.example/mcp';
  const B = 'https://a.example/api';

  it('the one resource applies to every route; with several, only @Resource() chooses', () => {
    expect(routeResource(route(), options([A]))?.resource).toBe(A);
    expect(routeResource(route(), options([A, B]))).toBeUndefined();
    expect(routeResource(route({ resource: B }), options([A, B]))?.resource).toBe(B);
    expect(routeResource(route({ resource: 'https://x' }), options([A, B]))).toBeUndefined();
  });

  it('lists every scope a route names, once', () => {
    expect(routeScopes(route({ scopes: { all: ['a', 'b'], anyOf: [['b', 'c'], ['d']] } }))).toBe(
      'a b c d',
    );
  });

  it('with DPoP on (resources of one origin), every challenge names the proof algorithms', () => {
    const two = options([A, B]);
    expect(two.dpop.mode).toBe('allowed');
    expect(routeChallenge(route(), two)).toEqual({
      realm: A,
      dpopAlgs: two.dpop.algorithms.join(' '),
    });
    expect(routeChallenge(route({ resource: B }), two)).toMatchObject({
      dpopAlgs: two.dpop.algorithms.join(' '),
    });
  });

  it('the challenge is the realm alone without a resource, else with its metadata URL and scopes', () => {
    const two = { ...options([A, B]), dpop: { ...options([A, B]).dpop, mode: 'off' as const } };
    expect(routeChallenge(route(), two)).toBe(A);
    expect(routeChallenge(route({ resource: B }), two)).toEqual({
      realm: A,
      resourceMetadata: 'https://a.example/.well-known/oauth-protected-resource/api',
    });
    expect(
      routeChallenge(route({ resource: B, scopes: { all: ['x'], anyOf: [] } }), two),
    ).toMatchObject({ scope: 'x' });
  });

  it('compares aud exactly, as a string or a list', () => {
    expect(audienceIncludes(A, A)).toBe(true);
    expect(audienceIncludes([B, A], A)).toBe(true);
    expect(audienceIncludes(`${A}/`, A)).toBe(false);
    expect(audienceIncludes(undefined, A)).toBe(false);
    expect(audienceIncludes([B], A)).toBe(false);
  });

  it('@Resource() may name a resource by its id, for a URI known only at run time', () => {
    const withIds = resolveVoxKeyOptions({
      domain: 'https://your-domain.com',
      realm: REALM,
      resources: [
        { id: 'mcp', resource: A },
        { id: 'api', resource: B },
      ],
    });
    expect(routeResource(route({ resource: 'mcp' }), withIds)?.resource).toBe(A);
    expect(routeResource(route({ resource: B }), withIds)?.resource).toBe(B);
    expect(routeResource(route({ resource: 'nope' }), withIds)).toBeUndefined();
  });

  it('resource ids are checked at start-up: a name, once', () => {
    const resolve = (resources: { id?: string; resource: string }[]) => () =>
      resolveVoxKeyOptions({ domain: 'https://your-domain.com', realm: REALM, resources });
    expect(
      resolve([
        { id: 'mcp', resource: A },
        { id: 'mcp', resource: B },
      ]),
    ).toThrow("the id 'mcp' is used twice");
    expect(resolve([{ id: 'has space', resource: A }])).toThrow("'resources[0].id' must be");
  });
});
