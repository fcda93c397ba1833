#!/usr/bin/env node
// Parses an AsyncAPI document (a file named as the argument, or stdin) with the official
// AsyncAPI parser and prints each diagnostic as a line: "<severity> <code> at <path>: <message>".
// Exits 1 when any diagnostic is an error (the document is not valid AsyncAPI), 2 when the
// input cannot be read, 0 otherwise (warnings and hints are printed, not failed on).
'use strict';
const fs = require('fs');
const { Parser, DiagnosticSeverity } = require('@asyncapi/parser');

const SEVERITY = {
  [DiagnosticSeverity.Error]: 'error',
  [DiagnosticSeverity.Warning]: 'warning',
  [DiagnosticSeverity.Information]: 'information',
  [DiagnosticSeverity.Hint]: 'hint',
};

function line(diagnostic) {
  const where = diagnostic.path && diagnostic.path.length ? diagnostic.path.join('.') : '(document)';
  return `${SEVERITY[diagnostic.severity]} ${diagnostic.code} at ${where}: ${diagnostic.message}`;
}

async function main() {
  const source = process.argv[2];
  let text;
  try {
    text = fs.readFileSync(source || 0, 'utf8');
  } catch (error) {
    console.error(`cannot read ${source || 'stdin'}: ${error.message}`);
    return 2;
  }
  const { diagnostics } = await new Parser().parse(text);
  diagnostics.forEach((diagnostic) => console.log(line(diagnostic)));
  const errors = diagnostics.filter((diagnostic) => diagnostic.severity === DiagnosticSeverity.Error);
  console.log(`${errors.length} error(s), ${diagnostics.length - errors.length} other diagnostic(s)`);
  return errors.length ? 1 : 0;
}

main().then((code) => { process.exitCode = code; });
