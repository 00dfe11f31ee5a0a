#!/usr/bin/env node
// Sésame runs its TypeScript sources directly on Node 24 (type stripping); the project
// installs that Node in node_modules/.bin, which npm scripts and npx put first on PATH.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  console.error(`Sésame needs Node.js 24 (this is ${process.versions.node}): run it with \`npm run sesame -- …\` or \`npx sesame …\`.`);
  process.exit(2);
}
await import('../src/main.ts');
