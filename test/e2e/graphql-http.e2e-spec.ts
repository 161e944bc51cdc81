import passport from 'passport';
import { VoxKeyModule } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import { CaptureLogger } from '../support/capture-logger';
import {
  createGraphQLApp,
  GRAPHQL_DRIVERS,
  type GraphQLApp,
  type GraphQLResponse,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';
import { PostsResolver } from '../support/graphql-resolvers';

const AUDIENCE = 'https://api.example.test/graphql';
const CHALLENGE = `Bearer realm="${AUDIENCE}"`;
const NO_TOKEN = 'A Bearer access token is required in the Authorization header';

/** Every error's extensions: the same on every driver (Apollo adds no `originalError` to ours). */
function extensionsOf(res: GraphQLResponse): Record<string, unknown>[] {
  return (res.body.errors ?? []).map(({ extensions = {} }) => extensions);
}

describe.each(GRAPHQL_DRIVERS)('GraphQL queries and mutations on %s', (driver) => {
  const logger = new CaptureLogger();
  const tokens: string[] = [];
  let realm: VoxKeyTestRealm;
  let gql: GraphQLApp;
  let authenticate: jest.SpyInstance;

  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
    gql = await createGraphQLApp(
      driver,
      [
        VoxKeyModule.forRoot(realm.moduleOptions({ jwks: { cooldownMs: 0 } })),
        graphqlModule(driver),
      ],
      [PostsResolver],
      logger,
    );
    authenticate = jest.spyOn(passport, 'authenticate');
  });
  afterAll(async () => {
    authenticate?.mockRestore();
    await gql?.app.close();
    await realm?.close();
  });

  const mint = (...args: Parameters<VoxKeyTestRealm['mint']>) => {
    const token = realm.mint(...args);
    tokens.push(token);
    return token;
  };
  const post = (query: string, authorization?: string) =>
    postGraphQL(gql.url, query, authorization);

  /** What every response must hold: HTTP 200, no `http` extension, no token text. */
  function expectWellFormed(res: GraphQLResponse): void {
    expect(res.status).toBe(200);
    for (const extensions of (res.body.errors ?? []).map((error) => error.extensions ?? {})) {
      expect(extensions).not.toHaveProperty('http');
    }
    for (const token of tokens) {
      for (const part of token.split('.')) expect(res.text).not.toContain(part);
    }
  }

  it('no token: UNAUTHENTICATED 401 "No token", the fixed message, and the challenge header', async () => {
    const res = await post('{ me }');
    expectWellFormed(res);
    expect(res.body.data).toEqual({ me: null });
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors?.[0]).toMatchObject({ message: NO_TOKEN, path: ['me'] });
    expect(extensionsOf(res)).toEqual([
      { code: 'UNAUTHENTICATED', statusCode: 401, error: 'No token' },
    ]);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
  });

  it.each([
    ['an expired token', () => mint({ expiresIn: -60 }), 'The access token expired'],
    [
      'a token for another audience',
      () => mint({ claims: { aud: 'https://other.test' } }),
      undefined,
    ],
    ['a token that is not a JWT', () => 'abc.def.ghi', undefined],
  ])('%s: UNAUTHENTICATED with oauthError invalid_token', async (_name, token, description) => {
    const res = await post('{ me }', `Bearer ${token()}`);
    expectWellFormed(res);
    expect(res.body.data).toEqual({ me: null });
    expect(extensionsOf(res)).toEqual([
      {
        code: 'UNAUTHENTICATED',
        statusCode: 401,
        error: 'Invalid token',
        oauthError: 'invalid_token',
      },
    ]);
    const challenge = res.headers.get('www-authenticate');
    expect(challenge).toMatch(
      new RegExp(`^${CHALLENGE}, error="invalid_token", error_description="[^"]+"$`),
    );
    if (description !== undefined) {
      expect(res.body.errors?.[0].message).toBe(description);
      expect(challenge).toContain(`error_description="${description}"`);
    }
  });

  it('a missing scope: FORBIDDEN 403 insufficient_scope with the scope asked for', async () => {
    const res = await post('{ posts { id } }', `Bearer ${mint({ scope: 'profile' })}`);
    expectWellFormed(res);
    expect(res.body.data).toEqual({ posts: null });
    expect(res.body.errors?.[0].message).toBe('The access token lacks a required scope');
    expect(extensionsOf(res)).toEqual([
      {
        code: 'FORBIDDEN',
        statusCode: 403,
        error: 'Insufficient scope',
        oauthError: 'insufficient_scope',
        scope: 'read:posts',
      },
    ]);
    expect(res.headers.get('www-authenticate')).toBe(
      `${CHALLENGE}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:posts"`,
    );
  });

  it('a mutation needing write:posts: refused with read:posts, run with write:posts', async () => {
    const mutation = 'mutation { createPost(title: "Hi") { id title } }';
    const refused = await post(mutation, `Bearer ${mint({ scope: 'read:posts' })}`);
    expectWellFormed(refused);
    expect(refused.body.data).toEqual({ createPost: null });
    expect(extensionsOf(refused)[0]).toMatchObject({ code: 'FORBIDDEN', scope: 'write:posts' });

    const allowed = await post(mutation, `Bearer ${mint({ scope: 'write:posts' })}`);
    expectWellFormed(allowed);
    expect(allowed.body).toEqual({ data: { createPost: { id: '2', title: 'Hi' } } });
  });

  it.each([
    ['junk after the token', 'Bearer aaa.bbb.ccc junk'],
    ['two credentials', 'Bearer aaa.bbb.ccc,Bearer ddd.eee.fff'],
    ['an empty Bearer', 'Bearer '],
  ])('a malformed header (%s): BAD_REQUEST 400 invalid_request', async (_name, authorization) => {
    const res = await post('{ me }', authorization);
    expectWellFormed(res);
    expect(res.body.errors?.[0].message).toBe('The Authorization header is malformed');
    expect(extensionsOf(res)).toEqual([
      {
        code: 'BAD_REQUEST',
        statusCode: 400,
        error: 'Invalid request',
        oauthError: 'invalid_request',
      },
    ]);
    expect(res.headers.get('www-authenticate')).toBe(
      `${CHALLENGE}, error="invalid_request", error_description="The Authorization header is malformed"`,
    );
  });

  it('a valid token: data, and @VoxKeyUser() gives the claims to root and field resolvers', async () => {
    const res = await post(
      '{ me secret posts { id author } }',
      `Bearer ${mint({ scope: 'read:posts', subject: 'alice' })}`,
    );
    expectWellFormed(res);
    expect(res.body).toEqual({
      data: { me: 'alice', secret: 'for test-client', posts: [{ id: '1', author: 'alice' }] },
    });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('@BearerToken() gives a resolver the token the guard verified', async () => {
    const token = mint({ scope: 'read:posts' });
    const query = (expected: string) => `{ sameToken(expected: ${JSON.stringify(expected)}) }`;
    expect((await post(query(token), `Bearer ${token}`)).body).toEqual({
      data: { sameToken: true },
    });
    expect((await post(query('other'), `Bearer ${token}`)).body).toEqual({
      data: { sameToken: false },
    });
  });

  it('a @Public() query runs without a token', async () => {
    const res = await post('{ hello }');
    expectWellFormed(res);
    expect(res.body).toEqual({ data: { hello: 'world' } });
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('a public field next to a protected one: partial data', async () => {
    const res = await post('{ hello me }');
    expectWellFormed(res);
    expect(res.body.data).toEqual({ hello: 'world', me: null });
    expect(res.body.errors?.map((error) => error.path)).toEqual([['me']]);
    expect(res.headers.get('www-authenticate')).toBe(CHALLENGE);
  });

  it('a non-null protected root field refused: data is null, still HTTP 200', async () => {
    const res = await post('{ hello secret }');
    expectWellFormed(res);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(extensionsOf(res)[0]).toMatchObject({ code: 'UNAUTHENTICATED', statusCode: 401 });
  });

  it('three protected root fields and a bad token: three errors, one verification', async () => {
    const token = mint({ expiresIn: -60 });
    const before = authenticate.mock.calls.length;
    const res = await post('{ a: me b: me c: me }', `Bearer ${token}`);
    expectWellFormed(res);
    expect(res.body.data).toEqual({ a: null, b: null, c: null });
    expect(extensionsOf(res).map((extensions) => extensions.oauthError)).toEqual([
      'invalid_token',
      'invalid_token',
      'invalid_token',
    ]);
    expect(authenticate.mock.calls.length - before).toBe(1);
    // One challenge, not one per field.
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="[^"]+", error="invalid_token"/,
    );
  });

  it('three protected root fields and a good token: data, one verification', async () => {
    const token = mint({ scope: 'read:posts' });
    const before = authenticate.mock.calls.length;
    const res = await post('{ a: me b: secret c: posts { id } }', `Bearer ${token}`);
    expectWellFormed(res);
    expect(res.body).toEqual({ data: { a: 'test-user', b: 'for test-client', c: [{ id: '1' }] } });
    expect(authenticate.mock.calls.length - before).toBe(1);
  });

  it('the key set unavailable (a fresh key, a cold cache): SERVICE_UNAVAILABLE, never a pass', async () => {
    realm.rotateKeys();
    realm.jwksAvailable = false;
    try {
      const res = await post('{ hello me }', `Bearer ${mint()}`);
      expectWellFormed(res);
      expect(res.body.data).toEqual({ hello: 'world', me: null });
      expect(res.body.errors).toHaveLength(1);
      const [error] = res.body.errors ?? [];
      expect(error.message).toBe('The access token cannot be validated right now; try again later');
      expect(res.text).not.toMatch(/internal server error/i);
      expect(extensionsOf(res)).toEqual([
        { code: 'SERVICE_UNAVAILABLE', statusCode: 503, error: 'Service Unavailable' },
      ]);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.headers.get('www-authenticate')).toBeNull();
    } finally {
      realm.jwksAvailable = true;
    }
    const res = await post('{ me }', `Bearer ${mint()}`);
    expect(res.body).toEqual({ data: { me: 'test-user' } });
  });

  it('no token appears in the log', () => {
    expect(tokens.length).toBeGreaterThan(5);
    const log = logger.lines.join('\n');
    for (const token of tokens) expect(log).not.toContain(token.split('.')[2]);
  });
});

