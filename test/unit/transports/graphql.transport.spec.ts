import type { ExecutionContext } from '@nestjs/common';
import { InvalidTokenException } from '../../../lib/index';
import { graphqlTransport } from '../../../lib/transports/graphql.transport';
import { httpTransport } from '../../../lib/transports/http.transport';
import { contextFor } from '../../support/execution-context';

const refused = new InvalidTokenException('api', 'expired');
const CHALLENGE =
  'Bearer realm="api", error="invalid_token", error_description="The access token expired"';

/** A resolver's context: (parent, args, context, info). */
function resolverContext(graphqlContext: object): ExecutionContext {
  const args = [undefined, {}, graphqlContext, {}];
  return { getType: () => 'graphql', getArgs: () => args } as unknown as ExecutionContext;
}

/** A response that records the headers set on it. */
function response() {
  const headers: Record<string, string> = {};
  return { headers, header: (name: string, value: string) => (headers[name] = value) };
}

describe('announcing a refusal a lenient @OptionalAuth() route let pass', () => {
  it('HTTP: the challenge on the response', () => {
    const { context, headers } = contextFor('http', Object, () => undefined);
    httpTransport.announce?.(context, refused);
    expect(headers['www-authenticate']).toBe(CHALLENGE);
  });

  it("GraphQL on Mercurius (or an Apollo context that passes it): the reply's header", () => {
    const reply = response();
    graphqlTransport.announce?.(resolverContext({ req: { headers: {} }, reply }), refused);
    expect(reply.headers).toEqual({ 'www-authenticate': CHALLENGE });
  });

  it('GraphQL on Apollo with Express: the response the request links to', () => {
    const res = response();
    graphqlTransport.announce?.(resolverContext({ req: { headers: {}, res } }), refused);
    expect(res.headers).toEqual({ 'www-authenticate': CHALLENGE });
  });

  it('GraphQL without a response (a subscription, Apollo on Fastify): nothing, and no error', () => {
    const socket = response();
    expect(() => {
      graphqlTransport.announce?.(
        resolverContext({ req: { connectionParams: {}, extra: { socket } } }),
        refused,
      );
      graphqlTransport.announce?.(resolverContext({ req: { headers: {} } }), refused);
      graphqlTransport.announce?.(resolverContext({}), refused);
    }).not.toThrow();
    expect(socket.headers).toEqual({});
  });
});
