import { Field, ObjectType, Parent, Query, ResolveField, Resolver } from '@nestjs/graphql';
import { Public, Scopes, VoxKeyModule, VoxKeyUser } from '../../lib/index';
import { VoxKeyTestRealm } from '../../lib/testing/index';
import {
  createGraphQLApp,
  GRAPHQL_DRIVERS,
  type GraphQLApp,
  graphqlModule,
  postGraphQL,
} from '../support/graphql-app';

@ObjectType()
class Note {
  @Field()
  id!: string;
}

/** A field resolver with scopes of its own, and one reading the claims. */
@Resolver(() => Note)
class NotesResolver {
  @Query(() => [Note])
  notes(): Note[] {
    return [{ id: 'n1' }];
  }

  @Public()
  @Query(() => [Note])
  publicNotes(): Note[] {
    return [{ id: 'p1' }];
  }

  @Scopes('read:secrets')
  @ResolveField('secret', () => String, { nullable: true })
  hidden(@Parent() note: Note): string {
    return `secret of ${note.id}`;
  }

  @ResolveField(() => String, { nullable: true })
  owner(@VoxKeyUser('sub') sub: string | undefined): string | undefined {
    return sub;
  }
}

describe.each(GRAPHQL_DRIVERS)('GraphQL field resolvers on %s', (driver) => {
  let realm: VoxKeyTestRealm;
  beforeAll(async () => {
    realm = await VoxKeyTestRealm.start();
  });
  afterAll(async () => {
    await realm?.close();
  });

  const boot = (extra: Record<string, unknown>) =>
    createGraphQLApp(
      driver,
      [VoxKeyModule.forRoot(realm.moduleOptions()), graphqlModule(driver, extra)],
      [NotesResolver],
    );

  it.each([
    ['without fieldResolverEnhancers', {}],
    ["with fieldResolverEnhancers: ['interceptors']", { fieldResolverEnhancers: ['interceptors'] }],
  ])(
    '@Scopes on a @ResolveField %s: the application does not start, naming Type.field',
    async (_name, extra) => {
      await expect(boot(extra)).rejects.toThrow(
        /Note\.secret\b.*fieldResolverEnhancers: \['guards'\]/,
      );
    },
  );

  describe("with fieldResolverEnhancers: ['guards']", () => {
    let gql: GraphQLApp;
    beforeAll(async () => {
      gql = await boot({ fieldResolverEnhancers: ['guards'] });
    });
    afterAll(async () => {
      await gql?.app.close();
    });

    it('the field scope is enforced: refused without it, the rest of the data served', async () => {
      const res = await postGraphQL(
        gql.url,
        '{ notes { id secret owner } }',
        `Bearer ${realm.mint({ subject: 'bob' })}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data).toEqual({ notes: [{ id: 'n1', secret: null, owner: 'bob' }] });
      expect(res.body.errors).toHaveLength(1);
      // Mercurius spells the list index as a string.
      expect(res.body.errors?.[0].path?.map(String)).toEqual(['notes', '0', 'secret']);
      expect(res.body.errors?.[0].extensions).toMatchObject({
        code: 'FORBIDDEN',
        statusCode: 403,
        scope: 'read:secrets',
      });
    });

    it('with the scope the field resolves, and @VoxKeyUser() gives the claims', async () => {
      const res = await postGraphQL(
        gql.url,
        '{ notes { id secret owner } }',
        `Bearer ${realm.mint({ subject: 'bob', scope: 'read:secrets' })}`,
      );
      expect(res.body).toEqual({
        data: { notes: [{ id: 'n1', secret: 'secret of n1', owner: 'bob' }] },
      });
    });

    it('a protected field under a @Public() query is refused without a token', async () => {
      const res = await postGraphQL(gql.url, '{ publicNotes { id secret } }');
      expect(res.body.data).toEqual({ publicNotes: [{ id: 'p1', secret: null }] });
      expect(res.body.errors?.[0].extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
    });
  });
});