describe.each(['apollo-express', 'apollo-fastify'] as const)(
  'Apollo on %s with preserveHttpStatusForExecutionErrors: false',
  (driver) => {
    let realm: VoxKeyTestRealm;
    let gql: GraphQLApp;
    beforeAll(async () => {
      realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
      gql = await createGraphQLApp(
        driver,
        [
          VoxKeyModule.forRoot(realm.moduleOptions()),
          graphqlModule(driver, { preserveHttpStatusForExecutionErrors: false }),
        ],
        [PostsResolver],
      );
    });
    afterAll(async () => {
      await gql?.app.close();
      await realm?.close();
    });

    it.each([
      ['no token', () => undefined, 401, CHALLENGE],
      [
        'a missing scope',
        () => `Bearer ${realm.mint()}`,
        403,
        `${CHALLENGE}, error="insufficient_scope", error_description="The access token lacks a required scope", scope="read:posts"`,
      ],
    ])(
      '%s: the refusal status and challenge on the HTTP response',
      async (_name, authorization, status, challenge) => {
        const res = await postGraphQL(gql.url, '{ posts { id } }', authorization());
        expect(res.status).toBe(status);
        expect(res.headers.get('www-authenticate')).toBe(challenge);
        expect(res.body.errors?.[0].extensions).not.toHaveProperty('http');
      },
    );

    it('a valid token: 200 with data', async () => {
      const res = await postGraphQL(gql.url, '{ me }', `Bearer ${realm.mint()}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { me: 'test-user' } });
    });
  },
);
