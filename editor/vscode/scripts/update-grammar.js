#!/usr/bin/env node
// Writes the built-in names (one a line on stdin, from `pipe doc --names`)
// into the grammar's `builtin` rule. Run by scripts/update-editor.
'use strict';
const fs = require('fs');
const path = require('path');

const file = path.join(__dirname, '..', 'syntaxes', 'pipe.tmLanguage.json');
const names = fs.readFileSync(0, 'utf8').split('\n').filter(Boolean);
if (names.length === 0) {
  console.error('update-grammar: no names on stdin');
  process.exit(2);
}
for (const name of names) {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    console.error(`update-grammar: \`${name}\` is not a name`);
    process.exit(2);
  }
}
const grammar = JSON.parse(fs.readFileSync(file, 'utf8'));
const rule = grammar.repository.builtin;
rule.match = rule.match.replace(/\(\?:[^)]*\)/, `(?:${names.join('|')})`);
fs.writeFileSync(file, JSON.stringify(grammar, null, 2) + '\n');
console.log(`wrote ${path.relative(process.cwd(), file)} (${names.length} built-in names)`);
