import type { CliIo } from './io.ts';

export interface Command {
  /** e.g. 'users create' */
  name: string;
  summary: string;
  usage: string;
  run(args: string[], io: CliIo): Promise<number>;
}
