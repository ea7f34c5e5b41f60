// The nqa extension: starts `nqa lsp` (the command is the setting `nqa.server.path`) for .nqa
// files, and starts it again when that setting changes. Highlighting needs no code: the grammar
// in syntaxes/ does it.
"use strict";
const vscode = require("vscode");
const { LanguageClient, TransportKind } = require("vscode-languageclient/node");

let client;

function serverCommand() {
  return vscode.workspace.getConfiguration("nqa").get("server.path", "nqa");
}

function start() {
  const run = { command: serverCommand(), args: ["lsp"], transport: TransportKind.stdio };
  client = new LanguageClient("nqa", "nqa language server", { run, debug: run }, {
    documentSelector: [{ scheme: "file", language: "nqa" }, { scheme: "untitled", language: "nqa" }],
    // the data files a spec reads: the server checks the spec again when one changes on disk
    synchronize: { fileEvents: vscode.workspace.createFileSystemWatcher("**/*.{csv,tsv,txt,npz,parquet}") },
  });
  return client.start();
}

function activate(context) {
  context.subscriptions.push(vscode.workspace.onDidChangeConfiguration(async (event) => {
    if (event.affectsConfiguration("nqa.server.path")) {
      await deactivate();
      await start();
    }
  }));
  return start();
}

function deactivate() {
  const running = client;
  client = undefined;
  return running ? running.stop() : undefined;
}

module.exports = { activate, deactivate };
