import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { serializedResult } from './shared-message.ts';
import { atTurnEnd, type TurnWriter } from './turn-end.ts';
import { textFrames } from './websocket-frames.ts';

/** Bytes a socket may have waiting before its sends are acknowledged only once written. */
const HIGH_WATER_BYTES = 1 << 20;

/**
 * A WebSocket whose messages cost one write system call per socket and event-loop turn, not one
 * per message, which a burst of changes multiplies. A socket's first message of a turn is written
 * at once; the rest of a burst waits for the turn's end and leaves together. (Holding the first
 * message too kept every socket of a fan-out waiting until all of them had been served: with
 * 1,000 subscribers of one change, the first client waited for the thousandth's execution.)
 */
export class BatchingWebSocket extends WebSocket implements TurnWriter {
  /** Whether this socket waits for the end of the current event-loop turn (atTurnEnd). */
  private waitsForTurnEnd = false;
  /** Whether this socket's first write of the turn has gone out. */
  private wroteThisTurn = false;
  /** holdWrites() calls not yet released: `next` messages wait for the last release. */
  private held = 0;
  private corked = false;
  /** Direct `next` messages of this turn, framed together when it ends (see sendResult). */
  private pending: string[] = [];
  private pendingLength = 0;
  /** Whether no extension was negotiated (known once open), so that messages may be framed here. */
  private framesOwn: boolean | undefined;

  override send(data: unknown, options?: unknown, callback?: (error?: Error) => void): void {
    // Messages keep their order: whatever was queued before this one leaves before it.
    this.writePending();
    this.batchWithinTurn();
    super.send(data as Buffer, options as object, callback);
  }

  /**
   * Sends a `next` message of the subscription whose messages start with `prefix`, with `result`'s
   * payload serialized once for every subscriber of that result. As `send` acknowledges: a promise
   * of the write when this socket already holds more than the high-water mark.
   *
   * Below the mark, the first message of an event-loop turn is written at once (while writes are
   * held, at their release, with the others held), and the later ones of the turn are framed into
   * one buffer and written once at its end: a reader's page of 500 changes was 1,000 writes (a
   * frame header and its text each) kept by the corked socket, each with its request object, then
   * one writev of them all; framed here it is one allocation and one write (websocket-frames.ts).
   */
  sendResult(prefix: string, result: object): undefined | false | Promise<void> {
    if (this.readyState !== WebSocket.OPEN) return false;
    const data = `${prefix}${serializedResult(result)}}`;
    // Queued text counts towards the mark as its length, a lower bound of its bytes.
    if (this.bufferedAmount + this.pendingLength < HIGH_WATER_BYTES) {
      this.framesOwn ??= this.extensions === '';
      if (!this.framesOwn) {
        // A negotiated extension (compression) frames its own messages: ws sends them.
        this.batchWithinTurn();
        super.send(data);
        return undefined;
      }
      this.startTurn();
      if (!this.wroteThisTurn && this.held === 0) {
        this.wroteThisTurn = true;
        this.writeFrames([data]);
        return undefined;
      }
      this.pending.push(data);
      this.pendingLength += data.length;
      return undefined;
    }
    this.writePending();
    this.batchWithinTurn();
    return new Promise((resolve) => super.send(data, () => resolve()));
  }

  /**
   * Holds this socket's `next` messages until releaseWrites(): a subscriber given a page of
   * several changes at once (a tick of several transactions) sends them in one write when its
   * page is done, instead of the first at once and the rest at the turn's end. Other sockets are
   * not held: each is written as soon as its own page is.
   */
  holdWrites(): void {
    this.held++;
  }

  releaseWrites(): void {
    if (--this.held > 0 || this.wroteThisTurn || this.pending.length === 0) return;
    this.wroteThisTurn = true;
    this.writePending();
  }

  // The closing frame follows every message accepted before it, as it did when each was written
  // at once.
  override close(code?: number, data?: string | Buffer): void {
    this.writePending();
    super.close(code, data);
  }

  private writePending(): void {
    if (this.pending.length === 0) return;
    const messages = this.pending;
    this.pending = [];
    this.pendingLength = 0;
    this.writeFrames(messages);
  }

  private writeFrames(messages: string[]): void {
    const socket = (this as unknown as { _socket?: Socket })._socket;
    // Closed meanwhile (terminated, or the peer's close already answered): ws would refuse them too.
    if (this.readyState !== WebSocket.OPEN || !socket || socket.destroyed) return;
    socket.write(textFrames(messages));
  }

  /** The first write of a turn goes out at once; later ones (through ws) are corked until its end. */
  private batchWithinTurn(): void {
    this.startTurn();
    if (!this.wroteThisTurn) {
      this.wroteThisTurn = true;
      return;
    }
    const socket = (this as unknown as { _socket?: Socket })._socket;
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
  }

  private startTurn(): void {
    if (this.waitsForTurnEnd) return;
    this.waitsForTurnEnd = true;
    atTurnEnd(this);
  }

  /** Called once the event-loop turn in which this socket was written to has ended. */
  turnEnded(): void {
    this.waitsForTurnEnd = false;
    this.wroteThisTurn = false;
    this.writePending();
    if (!this.corked) return;
    this.corked = false;
    (this as unknown as { _socket: Socket })._socket.uncork();
  }
}
