// Run with node after `tsc` (after check.js): boots the GraphQL app (Apollo on Express, code
// first) against a local test realm on 127.0.0.1 and checks NestJS 11's resolver behaviour.
// Over HTTP (POST /graphql with fetch), the `posts` query needing `read:posts`:
// (1) without a token, HTTP 200 with UNAUTHENTICATED (statusCode 401) and the
//     `WWW-Authenticate: Bearer ...` response header; (2) with a `read:posts` token, the data,
//     `for` being the token's `sub` (@VoxKeyUser); (3) with a token lacking the scope, FORBIDDEN
//     (403). No error keeps the `http` extension the library hands Apollo.
// Over graphql-ws, the `postCreated` subscription (VoxKeyGraphQL.graphqlWsOnConnect):
// (4) a connection without a token is closed with 4403 'No token' before any event; (5) with a
//     `read:posts` token the event arrives; (6) with a token lacking the scope the subscribe
//     gets FORBIDDEN and the socket stays open.
// Exits 0 or 1.
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { VoxKeyTestRealm } from '@voxkey/nestjs/testing';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { GraphQLAppModule } from './graphql-app.module';
import { runCheck } from './run-check';

const POSTS = '{ posts { for posts } }';
const POST_CREATED = 'subscription { postCreated }';
const WAIT = 3000;

interface GraphQLError {
  message: string;
  extensions?: Record<string, unknown>;
}

interface HttpOutcome {
  status: number;
  challenge: string | null;
  body: { data?: unknown; errors?: GraphQLError[] };
}

async function query(url: string, token: string | undefined): Promise<HttpOutcome> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: POSTS }),
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    body: (await response.json()) as HttpOutcome['body'],
  };
}

interface SubscriptionOutcome {
  values: unknown[];
  errors: GraphQLError[];
  completed: boolean;
  closes: { code: number; reason: string }[];
}

/** Subscribes on a new graphql-ws connection; resolves once it completes or is closed. */
async function subscribe(url: string, token: string | undefined): Promise<SubscriptionOutcome> {
  const outcome: SubscriptionOutcome = { values: [], errors: [], completed: false, closes: [] };
  let done = false;
  let resolveFinished: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (resolveFinished = resolve));
  // What arrives after (the client's own close at dispose) is not recorded.
  const finish = () => {
    done = true;
    resolveFinished();
  };
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    // One connection, no retry: a close by the server is what the check looks for.
    lazy: false,
    onNonLazyError: () => undefined,
    retryAttempts: 0,
    on: {
      closed: (event) => {
        if (done) return;
        const { code, reason } = event as { code: number; reason: string };
        outcome.closes.push({ code, reason: String(reason) });
        finish();
      },
    },
  });
  const timer = setTimeout(finish, WAIT);
  try {
    client.subscribe<{ postCreated: string }>(
      { query: POST_CREATED },
      {
        next: (result) => {
          if (done) return;
          if (result.data) outcome.values.push(result.data.postCreated);
          if (result.errors) outcome.errors.push(...(result.errors as GraphQLError[]));
        },
        error: () => finish(),
        complete: () => {
          if (done) return;
          outcome.completed = true;
          finish();
        },
      },
    );
    await finished;
    return outcome;
  } finally {
    clearTimeout(timer);
    await client.dispose();
  }
}

async function main(): Promise<boolean> {
  const realm = await VoxKeyTestRealm.start();
  let app: INestApplication | undefined;
  let ok = true;
  const expect = (name: string, passed: boolean, detail: string) => {
    if (passed) console.log(`${name}: ok`);
    else {
      ok = false;
      console.error(`${name}: ${detail}`);
    }
  };
  const extensionsOf = (outcome: { body: HttpOutcome['body'] }) =>
    (outcome.body.errors ?? []).map((error) => error.extensions ?? {});
  try {
    app = await NestFactory.create(GraphQLAppModule.withVoxKey(realm.moduleOptions()), {
      logger: ['error', 'warn'],
    });
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/graphql`;
    const wsUrl = url.replace(/^http/, 'ws');
    const valid = realm.mint({ scope: 'read:posts' });
    const other = realm.mint({ scope: 'other' });

    const none = await query(url, undefined);
    const [noneError] = extensionsOf(none);
    expect(
      'query posts without a token',
      none.status === 200 &&
        none.body.errors?.length === 1 &&
        noneError.code === 'UNAUTHENTICATED' &&
        noneError.statusCode === 401 &&
        !('http' in noneError) &&
        /^Bearer realm="[^"]+"$/.test(none.challenge ?? ''),
      `expected HTTP 200, UNAUTHENTICATED 401 and a Bearer challenge, got ${JSON.stringify(none)}`,
    );

    const allowed = await query(url, valid);
    expect(
      'query posts with read:posts',
      allowed.status === 200 &&
        allowed.body.errors === undefined &&
        JSON.stringify(allowed.body.data) ===
          JSON.stringify({ posts: { for: 'test-user', posts: [] } }),
      `expected data { posts: { for: 'test-user', posts: [] } }, got ${JSON.stringify(allowed)}`,
    );

    const refused = await query(url, other);
    const [refusedError] = extensionsOf(refused);
    expect(
      'query posts with another scope',
      refused.status === 200 &&
        refused.body.errors?.length === 1 &&
        refusedError.code === 'FORBIDDEN' &&
        refusedError.statusCode === 403 &&
        !('http' in refusedError) &&
        /error="insufficient_scope"/.test(refused.challenge ?? ''),
      `expected FORBIDDEN 403 and an insufficient_scope challenge, got ${JSON.stringify(refused)}`,
    );

    const closed = await subscribe(wsUrl, undefined);
    expect(
      'subscription without a token',
      closed.values.length === 0 &&
        JSON.stringify(closed.closes) === JSON.stringify([{ code: 4403, reason: 'No token' }]),
      `expected the connection closed with 4403 'No token' and no event, got ${JSON.stringify(closed)}`,
    );

    const delivered = await subscribe(wsUrl, valid);
    expect(
      'subscription with read:posts',
      delivered.completed &&
        delivered.errors.length === 0 &&
        JSON.stringify(delivered.values) === JSON.stringify(['a post for test-user']) &&
        delivered.closes.length === 0,
      `expected the event 'a post for test-user', got ${JSON.stringify(delivered)}`,
    );

    const forbidden = await subscribe(wsUrl, other);
    expect(
      'subscription with another scope',
      forbidden.values.length === 0 &&
        forbidden.errors.length === 1 &&
        forbidden.errors[0].extensions?.code === 'FORBIDDEN' &&
        forbidden.errors[0].extensions?.statusCode === 403 &&
        forbidden.closes.length === 0,
      `expected one FORBIDDEN error and the socket open, got ${JSON.stringify(forbidden)}`,
    );
    return ok;
  } finally {
    await app?.close();
    await realm.close();
  }
}

runCheck(main, 'the app, the sockets and the realm');
