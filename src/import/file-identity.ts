import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';

/**
 * What makes two runs "the same file": SHA-256 of its whole content, read as a stream, and
 * its size. A checkpoint only resumes a run of exactly this content, so a file edited after
 * an interruption starts over instead of skipping rows it never saw.
 */
export interface FileIdentity {
  sha256: Buffer;
  size: number;
}

export class UnreadableFileError extends Error {
  override name = 'UnreadableFileError';
}

export async function fileIdentity(file: string): Promise<FileIdentity> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UnreadableFileError(`cannot read the file (${err.code ?? 'error'})`);
  });
  if (!info.isFile()) throw new UnreadableFileError('not a regular file');
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new UnreadableFileError(`cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return { sha256: hash.digest(), size };
}
