import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** How long an operation that arrives during start-up waits for it, by default. */
export const DEFAULT_STARTUP_HOLD_MS = 5_000;

export const STARTING_MESSAGE = 'the service is starting (its database is not reachable yet); retry shortly';

/**
 * The server listens before its database, migrations and change feed are up, so that /health,
 * /ready and /metrics answer during start-up. Operations that arrive meanwhile (every client
 * reconnects right after a restart) are held until the service is up, and answered
 * SERVICE_UNAVAILABLE if it is not up within `holdMs`: a database that stays down never makes
 * them wait forever (test/startup.test.ts).
 */
export class StartupGate {
  private isOpen = false;
  private release!: () => void;
  private readonly opened = new Promise<void>((resolve) => {
    this.release = resolve;
  });

  constructor(readonly holdMs = DEFAULT_STARTUP_HOLD_MS) {}

  get open(): boolean {
    return this.isOpen;
  }

  /** The service is up: held operations go on, and later ones are not held. */
  openNow(): void {
    this.isOpen = true;
    this.release();
  }

  /** The service stops before it was up: held operations are refused at once. */
  abandon(): void {
    this.release();
  }

  /** True once the service is up, at once or within `holdMs`; false if it is still starting. */
  async wait(): Promise<boolean> {
    if (this.isOpen) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.holdMs);
    });
    await Promise.race([this.opened, expired]);
    clearTimeout(timer);
    return this.isOpen;
  }
}

// `data: null` makes it a result on every transport: graphql-sse takes a value without `data` for
// execution arguments.
const refusal = () => ({
  data: null,
  errors: [
    createGraphQLError(STARTING_MESSAGE, {
      extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
    }),
  ],
});

/**
 * Holds every GraphQL operation, on every transport (HTTP, graphql-ws, both SSE protocols), at
 * the one place they all pass: execute and subscribe in Yoga's envelop.
 */
export function useStartupGate(gate: StartupGate): Plugin {
  return {
    async onExecute({ setResultAndStopExecution }) {
      if (!(await gate.wait())) setResultAndStopExecution(refusal());
    },
    async onSubscribe({ setResultAndStopExecution }) {
      if (!(await gate.wait())) setResultAndStopExecution(refusal() as never);
    },
  };
}
