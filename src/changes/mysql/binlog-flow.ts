/** What zongji's binary-log connection (a mysql2 Connection) offers to stop and restart reading. */
interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Holds the binary-log stream while the capture is behind. zongji pauses the same connection
 * itself while it fetches a table's columns and resumes it afterwards; two independent callers
 * of pause/resume would undo each other (our resume would let row events through before their
 * table is known, zongji's would end our hold). So the connection reads again only when neither
 * holds it. mysql2's pause stops the socket and queues the packets already read (at most one
 * socket chunk), so a held stream keeps memory flat; the server waits, up to its
 * net_write_timeout, after which the capture reconnects from its recorded position.
 */
export function holdableFlow(connection: Pausable): {
  hold(): void;
  release(): void;
  readonly held: boolean;
} {
  const pause = connection.pause.bind(connection);
  const resume = connection.resume.bind(connection);
  let pausedByZongji = false;
  let held = false;
  connection.pause = () => {
    pausedByZongji = true;
    pause();
  };
  connection.resume = () => {
    pausedByZongji = false;
    if (!held) resume();
  };
  return {
    hold() {
      if (held) return;
      held = true;
      pause();
    },
    release() {
      if (!held) return;
      held = false;
      if (!pausedByZongji) resume();
    },
    get held() {
      return held;
    },
  };
}
