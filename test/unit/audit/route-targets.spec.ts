import { Controller, Get, Post, Version, VERSION_NEUTRAL } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { EventPattern, GrpcMethod, MessagePattern } from '@nestjs/microservices';
import { Mutation, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { controllerTargets, providerTargets } from '../../../lib/audit/route-targets.util';

const reflector = new Reflector();

function targetsOf(
  of: typeof controllerTargets,
  cls: new () => object,
  name: string,
): ReturnType<typeof controllerTargets> {
  const handler = (cls.prototype as Record<string, () => unknown>)[name];
  return of(reflector, { cls: cls as unknown as () => unknown, name, handler });
}

@Controller(['v', '/alias/'])
class PathsController {
  @Get() root() {}
  @Post(['a/', '/b/:id']) two() {}
  @Version(VERSION_NEUTRAL) @Get('n') neutral() {}
  plain() {}
}

@Controller({ version: '3' })
class VersionedController {
  @Get('x') x() {}
  @Version('4') @Get('y') y() {}
}

@Controller()
class Rpc {
  @MessagePattern(['a', { cmd: 'b' }]) message() {}
  @EventPattern('e') event(_data: unknown) {}
  @GrpcMethod('Posts', 'List') grpc() {}
}

@WebSocketGateway()
class Gateway {
  @SubscribeMessage('chat.say') say() {}
  helper() {}
}

@Resolver('Post')
class PostResolver {
  @Query(() => String) posts() {}
  @Mutation(() => String, { name: 'addPost' }) add() {}
  @ResolveField('author', () => String) writer() {}
  @ResolveField(() => String) title() {}
}

describe('route targets', () => {
  it('HTTP: one route per path of the class and of the method, joined as NestJS joins them', () => {
    expect(targetsOf(controllerTargets, PathsController, 'root')).toEqual([
      { context: 'http', route: 'GET /v', path: '/v', version: undefined },
      { context: 'http', route: 'GET /alias', path: '/alias', version: undefined },
    ]);
    expect(targetsOf(controllerTargets, PathsController, 'two').map((t) => t.route)).toEqual([
      'POST /v/a',
      'POST /v/b/:id',
      'POST /alias/a',
      'POST /alias/b/:id',
    ]);
    expect(targetsOf(controllerTargets, PathsController, 'plain')).toEqual([]);
  });

  it("HTTP: the handler's version over the controller's, VERSION_NEUTRAL as 'neutral'", () => {
    expect(targetsOf(controllerTargets, PathsController, 'neutral')[0].version).toBe('neutral');
    expect(targetsOf(controllerTargets, VersionedController, 'x')[0]).toEqual({
      context: 'http',
      route: 'GET /x',
      path: '/x',
      version: '3',
    });
    expect(targetsOf(controllerTargets, VersionedController, 'y')[0].version).toBe('4');
  });

  it('microservices: one target per pattern, messages and events told apart, objects as JSON', () => {
    expect(targetsOf(controllerTargets, Rpc, 'message')).toEqual([
      { context: 'rpc', route: 'message a' },
      { context: 'rpc', route: 'message {"cmd":"b"}' },
    ]);
    expect(targetsOf(controllerTargets, Rpc, 'event')).toEqual([
      { context: 'rpc', route: 'event e' },
    ]);
    expect(targetsOf(controllerTargets, Rpc, 'grpc')).toEqual([
      { context: 'rpc', route: 'message {"service":"Posts","rpc":"List","streaming":"no_stream"}' },
    ]);
  });

  it('gateways: the message of each @SubscribeMessage() handler, nothing for other methods', () => {
    expect(targetsOf(providerTargets, Gateway, 'say')).toEqual([
      { context: 'ws', route: 'message chat.say' },
    ]);
    expect(targetsOf(providerTargets, Gateway, 'helper')).toEqual([]);
  });

  it('GraphQL: root fields by their operation type and name, field resolvers by their parent type', () => {
    expect(targetsOf(providerTargets, PostResolver, 'posts')).toEqual([
      { context: 'graphql', route: 'Query.posts' },
    ]);
    expect(targetsOf(providerTargets, PostResolver, 'add')).toEqual([
      { context: 'graphql', route: 'Mutation.addPost' },
    ]);
    expect(targetsOf(providerTargets, PostResolver, 'writer')).toEqual([
      { context: 'graphql', route: 'Post.author', field: true },
    ]);
    expect(targetsOf(providerTargets, PostResolver, 'title')).toEqual([
      { context: 'graphql', route: 'Post.title', field: true },
    ]);
  });
});
