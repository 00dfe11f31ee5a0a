import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './io.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: an unknown flag or a missing value is a usage error (exit 2). */
export function flags<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options: { help: { type: 'boolean', short: 'h' }, ...options }, strict: true, allowPositionals: false }).values;
  } catch (err) {
    // parseArgs messages name the flag; they never contain a flag's value.
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
}
