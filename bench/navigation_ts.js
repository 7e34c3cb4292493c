// Reference analyzer for bench/navigation.py: the TypeScript language service.
//
//   node bench/navigation_ts.js ROOT > answers.json      (NODE_PATH must reach the `typescript` package)
//
// Lists every function, class, method and interface declared in ROOT's .ts/.tsx/.js files and,
// for each, the language service's references (findReferences) and its declaration's line
// range. Lines are 1-based, columns 1-based (UTF-16 code units, as the service counts).
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const root = path.resolve(process.argv[2]);
const files = [];
(function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(full);
    else if (/\.(ts|tsx|js)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) files.push(full);
  }
})(root);

const options = { allowJs: true, target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Node10 };
const host = {
  getScriptFileNames: () => files,
  getScriptVersion: () => "1",
  getScriptSnapshot: (f) => (fs.existsSync(f) ? ts.ScriptSnapshot.fromString(fs.readFileSync(f, "utf8")) : undefined),
  getCurrentDirectory: () => root,
  getCompilationSettings: () => options,
  getDefaultLibFileName: (o) => ts.getDefaultLibFilePath(o),
  fileExists: ts.sys.fileExists,
  readFile: ts.sys.readFile,
  readDirectory: ts.sys.readDirectory,
};
const service = ts.createLanguageService(host, ts.createDocumentRegistry());
const program = service.getProgram();

function where(sourceFile, pos) {
  const lc = sourceFile.getLineAndCharacterOfPosition(pos);
  return { line: lc.line + 1, column: lc.character + 1 };
}

const KINDS = new Map([
  [ts.SyntaxKind.FunctionDeclaration, "function"],
  [ts.SyntaxKind.ClassDeclaration, "class"],
  [ts.SyntaxKind.MethodDeclaration, "method"],
  [ts.SyntaxKind.InterfaceDeclaration, "interface"],
]);

const out = [];
for (const file of files) {
  const sf = program.getSourceFile(file);
  const rel = path.relative(root, file).split(path.sep).join("/");
  (function visit(node) {
    const kind = KINDS.get(node.kind);
    if (kind && node.name && ts.isIdentifier(node.name)) {
      const at = where(sf, node.name.getStart(sf));
      const refs = [];
      for (const symbol of service.findReferences(file, node.name.getStart(sf)) || []) {
        for (const ref of symbol.references) {
          if (!ref.fileName.startsWith(root)) continue;
          const target = program.getSourceFile(ref.fileName);
          const p = where(target, ref.textSpan.start);
          refs.push({ path: path.relative(root, ref.fileName).split(path.sep).join("/"), line: p.line, column: p.column, definition: !!ref.isDefinition });
        }
      }
      out.push({
        name: node.name.text, kind, path: rel, line: at.line, column: at.column,
        start_line: where(sf, node.getStart(sf)).line, end_line: where(sf, node.getEnd()).line, references: refs,
      });
    }
    ts.forEachChild(node, visit);
  })(sf);
}
process.stdout.write(JSON.stringify(out));
