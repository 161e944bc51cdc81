import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { type DynamicModule, Module } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { VoxKeyGraphQL, VoxKeyModule, type VoxKeyModuleOptions } from '@voxkey/nestjs';
import { PostsResolver } from './posts.resolver';

@Module({})
export class GraphQLAppModule {
  static withVoxKey(options: VoxKeyModuleOptions): DynamicModule {
    return {
      module: GraphQLAppModule,
      imports: [
        VoxKeyModule.forRoot(options),
        // Code first, the schema kept in memory; subscriptions over graphql-ws check the token
        // at connection_init (4403 if refused), the guards check each subscribe.
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [VoxKeyGraphQL],
          useFactory: (voxkey: VoxKeyGraphQL) => ({
            autoSchemaFile: true,
            graphiql: false,
            subscriptions: { 'graphql-ws': { onConnect: voxkey.graphqlWsOnConnect } },
          }),
        }),
      ],
      providers: [PostsResolver],
    };
  }
}
