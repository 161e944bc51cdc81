import { DpopReplayCache } from '../../lib/dpop/dpop-replay.cache';
import { VoxKeyModule } from '../../lib/index';
import { DpopTestKey, VoxKeyTestRealm } from '../../lib/testing/index';
import { SUPPORTED_ALGORITHMS } from '../../lib/voxkey.constants';
import { CaptureLogger } from '../support/capture-logger';
import {
  createGraphQLApp,
  type GraphQLApp,
  type GraphQLResponse,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';
import { PostsResolver } from '../support/graphql-resolvers';

// GraphQL over HTTP with DPoP: one HTTP request runs the guard once per guarded field, and its
// one proof must be checked and recorded once for the request, not once per field.
const AUDIENCE = 'https://api.example.test/graphql';
const PUBLIC = 'https://api.example.com';
/** Two guarded root fields: `me` (any valid token), `posts` (`read:posts`). */
const QUERY = '{ me posts { id } }';

describe.each(['apollo-express', 'apollo-fastify'] as const)(
  'GraphQL over HTTP with DPoP on %s',
  (driver) => {
    const logs = new CaptureLogger();
    const secrets: string[] = [];
    const key = DpopTestKey.generate();
    let realm: VoxKeyTestRealm;
    let gql: GraphQLApp;
    let consume: jest.SpyInstance;
    let token: string;

    beforeAll(async () => {
      realm = await VoxKeyTestRealm.start({ audience: AUDIENCE });
      gql = await createGraphQLApp(
        driver,
        [
          VoxKeyModule.forRoot(realm.moduleOptions({ dpop: { publicUrl: PUBLIC } })),
          graphqlModule(driver),
        ],
        [PostsResolver],
        logs,
      );
      token = realm.mint({ scope: 'read:posts', dpopKey: key });
      secrets.push(token);
    });
    beforeEach(() => {
      consume = jest.spyOn(DpopReplayCache.prototype, 'consume');
    });
    afterEach(() => consume.mockRestore());
    afterAll(async () => {
      await gql?.app.close();
      await realm?.close();
    });

    const proof = () => {
      const value = key.proof('POST', `${PUBLIC}/graphql`, { accessToken: token });
      secrets.push(value);
      return value;
    };
    const post = (dpop: string) => postGraphQL(gql.url, QUERY, `DPoP ${token}`, { dpop });
    const expectNothingSecretLogged = () => {
      expect(logs.lines.some((l) => l.includes('Rejected (401)'))).toBe(true);
      for (const secret of secrets) {
        for (const line of logs.lines) expect(line).not.toContain(secret.split('.')[2]);
      }
    };
    const expectData = (res: GraphQLResponse) => {
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ data: { me: 'test-user', posts: [{ id: '1' }] } });
      expect(res.headers.get('www-authenticate')).toBeNull();
    };

    it('one request resolving two guarded fields gets both: its proof is recorded once, not refused as a replay by the second field', async () => {
      expectData(await post(proof()));
      expect(consume).toHaveBeenCalledTimes(1);
      // Each request with its own proof.
      expectData(await post(proof()));
      expect(consume).toHaveBeenCalledTimes(2);
    });

    it('the same proof resent: both fields UNAUTHENTICATED invalid_dpop_proof, with the DPoP challenge; a fresh one passes', async () => {
      const once = proof();
      expectData(await post(once));
      const again = await post(once);
      expect(again.status).toBe(200);
      expect(again.body.data).toEqual({ me: null, posts: null });
      expect(again.body.errors?.map((e) => [e.path, e.extensions])).toEqual(
        ['me', 'posts'].map((field) => [
          [field],
          {
            code: 'UNAUTHENTICATED',
            statusCode: 401,
            error: 'Invalid DPoP proof',
            oauthError: 'invalid_dpop_proof',
          },
        ]),
      );
      expect(again.headers.get('www-authenticate')).toMatch(
        new RegExp(
          `^Bearer realm="${AUDIENCE}", DPoP error="invalid_dpop_proof", .*algs="${SUPPORTED_ALGORITHMS.join(' ')}"`,
        ),
      );
      // Recorded once per request: the second field shared the first one's refusal.
      expect(consume).toHaveBeenCalledTimes(2);
      expectData(await post(proof()));
      expect(consume).toHaveBeenCalledTimes(3);
      expectNothingSecretLogged();
    });
  },
);
