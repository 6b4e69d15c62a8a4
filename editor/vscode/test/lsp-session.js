#!/usr/bin/env node
// Drives a real `pipe lsp` process through a scripted editing session with
// vscode-jsonrpc (the library under VS Code's own language client) and checks
// every answer. The `pipe` executable is $PIPE, or build/pipe.
'use strict';
const assert = require('assert/strict');
const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const { pathToFileURL } = require('url');
const rpc = require('vscode-jsonrpc/node');

const root = path.resolve(__dirname, '..', '..', '..');
const pipe = path.resolve(process.env.PIPE || path.join(root, 'build', 'pipe'));
const examples = path.join(root, 'examples');
const uriOf = (file) => pathToFileURL(file).href;

// Position of the `n`th character of the first occurrence of `needle` (ASCII text).
function positionOf(text, needle, n = 0) {
  const offset = text.indexOf(needle);
  assert.notEqual(offset, -1, `\`${needle}\` is not in the text`);
  const before = text.slice(0, offset + n);
  const line = before.split('\n').length - 1;
  return { line, character: before.length - before.lastIndexOf('\n') - 1 };
}

async function main() {
  if (!fs.existsSync(pipe)) throw new Error(`${pipe} not found: build pipe first, or set PIPE`);
  const server = spawn(pipe, ['lsp'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => server.on('exit', (code) => resolve(code)));
  const connection = rpc.createMessageConnection(
    new rpc.StreamMessageReader(server.stdout), new rpc.StreamMessageWriter(server.stdin));
  // Diagnostics arrive as notifications; each wait takes the next one for a URI.
  const published = [];
  const waiting = [];
  connection.onNotification('textDocument/publishDiagnostics', (params) => {
    const i = waiting.findIndex((w) => w.uri === params.uri);
    if (i >= 0) waiting.splice(i, 1)[0].resolve(params.diagnostics);
    else published.push(params);
  });
  const diagnosticsFor = (uri) => {
    const i = published.findIndex((p) => p.uri === uri);
    if (i >= 0) return Promise.resolve(published.splice(i, 1)[0].diagnostics);
    return new Promise((resolve) => waiting.push({ uri, resolve }));
  };
  connection.listen();
  let checks = 0;
  const check = (what, fn) => {
    fn();
    checks++;
    console.log(`  ok  ${what}`);
  };

  // initialize
  const init = await connection.sendRequest('initialize', { processId: process.pid, rootUri: uriOf(root), capabilities: {} });
  check('initialize: capabilities and server info', () => {
    const c = init.capabilities;
    assert.deepEqual(c.textDocumentSync, { openClose: true, change: 1 });
    assert.equal(c.hoverProvider, true);
    assert.equal(c.definitionProvider, true);
    assert.equal(c.documentSymbolProvider, true);
    assert.equal(c.documentFormattingProvider, true);
    assert.ok(c.completionProvider.triggerCharacters.includes('.'));
    assert.equal(init.serverInfo.name, 'pipe');
  });
  await connection.sendNotification('initialized', {});

  // didOpen with a typo: the checker's own message, range and hint
  const file = path.join(examples, 'fashion.pipe');
  const uri = uriOf(file);
  const text = fs.readFileSync(file, 'utf8');
  await connection.sendNotification('textDocument/didOpen', {
    textDocument: { uri, languageId: 'pipe', version: 1, text: text.replace('adamw(', 'adamx(') },
  });
  const diags = await diagnosticsFor(uri);
  check('didOpen: diagnostics from the checker', () => {
    assert.equal(diags.length, 1);
    assert.equal(diags[0].severity, 1);
    assert.equal(diags[0].code, 'unknown-builtin');
    assert.equal(diags[0].source, 'pipe');
    assert.equal(diags[0].message, 'unknown optimizer `adamx`\nhint: did you mean `adamw`?');
    const at = positionOf(text, 'adamw(');
    assert.deepEqual(diags[0].range, { start: at, end: { line: at.line, character: at.character + 5 } });
  });

  // didChange: the fixed text has no diagnostics
  await connection.sendNotification('textDocument/didChange', {
    textDocument: { uri, version: 2 }, contentChanges: [{ text }],
  });
  const fixed = await diagnosticsFor(uri);
  check('didChange: the fixed text has no diagnostics', () => assert.deepEqual(fixed, []));

  // hover
  const hover = await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'adamw(', 2) });
  check('hover: a built-in shows its signature and documentation', () => {
    assert.equal(hover.contents.kind, 'markdown');
    assert.match(hover.contents.value, /^### `adamw`\n\n```\nadamw\(/);
    assert.match(hover.contents.value, /\| `weight_decay` \| `float` \|/);
    assert.deepEqual(hover.range.start, positionOf(text, 'adamw('));
  });
  const fieldHover = await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: positionOf(text, 'batch_size') });
  check('hover: a field shows its type, default and doc', () => {
    assert.match(fieldHover.contents.value, /batch_size: int = 64/);
    assert.match(fieldHover.contents.value, /field of the `data` block/);
  });
  const none = await connection.sendRequest('textDocument/hover', { textDocument: { uri }, position: { line: 0, character: 3 } });
  check('hover: nothing in a comment', () => assert.equal(none, null));

  // go to definition
  const def = await connection.sendRequest('textDocument/definition', { textDocument: { uri }, position: positionOf(text, 'fashion.test', 3) });
  check('definition: a reference goes to its block', () => {
    assert.equal(def.uri, uri);
    assert.deepEqual(def.range.start, positionOf(text, 'fashion {'));
  });

  // document symbols
  const symbols = await connection.sendRequest('textDocument/documentSymbol', { textDocument: { uri } });
  check('documentSymbol: an outline of the blocks and their fields', () => {
    assert.deepEqual(symbols.map((s) => s.name), ['seed 42', 'fashion', 'net', 'fit', 'evaluate fit', 'export fit']);
    assert.deepEqual(symbols.map((s) => s.kind), [16, 23, 5, 6, 24, 1]);
    assert.equal(symbols[4].detail, 'on fashion.test with [accuracy, confusion_matrix]');
    assert.deepEqual(symbols[1].children.map((s) => s.name), ['source', 'blocks', 'split', 'item', 'batch', 'batch_size']);
  });

  // completion in half-typed text
  const draftUri = uriOf(path.join(examples, 'draft.pipe'));
  const draft = 'data d { source = idx("x")  blocks = (image, category) }\ntrain t {\n    optimizer = adamw(we\n';
  await connection.sendNotification('textDocument/didOpen', { textDocument: { uri: draftUri, languageId: 'pipe', version: 1, text: draft } });
  const draftDiags = await diagnosticsFor(draftUri);
  check('didOpen: half-typed text gets syntax errors, not a crash', () => {
    assert.ok(draftDiags.length >= 1);
    assert.ok(draftDiags.every((d) => d.severity === 1 && d.message.length > 0));
  });
  const params = await connection.sendRequest('textDocument/completion', { textDocument: { uri: draftUri }, position: { line: 2, character: 24 } });
  check('completion: parameter names of the call being written', () => {
    const labels = params.map((i) => i.label);
    assert.ok(labels.includes('weight_decay'), labels.join(' '));
    assert.ok(labels.includes('lr'));
    const wd = params.find((i) => i.label === 'weight_decay');
    assert.equal(wd.insertText, 'weight_decay = ');
  });
  await connection.sendNotification('textDocument/didChange', {
    textDocument: { uri: draftUri, version: 2 },
    contentChanges: [{ text: draft.replace('adamw(we', 'adamw(weight_decay = 0.1)\n    metrics = [') }],
  });
  await diagnosticsFor(draftUri);
  const metrics = await connection.sendRequest('textDocument/completion', { textDocument: { uri: draftUri }, position: { line: 3, character: 15 } });
  check('completion: only metrics in a metrics list', () => {
    const labels = metrics.map((i) => i.label);
    assert.ok(labels.includes('accuracy') && labels.includes('f1'), labels.join(' '));
    assert.ok(!labels.includes('adamw') && !labels.includes('cnn'));
    assert.equal(metrics.find((i) => i.label === 'accuracy').documentation.kind, 'markdown');
  });
  const statements = await connection.sendRequest('textDocument/completion', { textDocument: { uri: draftUri }, position: { line: 1, character: 0 } });
  check('completion: statements where a statement starts, with snippets', () => {
    const data = statements.find((i) => i.label === 'data');
    assert.ok(data, statements.map((i) => i.label).join(' '));
    assert.equal(data.insertTextFormat, 2);
    assert.match(data.insertText, /^data \$\{1:name\} \{\n\tsource = \$2\n\tblocks = \$3\n\}$/);
  });

  // formatting
  const messy = 'seed   1\ndata{source=idx("x") blocks=(image,category)}';
  await connection.sendNotification('textDocument/didChange', { textDocument: { uri: draftUri, version: 3 }, contentChanges: [{ text: messy }] });
  await diagnosticsFor(draftUri);
  const edits = await connection.sendRequest('textDocument/formatting', { textDocument: { uri: draftUri }, options: { tabSize: 4, insertSpaces: true } });
  check('formatting: the layout of pipe fmt, as one edit', () => {
    assert.equal(edits.length, 1);
    assert.deepEqual(edits[0].range, { start: { line: 0, character: 0 }, end: { line: 1, character: messy.length - messy.indexOf('\n') - 1 } });
    assert.equal(edits[0].newText, 'seed 1\n\ndata {\n    source = idx("x")\n    blocks = (image, category)\n}\n');
  });

  // errors are answers, not crashes
  await assert.rejects(connection.sendRequest('workspace/executeCommand', { command: 'x' }), (e) => e.code === -32601);
  check('an unknown method is MethodNotFound', () => {});
  await assert.rejects(connection.sendRequest('textDocument/hover', { textDocument: { uri: 'file:///not/open.pipe' }, position: { line: 0, character: 0 } }),
    (e) => e.code === -32602);
  check('a document that is not open is InvalidParams', () => {});

  // didClose clears the diagnostics; shutdown and exit end the process with 0
  await connection.sendNotification('textDocument/didClose', { textDocument: { uri: draftUri } });
  const cleared = await diagnosticsFor(draftUri);
  check('didClose: diagnostics cleared', () => assert.deepEqual(cleared, []));
  assert.equal(await connection.sendRequest('shutdown'), null);
  await connection.sendNotification('exit');
  const code = await exited;
  check('shutdown, exit: the process ends with 0', () => assert.equal(code, 0));
  connection.dispose();
  console.log(`lsp-session: ${checks} checks passed against ${path.relative(root, pipe) || pipe}`);
}

const timeout = setTimeout(() => {
  console.error('lsp-session: no answer within 60 s');
  process.exit(1);
}, 60000);
main().then(() => clearTimeout(timeout), (err) => {
  console.error(`lsp-session: ${err.stack || err}`);
  process.exit(1);
});
