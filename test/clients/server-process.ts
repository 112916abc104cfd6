import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { waitFor } from '../helpers/wait.ts';

/** A free TCP port on 127.0.0.1, to start (and restart) a server on. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The service as `npm start` runs it (`node --import tsx src/main.ts`), in a process of its own,
 * so that it can be stopped with SIGTERM or killed with SIGKILL and started again on its port.
 */
export class ServerProcess {
  private child: ChildProcess | undefined;
  output = '';
  readonly url: string;

  constructor(private readonly options: { databaseUrl: string; port: number; env?: Record<string, string> }) {
    this.url = `http://127.0.0.1:${options.port}`;
  }

  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = { ...process.env, ...this.options.env };
    for (const name of ['DATA_DIR', 'CHANGE_RETENTION', 'NODE_ENV'])
      if (!this.options.env?.[name]) delete env[name];
    Object.assign(env, {
      DATABASE_URL: this.options.databaseUrl,
      PORT: String(this.options.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: 'pipe' });
    this.child = child;
    child.stdout?.on('data', (chunk) => {
      this.output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      this.output += chunk;
    });
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`the server exited: ${this.output}`);
        return (await fetch(`${this.url}/ready`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: `${this.url}/ready` },
    );
  }

  /** Sends `signal` and waits for the process to end. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(signal);
    await exited;
  }
}
