import { type ApolloDriverConfig, ApolloDriver } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { VoxKeyGraphQL, VoxKeyModule } from '@voxkey/nestjs';
import { AdminController } from './admin.controller';
import { HealthController } from './health.controller';
import { McpController, TOOL_SCOPES } from './mcp.controller';
import { MeController } from './me.controller';
import { PostsController } from './posts.controller';
import { PostsGateway } from './posts.gateway';
import { PostsResolver, TYPE_DEFS } from './posts.resolver';
import { PostsStore } from './posts.store';
import { API_RESOURCE, MCP_RESOURCE, SampleRuntime, settingsFromEnv } from './sample.config';

@Module({
  imports: [
    VoxKeyModule.forRootAsync({
      useFactory: () => {
        const settings = settingsFromEnv();
        return {
          domain: settings.domain,
          realm: settings.realm,
          // Two protected resources (RFC 9728), each with its metadata document: the REST,
          // GraphQL and socket.io API, and the MCP server. Routes name theirs with @Resource(); a
          // token for one is refused by the other. The audience defaults to both URIs.
          resources: [
            { id: API_RESOURCE, resource: settings.audience, resourceName: 'VoxKey sample API' },
            {
              id: MCP_RESOURCE,
              resource: settings.mcpResource,
              resourceName: 'VoxKey sample MCP server',
              // The tools check their scopes themselves, so no @Scopes() names them: listed here.
              scopesSupported: [...new Set(Object.values(TOOL_SCOPES).flat())],
            },
          ],
          clientId: settings.clientId,
          clientSecret: settings.clientSecret,
          // The API calls itself (GET /posts/via-m2m) with its own client's tokens.
          m2m: { scope: 'read:posts', resource: settings.audience },
        };
      },
    }),
    // Subscriptions check the token when the socket opens (4403 if refused) and at every subscribe.
    GraphQLModule.forRootAsync<ApolloDriverConfig>({
      driver: ApolloDriver,
      inject: [VoxKeyGraphQL],
      useFactory: (voxkey: VoxKeyGraphQL) => ({
        typeDefs: TYPE_DEFS,
        subscriptions: { 'graphql-ws': { onConnect: voxkey.graphqlWsOnConnect } },
      }),
    }),
  ],
  controllers: [HealthController, PostsController, MeController, AdminController, McpController],
  providers: [SampleRuntime, PostsStore, PostsResolver, PostsGateway],
})
export class AppModule {}
