import { Field, ObjectType, Query, Resolver, Subscription } from '@nestjs/graphql';
import { Scopes, VoxKeyUser } from '@voxkey/nestjs';

@ObjectType()
export class PostsPage {
  @Field(() => String)
  for!: string;

  @Field(() => [String])
  posts!: string[];
}

// No @UseGuards: VoxKeyModule's global guards (APP_GUARD) apply to resolvers on NestJS 11.
@Resolver(() => PostsPage)
export class PostsResolver {
  @Scopes('read:posts')
  @Query(() => PostsPage)
  posts(@VoxKeyUser('sub') sub: string): PostsPage {
    return { for: sub, posts: [] };
  }

  /** One event naming the subscriber, then the subscription completes. */
  @Scopes('read:posts')
  @Subscription(() => String)
  async *postCreated(@VoxKeyUser('sub') sub: string): AsyncGenerator<{ postCreated: string }> {
    yield { postCreated: `a post for ${sub}` };
  }
}
