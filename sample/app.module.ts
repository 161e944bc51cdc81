import { type ApolloDriverConfig, ApolloDriver } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { VoxKeyGraphQL, VoxKeyModule } from '@voxkey/nestjs';
import { AdminController } from './admin.controller';
import { HealthController } from './health.controller';
import { McpController } from './mcp.controller';
import { MeController } from './me.controller';
import { PostsController } from './posts.controller';
import { PostsGateway } from './posts.gateway';
import { PostsResolver, TYPE_DEFS } from './posts.resolver';
import { PostsStore } from './posts.store';
import { SampleRuntime, settingsFromEnv } from './sample.config';

@Module({
  imports: [
    VoxKeyModule.forRootAsync({
      useFactory: () => {
        const settings = settingsFromEnv();
        return {
          domain: settings.domain,
          realm: settings.realm,
          audience: settings.audience,
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
