import { BadRequestException, Body, Controller, Get, Post } from '@nestjs/common';
import {
  M2MTokenService,
  OptionalAuth,
  RequireActiveToken,
  Resource,
  Scopes,
  type VoxKeyClaims,
  VoxKeyUser,
} from '@voxkey/nestjs';
import { type PostRecord, PostsStore } from './posts.store';
import { API_RESOURCE, SampleRuntime } from './sample.config';

@Resource(API_RESOURCE)
@Controller('posts')
export class PostsController {
  constructor(
    private readonly m2m: M2MTokenService,
    private readonly runtime: SampleRuntime,
    private readonly store: PostsStore,
  ) {}

  /** Needs a token holding `read:posts`. */
  @Get()
  @Scopes('read:posts')
  list(): PostRecord[] {
    return this.store.list();
  }

  /**
   * Anyone may read the feed; a valid token personalises it. A token that is present but invalid
   * is still a 401, so a client learns to refresh it.
   */
  @Get('feed')
  @OptionalAuth()
  feed(@VoxKeyUser() user?: VoxKeyClaims): { for: string; posts: PostRecord[] } {
    return { for: user?.sub ?? 'anonymous', posts: this.store.list() };
  }

  /** Needs `write:posts`. */
  @Post()
  @Scopes('write:posts')
  create(
    @Body() body: { title?: unknown },
    @VoxKeyUser('sub') sub: string | undefined,
  ): PostRecord {
    const post = this.store.add(body?.title, sub);
    if (!post) throw new BadRequestException('title must be a string of 1 to 200 characters');
    return post;
  }

  /** Like GET /posts, but the token must also still be active at the realm (introspection). */
  @Get('live')
  @RequireActiveToken()
  @Scopes('read:posts')
  live(@VoxKeyUser() user: VoxKeyClaims): {
    posts: PostRecord[];
    checkedActiveFor: string | undefined;
  } {
    return { posts: this.store.list(), checkedActiveFor: user.sub };
  }

  /**
   * Calls this API's own GET /posts with a machine-to-machine token, the way a service calls
   * another: the documented pattern, retrying once with a fresh token after a 401.
   */
  @Get('via-m2m')
  @Scopes('read:posts')
  async viaM2M(): Promise<{ fetchedWith: string; status: number; posts: unknown }> {
    const url = `${this.runtime.selfUrl}/posts`;
    let res = await fetch(url, {
      headers: { authorization: await this.m2m.getAuthorizationHeader() },
    });
    if (res.status === 401) {
      const authorization = await this.m2m.getAuthorizationHeader({ forceRefresh: true });
      res = await fetch(url, { headers: { authorization } });
    }
    return { fetchedWith: 'an M2M token', status: res.status, posts: await res.json() };
  }
}
