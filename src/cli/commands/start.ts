import { flags } from '../args.ts';
import { EXIT, print } from '../io.ts';
import type { Command } from '../command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'run the web server and the mail worker (development: migrates and creates a demo citizen)',
  usage: 'sesame start',
  async run(args, io) {
    flags(args, {});
    // Loaded on demand: other commands should not pay for the web stack.
    const { startServer } = await import('../../server.ts');
    const server = await startServer({ env: io.env, cwd: io.cwd, stdout: io.stdout });
    print(io.stdout, `Sésame is listening on ${server.url}`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        void server.close().then(resolve);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    return EXIT.ok;
  },
};
