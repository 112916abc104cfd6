/**
 * How long a new connection may take to be made: a server that is down refuses at once
 * (ECONNREFUSED), but one behind a dropped network never answers. Not shorter: on a busy machine
 * a new session (a backend forked, authenticated, its settings applied) took over 2 s, and the
 * request that needed it failed with SERVICE_UNAVAILABLE while the database was up. A dropped
 * network is noticed sooner by the gate's probe (connection-gate.ts), which then refuses at once.
 */
export const CONNECT_TIMEOUT_MS = 5_000;
