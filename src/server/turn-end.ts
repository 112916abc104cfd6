/**
 * One callback at the end of the event-loop turn for everything written to in it, instead of a
 * setImmediate per socket or stream: transports write a turn's first message at once and hold the
 * rest of a burst until the turn ends (src/server/batching-websocket.ts, sse-delivery.ts).
 */
export interface TurnWriter {
  turnEnded(): void;
}

let writtenThisTurn: TurnWriter[] = [];

/** `writer.turnEnded()` is called once the current turn has ended. */
export function atTurnEnd(writer: TurnWriter): void {
  if (writtenThisTurn.length === 0) setImmediate(endTurn);
  writtenThisTurn.push(writer);
}

function endTurn(): void {
  const writers = writtenThisTurn;
  writtenThisTurn = [];
  for (const writer of writers) writer.turnEnded();
}
