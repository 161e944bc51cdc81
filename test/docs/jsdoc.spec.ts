// The source's own documentation: every export of lib/ carries a JSDoc summary, and what users
// write against (guards, decorators, services, the module) shows how in an `@example`.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const LIB = join(__dirname, '../../lib');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sourceFiles(join(dir, entry.name))
      : entry.name.endsWith('.ts')
        ? [join(dir, entry.name)]
        : [],
  );
}

interface Exported {
  file: string;
  name: string;
  /** A class, function or value rather than a type. */
  runtime: boolean;
  summary: string;
  tags: string[];
}

/** Exported declarations of one file (re-exports excluded), with their JSDoc summary and tags. */
function exportsOf(path: string): Exported[] {
  const source = ts.createSourceFile(
    path,
    readFileSync(path, 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  );
  const file = relative(LIB, path);
  const found: Exported[] = [];
  for (const statement of source.statements) {
    const exported = ts.canHaveModifiers(statement)
      ? ts.getModifiers(statement)?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
      : false;
    if (!exported) continue;
    const names = ts.isVariableStatement(statement)
      ? statement.declarationList.declarations.map((d) => d.name.getText(source))
      : [(statement as ts.DeclarationStatement).name?.getText(source) ?? 'default'];
    const docs = ts.getJSDocCommentsAndTags(
      ts.isVariableStatement(statement) ? statement.declarationList.declarations[0] : statement,
    );
    const summary = docs
      .filter(ts.isJSDoc)
      .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
      .join(' ')
      .trim();
    const tags = docs
      .filter(ts.isJSDoc)
      .flatMap((doc) => (doc.tags ?? []).map((t) => t.tagName.text));
    const runtime = !ts.isInterfaceDeclaration(statement) && !ts.isTypeAliasDeclaration(statement);
    for (const name of names) found.push({ file, name, runtime, summary, tags });
  }
  return found;
}

const ALL = sourceFiles(LIB).flatMap(exportsOf);
/** What users write against: an example each. */
const NEEDS_EXAMPLE =
  /\.(guard|decorator|service)\.ts$|^voxkey\.module\.ts$|^testing\/test-realm\.ts$/;

describe('JSDoc in lib/', () => {
  it('finds the exports (the check reads what it should)', () => {
    expect(ALL.map((e) => e.name)).toEqual(
      expect.arrayContaining(['VoxKeyAuthGuard', 'Scopes', 'M2MTokenService', 'VoxKeyModule']),
    );
  });

  it('every export has a summary sentence', () => {
    const missing = ALL.filter((e) => e.summary.length < 10).map((e) => `${e.file}: ${e.name}`);
    expect(missing).toEqual([]);
  });

  it('guards, decorators, services, the module and the test realm carry an @example', () => {
    const missing = ALL.filter(
      (e) => NEEDS_EXAMPLE.test(e.file) && e.runtime && !e.tags.includes('example'),
    ).map((e) => `${e.file}: ${e.name}`);
    expect(missing).toEqual([]);
  });
});
