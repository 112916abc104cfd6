import type { CommittedChange } from '../changes/harness.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A row a tagged attempt wrote, as the database has it now. */
export interface TaggedRow {
  id: string;
  version: number;
  customer_name: string;
  /** The attempt's tag. */
  product_name: string;
}

/**
 * Runs `attempt` (one transaction, tagged) until it commits. After a failure, every tag tried so
 * far is looked up before anything is run again, and the lookup waits for the database to answer:
 * a COMMIT whose answer was lost may have gone through, and a lookup that could not be asked is
 * no evidence that it did not (a retry would then add a second transaction the writer never saw).
 */
export async function untilCommitted(
  attempt: (tag: string) => Promise<CommittedChange[]>,
  rowsTagged: (tags: string[]) => Promise<TaggedRow[]>,
  deadlineMs = 120_000,
): Promise<CommittedChange[]> {
  const deadline = Date.now() + deadlineMs;
  const tags: string[] = [];
  for (let n = 1; ; n++) {
    const tag = `t${Date.now()}-${n}`;
    tags.push(tag);
    try {
      return await attempt(tag);
    } catch (error) {
      const rows = await answered(() => rowsTagged(tags), deadline, error);
      if (rows.length > 0) {
        return rows.map((r) => ({
          op: r.customer_name === 'long' ? 'INSERT' : 'UPDATE',
          id: String(r.id),
          version: Number(r.version),
          tx: `${r.product_name} (commit unanswered)`,
        }));
      }
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

async function answered<T>(ask: () => Promise<T>, deadline: number, cause: unknown): Promise<T> {
  for (;;) {
    try {
      return await ask();
    } catch {
      if (Date.now() > deadline) throw cause;
      await sleep(500);
    }
  }
}
