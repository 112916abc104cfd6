/**
 * Runs tasks one after another, in call order, each settling as it would alone. For a connection
 * that several parts share (the feed's: the ticker's polls and the health check): pg 8 queues a
 * query sent while another runs, but deprecates it and pg 9 refuses it.
 */
export class OneAtATime {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => {});
    return result;
  }
}
