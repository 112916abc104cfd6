import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { serializedResult } from './shared-message.ts';
import { type BatchWriter, TurnBatcher } from './turn-end.ts';
import { textFrames } from './websocket-frames.ts';

/** Bytes a socket may have waiting before its sends are acknowledged only once written. */
const HIGH_WATER_BYTES = 1 << 20;

// Queued text counts towards the mark as its length, a lower bound of its bytes.
const textLength = (message: string) => message.length;

/**
 * A WebSocket whose messages cost one write system call per socket and event-loop turn, not one
 * per message, which a burst of changes multiplies. A socket's first message of a turn is written
 * at once; the rest of a burst waits for the turn's end and leaves together. (Holding the first
 * message too kept every socket of a fan-out waiting until all of them had been served: with
 * 1,000 subscribers of one change, the first client waited for the thousandth's execution.)
 */
export class BatchingWebSocket extends WebSocket implements BatchWriter<string> {
  /** Direct `next` messages, framed together when written (see sendResult). */
  private readonly writes = new TurnBatcher<string>(this, textLength);
  private corked = false;
  /** Whether no extension was negotiated (known once open), so that messages may be framed here. */
  private framesOwn: boolean | undefined;

  override send(data: unknown, options?: unknown, callback?: (error?: Error) => void): void {
    // Messages keep their order: whatever was queued before this one leaves before it.
    this.writes.flush();
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
    if (this.bufferedAmount + this.writes.pendingSize < HIGH_WATER_BYTES) {
      this.framesOwn ??= this.extensions === '';
      if (!this.framesOwn) {
        // A negotiated extension (compression) frames its own messages: ws sends them.
        this.batchWithinTurn();
        super.send(data);
        return undefined;
      }
      this.writes.add(data);
      return undefined;
    }
    this.writes.flush();
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
    this.writes.hold();
  }

  releaseWrites(): void {
    this.writes.release();
  }

  // The closing frame follows every message accepted before it, as it did when each was written
  // at once.
  override close(code?: number, data?: string | Buffer): void {
    this.writes.flush();
    super.close(code, data);
  }

  /** The batcher's write: `messages` framed here, in one write. */
  writeBatch(messages: string[]): void {
    const socket = (this as unknown as { _socket?: Socket })._socket;
    // Closed meanwhile (terminated, or the peer's close already answered): ws would refuse them too.
    if (this.readyState !== WebSocket.OPEN || !socket || socket.destroyed) return;
    socket.write(textFrames(messages));
  }

  /** The first write of a turn goes out at once; later ones (through ws) are corked until its end. */
  private batchWithinTurn(): void {
    if (this.writes.firstWrite()) return;
    const socket = (this as unknown as { _socket?: Socket })._socket;
    if (this.corked || !socket || socket.destroyed) return;
    this.corked = true;
    socket.cork();
  }

  /** The batcher's turn end, once its queued messages are written into the corked socket. */
  turnWritten(): void {
    if (!this.corked) return;
    this.corked = false;
    (this as unknown as { _socket: Socket })._socket.uncork();
  }
}
