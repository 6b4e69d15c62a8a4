#!/usr/bin/env node
// Every snippet, expanded with its default choices, must be .pipe that
// parses, and name built-ins and parameters that exist: `pipe fmt` and
// `pipe doc` (the registry) judge. The `pipe` executable is $PIPE, or build/pipe.
'use strict';
const assert = require('assert/strict');
const { execFileSync, spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..', '..', '..');
const pipe = path.resolve(process.env.PIPE || path.join(root, 'build', 'pipe'));
const snippets = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'snippets', 'pipe.json'), 'utf8'));

// `${1:x}` → x, `${1|a,b|}` → a, `$1` → nothing; nested placeholders too.
function expand(body) {
  let text = body.join('\n').replace(/\t/g, '    ');
  for (let previous = ''; previous !== text;) {
    previous = text;
    text = text
      .replace(/\$\{\d+:([^${}]*)\}/g, '$1')
      .replace(/\$\{\d+\|((?:[^,|\\]|\\.)*)[^}]*\|\}/g, (_, first) => first.replace(/\\(.)/g, '$1'))
      .replace(/\$\d+/g, '');
  }
  return text;
}

const statement = /^(seed|import|let|tokenizer|data|model|train|sweep|evaluate|export)\b/;
const names = new Set(execFileSync(pipe, ['doc', '--names'], { encoding: 'utf8' }).split('\n').filter(Boolean));
const docs = new Map();
const doc = (name) => {
  if (!docs.has(name)) docs.set(name, execFileSync(pipe, ['doc', name], { encoding: 'utf8' }));
  return docs.get(name);
};

let checked = 0;
for (const [title, snippet] of Object.entries(snippets)) {
  const text = expand(snippet.body);
  const file = statement.test(text) ? text : text.startsWith('item =') ? `data x { ${text} }` : `let s = ${text}`;
  const fmt = spawnSync(pipe, ['fmt', '--check', '-'], { input: file + '\n', encoding: 'utf8' });
  assert.ok(fmt.status === 0 || fmt.status === 1, `snippet "${title}" does not parse:\n${file}\n${fmt.stderr}`);
  // Each call names a built-in, and each named argument is one of its parameters.
  for (const call of text.matchAll(/([A-Za-z_]\w*)\(([^()]*(?:\([^()]*\)[^()]*)*)\)/g)) {
    const [, name, args] = call;
    assert.ok(names.has(name), `snippet "${title}": \`${name}\` is not a built-in`);
    for (const arg of args.replace(/\([^()]*\)/g, '').matchAll(/([A-Za-z_]\w*)\s*=/g)) {
      assert.match(doc(name), new RegExp(`\\b${arg[1]}: `), `snippet "${title}": \`${name}\` has no parameter \`${arg[1]}\``);
    }
  }
  checked++;
}
console.log(`snippets: ${checked} snippets parse and name real built-ins and parameters`);
