/**
 * The `ts` and `js` rules: every block becomes a virtual module under the repository root (nothing is written to
 * disk), and ONE TypeScript program checks them all, with tsconfig.json's options and its `paths`, so `keygate`,
 * `keygate/fastify`, … resolve to src/ exactly as they do for the examples. A `ts` block must type-check; a `js`
 * block must parse as an ES module and each of its imports must resolve to a module that exports the names it takes.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { ROOT, type Block } from './markdown.js';

/** Library and package declarations parsed once per process: a second program (the rules' own tests) reuses them. */
const parsed = new Map<string, ts.SourceFile>();

/** Where a block lives for the compiler; named after its place so a diagnostic says where to look. */
function virtualPath(block: Block, index: number): string {
  const name = `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-L${block.line}-${index}`;
  return join(ROOT, '.docs-blocks', block.lang === 'js' ? `${name}.mjs` : `${name}.mts`);
}

function compilerOptions(): ts.CompilerOptions {
  const configPath = join(ROOT, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT, undefined, configPath);
  return {
    ...parsed.options,
    noEmit: true,
    allowJs: true,
    checkJs: false,
    // A snippet may declare what it does not use (a handler's parameter, a value shown for its type).
    noUnusedLocals: false,
    noUnusedParameters: false,
    moduleDetection: ts.ModuleDetectionKind.Force,
  };
}

function format(block: Block, diagnostic: ts.Diagnostic): string {
  const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
  if (diagnostic.file && diagnostic.start !== undefined) {
    const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    return `${block.file}:${block.line + 1 + line}:${character + 1}: TS${diagnostic.code} ${message}`;
  }
  return `${block.file}:${block.line}: TS${diagnostic.code} ${message}`;
}

/** The imports of a `js` block that do not resolve, or that ask for a name the module does not export. */
function importProblems(block: Block, source: ts.SourceFile, checker: ts.TypeChecker): string[] {
  const problems: string[] = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const specifier = statement.moduleSpecifier.text;
    const where = `${block.file}:${block.line + 1 + source.getLineAndCharacterOfPosition(statement.getStart()).line}`;
    const module = checker.getSymbolAtLocation(statement.moduleSpecifier);
    if (!module) {
      problems.push(`${where}: cannot resolve the import '${specifier}'`);
      continue;
    }
    const exported = new Set(checker.getExportsOfModule(module).map((symbol) => symbol.getName()));
    const bindings = statement.importClause?.namedBindings;
    if (bindings && ts.isNamedImports(bindings)) {
      for (const element of bindings.elements) {
        const name = (element.propertyName ?? element.name).text;
        if (!exported.has(name)) problems.push(`${where}: '${specifier}' exports no '${name}'`);
      }
    }
  }
  return problems;
}

/** Checks every `ts` and `js` block in one program; returns the problems, each naming the block's file and line. */
export function checkScriptBlocks(blocks: readonly Block[]): string[] {
  const files = new Map(blocks.map((block, index) => [virtualPath(block, index), block] as const));
  const options = compilerOptions();
  const host = ts.createCompilerHost(options, true);
  const { fileExists, readFile, getSourceFile } = host;
  host.fileExists = (path) => files.has(path) || fileExists.call(host, path);
  host.readFile = (path) => files.get(path)?.code ?? readFile.call(host, path);
  host.getSourceFile = (path, language, onError, create) => {
    const block = files.get(path);
    if (block) return ts.createSourceFile(path, block.code, language, true);
    const key = `${path}\0${typeof language === 'object' ? language.languageVersion : language}`;
    let source = parsed.get(key);
    if (!source) {
      source = getSourceFile.call(host, path, language, onError, create);
      if (source) parsed.set(key, source);
    }
    return source;
  };
  const program = ts.createProgram({ rootNames: [...files.keys()], options, host });
  const checker = program.getTypeChecker();
  const problems: string[] = [];
  for (const [path, block] of files) {
    const source = program.getSourceFile(path)!;
    const diagnostics = block.lang === 'js' ? program.getSyntacticDiagnostics(source) : [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    problems.push(...diagnostics.map((d) => format(block, d)));
    if (block.lang === 'js' && diagnostics.length === 0) problems.push(...importProblems(block, source, checker));
  }
  return problems;
}
