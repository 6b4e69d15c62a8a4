// The VS Code side of pipe: starts `pipe lsp` (the path is the `pipe.path`
// setting) and connects it to the editor through vscode-languageclient.
// Highlighting, brackets and snippets come from the files package.json names.
'use strict';
const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function serverOptions() {
  const command = vscode.workspace.getConfiguration('pipe').get('path') || 'pipe';
  return { command, args: ['lsp'], transport: TransportKind.stdio };
}

async function start(context) {
  client = new LanguageClient('pipe', 'pipe', serverOptions(), {
    documentSelector: [
      { scheme: 'file', language: 'pipe' },
      { scheme: 'untitled', language: 'pipe' },
    ],
  });
  try {
    await client.start();
  } catch (err) {
    const path = serverOptions().command;
    vscode.window.showErrorMessage(
      `pipe: could not start \`${path} lsp\` (${err.message}). Set \`pipe.path\` to the pipe executable.`);
  }
  context.subscriptions.push(client);
}

async function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('pipe.restartServer', async () => {
      if (client) await client.stop().catch(() => {});
      await start(context);
    }),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (event.affectsConfiguration('pipe.path')) await vscode.commands.executeCommand('pipe.restartServer');
    }),
  );
  await start(context);
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
