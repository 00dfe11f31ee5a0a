import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../src/cli/cli.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a `sesame` command in this process with its own environment and captured output. */
export async function sesame(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<CliResult> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (c: Buffer) => (stdout += c.toString()));
  err.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await runCli(args, { stdout: out, stderr: err, stdin: Readable.from([stdin]), env, cwd: process.cwd() });
  return { code, stdout, stderr };
}
