// Activates extension.js with stand-ins for `vscode` and `vscode-languageclient/node` (which
// only VS Code provides) and prints, as JSON, how it starts the language server: the command,
// its arguments, the documents it serves and the files it watches. Then changes the setting
// `nqa.server.path` and prints the restarted server's command. Run: node activate.js [SETTINGS_JSON]
"use strict";
const Module = require("module");
const path = require("path");

const settings = JSON.parse(process.argv[2] || "{}");
const started = [];
let onConfiguration;
const vscode = {
  workspace: {
    getConfiguration: (section) => ({
      get: (key, fallback) => (`${section}.${key}` in settings ? settings[`${section}.${key}`] : fallback),
    }),
    createFileSystemWatcher: (glob) => ({ glob, dispose() {} }),
    onDidChangeConfiguration: (listener) => {
      onConfiguration = listener;
      return { dispose() {} };
    },
  },
};
class LanguageClient {
  constructor(id, name, server, client) {
    this.shown = { id, name, command: server.run.command, args: server.run.args,
      documents: client.documentSelector, watched: client.synchronize.fileEvents.glob, running: false };
    started.push(this.shown);
  }
  start() { this.shown.running = true; return Promise.resolve(); }
  stop() { this.shown.running = false; return Promise.resolve(); }
}
const load = Module._load;
Module._load = function (request, ...rest) {
  if (request === "vscode") return vscode;
  if (request === "vscode-languageclient/node") return { LanguageClient, TransportKind: { stdio: 0 } };
  return load.call(this, request, ...rest);
};

async function main() {
  const extension = require(path.join(__dirname, "..", "extension.js"));
  await extension.activate({ subscriptions: [] });
  settings["nqa.server.path"] = "/elsewhere/nqa";
  await onConfiguration({ affectsConfiguration: (name) => name === "nqa.server.path" });
  process.stdout.write(JSON.stringify(started));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
