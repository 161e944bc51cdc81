import {
  Args,
  Field,
  Mutation,
  ObjectType,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import { BearerToken, Public, Scopes, VoxKeyUser, type VoxKeyClaims } from '../../lib/index';

/** A post, with a field resolver that reads the caller's claims. */
@ObjectType()
export class Post {
  @Field()
  id!: string;

  @Field()
  title!: string;
}

/**
 * The resolvers of the GraphQL suites: a public query, protected ones (nullable and non-null),
 * one needing `read:posts`, a mutation needing `write:posts`, and a field resolver.
 */
@Resolver(() => Post)
export class PostsResolver {
  @Public()
  @Query(() => String)
  hello(): string {
    return 'world';
  }

  /** The caller's subject, from `@VoxKeyUser()`. */
  @Query(() => String, { nullable: true })
  me(@VoxKeyUser() user: VoxKeyClaims): string | undefined {
    return user.sub;
  }

  /** Whether `@BearerToken()` gives the token the guard verified (compared, never returned). */
  @Query(() => Boolean, { nullable: true })
  sameToken(@BearerToken() token: string, @Args('expected') expected: string): boolean {
    return token === expected;
  }

  /** A protected root field that cannot be null: a refusal nulls the whole `data`. */
  @Query(() => String)
  secret(@VoxKeyUser('client_id') clientId: string): string {
    return `for ${clientId}`;
  }

  @Scopes('read:posts')
  @Query(() => [Post], { nullable: true })
  posts(): Post[] {
    return [{ id: '1', title: 'First' }];
  }

  @Scopes('write:posts')
  @Mutation(() => Post, { nullable: true })
  createPost(@Args('title') title: string): Post {
    return { id: '2', title };
  }

  /** A field resolver: guards do not run here by default, the claims are still there. */
  @ResolveField(() => String, { nullable: true })
  author(@Parent() _post: Post, @VoxKeyUser('sub') sub: string | undefined): string | undefined {
    return sub;
  }
}
