#!/usr/bin/env node
// Tokenizes every example and every fixture with the extension's own grammar
// (vscode-textmate + vscode-oniguruma, the engine VS Code itself uses) and
// compares the scopes with the committed dumps in test/expected/.
//
//   node test/highlight.js             compare; exit 1 on any difference
//   UPDATE=1 node test/highlight.js    rewrite the dumps (then review the diff)
'use strict';
const fs = require('fs');
const path = require('path');
const textmate = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = __dirname;
const root = path.resolve(here, '..', '..', '..');
const grammarFile = path.join(here, '..', 'syntaxes', 'pipe.tmLanguage.json');
const expectedDir = path.join(here, 'expected');

async function loadGrammar() {
  const wasm = fs.readFileSync(require.resolve('vscode-oniguruma/release/onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.pipe') return null;
      return textmate.parseRawGrammar(fs.readFileSync(grammarFile, 'utf8'), grammarFile);
    },
  });
  return registry.loadGrammar('source.pipe');
}

// One line per source line, then one line per token that is not white space:
// its text and its scopes (the root scope `source.pipe` left out).
function dump(grammar, text) {
  const out = [];
  let state = textmate.INITIAL;
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    out.push(`${String(i + 1).padStart(3)}| ${line}`);
    const result = grammar.tokenizeLine(line, state);
    for (const token of result.tokens) {
      const piece = line.slice(token.startIndex, token.endIndex);
      if (piece.trim() === '') continue;
      const scopes = token.scopes.filter((s) => s !== 'source.pipe');
      out.push(`     ${JSON.stringify(piece)} ${scopes.join(' ') || '-'}`);
    }
    state = result.ruleStack;
  });
  return out.join('\n') + '\n';
}

function inputs() {
  const list = [];
  for (const [dir, prefix] of [[path.join(root, 'examples'), 'example'], [path.join(here, 'fixtures'), 'fixture']]) {
    for (const name of fs.readdirSync(dir).sort()) {
      if (name.endsWith('.pipe')) list.push({ file: path.join(dir, name), dumpName: `${prefix}-${name.replace(/\.pipe$/, '')}.txt` });
    }
  }
  return list;
}

// The first differing line, with a little context, for the failure message.
function firstDifference(expected, actual) {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const from = Math.max(0, i - 3);
      return [...a.slice(from, i).map((l) => `  ${l}`), `- ${a[i] ?? '(end)'}`, `+ ${b[i] ?? '(end)'}`].join('\n');
    }
  }
  return '';
}

async function main() {
  const grammar = await loadGrammar();
  const update = process.env.UPDATE === '1';
  let failed = 0;
  const expectedNames = new Set();
  for (const { file, dumpName } of inputs()) {
    expectedNames.add(dumpName);
    const actual = dump(grammar, fs.readFileSync(file, 'utf8'));
    const target = path.join(expectedDir, dumpName);
    if (update) {
      fs.writeFileSync(target, actual);
      continue;
    }
    const expected = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : null;
    if (expected === actual) continue;
    failed++;
    console.error(`highlight: ${path.relative(root, file)}: ${expected === null ? 'no expected dump' : 'scopes differ'} (test/expected/${dumpName})`);
    if (expected !== null) console.error(firstDifference(expected, actual));
  }
  // A dump whose input is gone is stale too.
  for (const name of fs.readdirSync(expectedDir)) {
    if (expectedNames.has(name)) continue;
    if (update) fs.unlinkSync(path.join(expectedDir, name));
    else {
      failed++;
      console.error(`highlight: test/expected/${name} has no input any more`);
    }
  }
  if (update) {
    console.log(`highlight: wrote ${expectedNames.size} dumps to ${path.relative(root, expectedDir)}`);
    return;
  }
  if (failed) {
    console.error(`highlight: ${failed} of ${expectedNames.size} files differ; after checking the change, rewrite the dumps with "UPDATE=1 scripts/test-editor" (or "UPDATE=1 node test/highlight.js" here) and commit them`);
    process.exit(1);
  }
  console.log(`highlight: ${expectedNames.size} files tokenized as expected`);
}

main().catch((err) => {
  console.error(`highlight: ${err.stack || err}`);
  process.exit(1);
});
