import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: an unknown flag or a missing value is a usage error (exit 2). */
export function flags<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // An unexpected positional is usually the rest of an unquoted value (a NIR with spaces,
    // a name): parseArgs would echo it, so say what to do instead.
    if ((err as { code?: string }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError('unexpected extra argument: put values that contain spaces in quotes');
    }
    // The other parseArgs messages name the flag, not its value.
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
}
