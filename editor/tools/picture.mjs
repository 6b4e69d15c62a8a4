// Renders a .pipe file as an HTML page, highlighted by the extension's own
// grammar (editor/vscode/syntaxes) with shiki and VS Code's Dark+ theme.
// Used by scripts/editor-picture:  node picture.mjs FILE > page.html
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHighlighter } from 'shiki';

const here = dirname(fileURLToPath(import.meta.url));
const grammar = JSON.parse(readFileSync(join(here, '..', 'vscode', 'syntaxes', 'pipe.tmLanguage.json'), 'utf8'));
const file = process.argv[2];
const code = readFileSync(file, 'utf8').replace(/\n$/, '');

const highlighter = await createHighlighter({ themes: ['dark-plus'], langs: [{ ...grammar, name: 'pipe' }] });
const html = highlighter.codeToHtml(code, { lang: 'pipe', theme: 'dark-plus' });
const escape = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
process.stdout.write(`<!doctype html>
<meta charset="utf-8">
<style>
  html, body { margin: 0; background: #1e1e1e; }
  .tab { font: 13px/20px "DejaVu Sans", sans-serif; color: #ccc; background: #252526; padding: 8px 16px;
         border-bottom: 1px solid #333; }
  pre.shiki { margin: 0; padding: 12px 16px; font: 14px/20px "DejaVu Sans Mono", monospace; }
</style>
<div class="tab">${escape(basename(file))}</div>
${html}
`);
