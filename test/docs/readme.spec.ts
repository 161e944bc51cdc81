import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Every ```ts block of the README (and of the guides under docs/) is type-checked against the library's public entry points, so
 * a sample cannot drift from the API it shows. Blocks are compiled as modules of their own, in
 * one program, with tsconfig.json's options ('@voxkey/nestjs' and '@voxkey/nestjs/testing' map to
 * lib/ through its `paths`). A block whose first line is a file-name comment (`// app.module.ts`)
 * is compiled under that name, so other blocks can import it (`./posts.controller`). A block
 * fenced ```ts fragment is not compiled.
 */

const root = join(__dirname, '..', '..');
/** The documents whose samples are compiled, relative to the repository. */
const DOCUMENTS = ['README.md', 'docs/contexts.md'];
// Virtual files live in a folder of the repository, so packages resolve from its node_modules.
const BLOCKS_DIR = join(root, 'readme-blocks');

/**
 * The samples configure the module from `@nestjs/config` and record metrics with `prom-client`,
 * which this repository does not install: this is the part of their APIs they use (as declared
 * by @nestjs/config 4 and prom-client 15).
 */
const STUBS: Record<string, string> = {
  'node_modules/@nestjs/config/index.d.ts': `
    import type { DynamicModule } from '@nestjs/common';
    export declare class ConfigModule {
      static forRoot(options?: Record<string, unknown>): DynamicModule;
    }
    export declare class ConfigService {
      get<T = string>(propertyPath: string): T | undefined;
      getOrThrow<T = string>(propertyPath: string): T;
    }
  `,
  'node_modules/@nestjs/config/package.json': '{ "name": "@nestjs/config", "types": "index.d.ts" }',
  'node_modules/prom-client/index.d.ts': `
    type LabelValues<T extends string> = Partial<Record<T, string | number>>;
    interface MetricConfiguration<T extends string> {
      name: string;
      help: string;
      labelNames?: readonly T[];
      registers?: Registry[];
    }
    export declare class Registry {
      metrics(): Promise<string>;
      readonly contentType: string;
    }
    export declare const register: Registry;
    export declare class Counter<T extends string = string> {
      constructor(configuration: MetricConfiguration<T>);
      inc(labels: LabelValues<T>, value?: number): void;
      inc(value?: number): void;
    }
    export declare class Histogram<T extends string = string> {
      constructor(configuration: MetricConfiguration<T> & { buckets?: number[] });
      observe(value: number): void;
      observe(labels: LabelValues<T>, value: number): void;
    }
  `,
  'node_modules/prom-client/package.json': '{ "name": "prom-client", "types": "index.d.ts" }',
};

interface Block {
  /** The document the block is in. */
  doc: string;
  /** Line of the block's first line of code in that document (1-based). */
  line: number;
  fileName: string;
  code: string;
}

/** A document's ```ts blocks, in order; ```ts fragment blocks are left out. */
function readmeBlocks(doc: string): Block[] {
  const markdown = readFileSync(join(root, doc), 'utf8');
  // Each document's blocks in a folder of their own, so their file names cannot collide.
  const folder = join(BLOCKS_DIR, doc.replace(/\W+/g, '-'));
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const end = lines.findIndex((text, j) => j > i && text.startsWith('```'));
    if (end === -1) throw new Error(`${doc}:${i + 1}: code block is never closed`);
    const [, language, rest] = open;
    if (/^(ts|typescript)$/.test(language) && rest.trim() !== 'fragment') {
      const code = lines.slice(i + 1, end);
      const named = /^\/\/ ([\w.-]+\.ts)$/.exec(code[0] ?? '');
      blocks.push({
        doc,
        line: i + 2,
        fileName: join(folder, named ? named[1] : `line-${i + 2}.ts`),
        code: code.join('\n') + '\n',
      });
    }
    i = end;
  }
  return blocks;
}

function compilerOptions(): ts.CompilerOptions {
  const configFile = join(root, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configFile, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, root, undefined, configFile);
  return {
    ...parsed.options,
    // Each block is a module of its own, even one without imports or exports.
    moduleDetection: ts.ModuleDetectionKind.Force,
    // A sample may declare a parameter or a private member only to show its shape.
    noUnusedLocals: false,
    noUnusedParameters: false,
    noEmit: true,
    declaration: false,
    sourceMap: false,
  };
}

/** One program for every block: each block's diagnostics, with the document's line numbers. */
function typeCheck(blocks: Block[]): Map<Block, string[]> {
  const options = compilerOptions();
  const virtual = new Map<string, string>(blocks.map((block) => [block.fileName, block.code]));
  for (const [path, text] of Object.entries(STUBS)) virtual.set(join(BLOCKS_DIR, path), text);
  const host = ts.createCompilerHost(options);
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.getSourceFile = (fileName, languageVersion, ...rest) => {
    const text = virtual.get(fileName);
    return text === undefined
      ? getSourceFile.call(host, fileName, languageVersion, ...rest)
      : ts.createSourceFile(fileName, text, languageVersion, true);
  };
  host.fileExists = (fileName) => virtual.has(fileName) || fileExists.call(host, fileName);
  host.readFile = (fileName) => virtual.get(fileName) ?? readFile.call(host, fileName);
  host.directoryExists = (directory) =>
    [...virtual.keys()].some((fileName) => fileName.startsWith(directory + '/')) ||
    directoryExists?.call(host, directory) !== false;

  const program = ts.createProgram(
    blocks.map((block) => block.fileName),
    options,
    host,
  );
  const global = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (global.length > 0) {
    throw new Error(ts.formatDiagnostics(global, host));
  }
  const results = new Map<Block, string[]>();
  for (const block of blocks) {
    const source = program.getSourceFile(block.fileName);
    if (!source) throw new Error(`${block.doc}:${block.line}: block was not compiled`);
    const diagnostics = [
      ...program.getSyntacticDiagnostics(source),
      ...program.getSemanticDiagnostics(source),
    ];
    results.set(
      block,
      diagnostics.map((diagnostic) => {
        const at = diagnostic.start ?? 0;
        const { line } = source.getLineAndCharacterOfPosition(at);
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        return `${block.doc}:${block.line + line}: TS${diagnostic.code} ${message}`;
      }),
    );
  }
  return results;
}

describe('code samples of the README and the guides', () => {
  const blocks = DOCUMENTS.flatMap(readmeBlocks);
  let diagnostics: Map<Block, string[]>;

  beforeAll(() => {
    diagnostics = typeCheck(blocks);
  }, 60_000);

  it.each(DOCUMENTS)('%s has samples to check, each compiled under its own file name', (doc) => {
    const own = blocks.filter((block) => block.doc === doc);
    expect(own.length).toBeGreaterThan(doc === 'README.md' ? 5 : 2);
    const names = own.map((block) => block.fileName);
    expect(new Set(names).size).toBe(names.length);
  });

  it.each(blocks.map((block) => [`${block.doc}:${block.line}`, block] as const))(
    'the block at %s compiles',
    (_where, block) => {
      expect(diagnostics.get(block)).toEqual([]);
    },
  );
});
