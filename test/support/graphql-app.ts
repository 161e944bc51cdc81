import type { DynamicModule, INestApplication, LoggerService, Type } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';

/** The GraphQL servers the suites run on. */
export type GraphQLDriverName = 'apollo-express' | 'apollo-fastify' | 'mercurius';
export const GRAPHQL_DRIVERS: GraphQLDriverName[] = [
  'apollo-express',
  'apollo-fastify',
  'mercurius',
];

/** A GraphQL app listening on 127.0.0.1, with its endpoint URLs. */
export interface GraphQLApp {
  app: INestApplication;
  url: string;
  wsUrl: string;
}

/** The `GraphQLModule.forRoot()` of a driver, code first, with `extra` driver options merged in. */
export function graphqlModule(
  driver: GraphQLDriverName,
  extra: Record<string, unknown> = {},
): DynamicModule {
  return driver === 'mercurius'
    ? GraphQLModule.forRoot<MercuriusDriverConfig>({
        driver: MercuriusDriver,
        autoSchemaFile: true,
        graphiql: false,
        // Mercurius's query cache loads quick-lru with import(), which jest's CommonJS cannot.
        cache: false,
        ...extra,
      })
    : GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        graphiql: false,
        ...extra,
      });
}

/** Boots a real Nest GraphQL application on the driver's HTTP platform and listens on loopback. */
export async function createGraphQLApp(
  driver: GraphQLDriverName,
  imports: (DynamicModule | Type)[],
  providers: Type[],
  logger?: LoggerService,
): Promise<GraphQLApp> {
  const moduleRef = await Test.createTestingModule({ imports, providers }).compile();
  const app = moduleRef.createNestApplication(
    driver === 'apollo-express' ? new ExpressAdapter() : new FastifyAdapter(),
    { logger: logger ?? false },
  );
  if (logger) app.useLogger(logger);
  try {
    await app.listen(0, '127.0.0.1');
    if (driver !== 'apollo-express')
      await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
  } catch (error) {
    // An application that failed to start still holds what it opened.
    await app.close().catch(() => undefined);
    throw error;
  }
  const { port } = app.getHttpServer().address() as AddressInfo;
  return {
    app,
    url: `http://127.0.0.1:${port}/graphql`,
    wsUrl: `ws://127.0.0.1:${port}/graphql`,
  };
}

/** A GraphQL error as the drivers send it. */
export interface GraphQLErrorBody {
  message: string;
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
}

/** A GraphQL response: the HTTP status and headers, the parsed body and its text. */
export interface GraphQLResponse {
  status: number;
  headers: Headers;
  text: string;
  body: { data?: Record<string, unknown> | null; errors?: GraphQLErrorBody[] };
}

/**
 * POSTs a GraphQL operation with Node's fetch, with an `Authorization` value when given and any
 * other headers (a `DPoP` proof).
 */
export async function postGraphQL(
  url: string,
  query: string,
  authorization?: string,
  extra: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...extra };
  if (authorization !== undefined) headers.authorization = authorization;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) };
}
