/**
 * One big statement delivered to one subscriber: an UPDATE of 20,000 rows on a used session
 * (against the same UPDATE on a bare table) and an INSERT of 100,000 rows end to end.
 */
import type { Scenario } from '../dialect.ts';
import { summary } from '../measure.ts';
import type { Row } from '../results.ts';
import { statement } from '../streams.ts';

export const bulk: Scenario = async ({ dialect, floor, service, wanted, repeat }) => {
  if (!wanted('bulk')) return [];
  const { sql } = dialect;
  const n = 20_000;
  for (const table of ['orders', 'bare_orders', 'floor_orders'])
    await sql.query(
      `INSERT INTO ${table} (customer_name, product_name) SELECT 'bulk', 'item' FROM ${dialect.series(n)}`,
    );
  const update = async (table: string, run: number) => {
    const { text, firstId } = await dialect.bulkUpdate(table, n, run);
    // A used session: two 1-row UPDATEs first, as any pooled connection has done.
    const session = await dialect.connect();
    await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${firstId}`);
    await session.query(`UPDATE ${table} SET product_name = 'w' WHERE id = ${firstId}`);
    return { session, text };
  };
  console.log(`${dialect.say}UPDATE of ${n} rows on a used session`);
  const runs = await repeat('bulk update', async (run) => {
    const bare = await update('bare_orders', run);
    const t0 = performance.now();
    await bare.session.query(bare.text);
    const bareMs = performance.now() - t0;
    await bare.session.end();
    const f = await update('floor_orders', run);
    const floorResult = await statement('floor', floor, f.session, f.text, n, 'UPDATE');
    await f.session.end();
    const s = await update('orders', run);
    const serviceResult = await statement('graphql-ws', service, s.session, s.text, n, 'UPDATE');
    await s.session.end();
    return { bareMs, floor: floorResult, service: serviceResult };
  });
  const ms = (pick: (r: (typeof runs)[0]) => number) => summary(runs.map(pick), 0);
  const bare = ms((r) => r.bareMs);
  const captured = ms((r) => r.service.statementMs);
  return [
    {
      measure: `UPDATE of ${n.toLocaleString('en-US')} rows on a used session: statement (ms); bare table ${bare.text}`,
      floor: ms((r) => r.floor.statementMs).text,
      service: captured.text,
      target: '≤ 2 × bare + 100 ms',
      met: captured.median <= 2 * bare.median + 100,
    },
    {
      measure: `same, all delivered to one subscriber, from the statement's start (ms)`,
      floor: ms((r) => r.floor.deliveredMs).text,
      service: ms((r) => r.service.deliveredMs).text,
    },
  ];
};

export const endToEnd: Scenario = async ({ dialect, floor, service, wanted, repeat }) => {
  if (!wanted('e2e')) return [];
  const n = 100_000;
  console.log(`${dialect.say}INSERT of ${n} rows, delivered end to end`);
  const runs = await repeat('100k rows', async (run) => {
    const text = (table: string) =>
      `INSERT INTO ${table} (customer_name, product_name) SELECT 'e2e-${run}', 'item' FROM ${dialect.series(n)}`;
    const floorResult = await statement('floor', floor, dialect.sql, text('floor_orders'), n, 'INSERT');
    const serviceResult = await statement('graphql-ws', service, dialect.sql, text('orders'), n, 'INSERT');
    return { floor: floorResult, service: serviceResult };
  });
  const ms = (pick: (r: (typeof runs)[0]) => number) => summary(runs.map(pick), 0);
  const delivered = ms((r) => r.service.deliveredMs);
  const rows: Row[] = [
    {
      measure: '100,000 rows in one INSERT, delivered to one subscriber (ms)',
      floor: ms((r) => r.floor.deliveredMs).text,
      service: delivered.text,
      target: '< 3,000 ms',
      met: delivered.median < 3000,
    },
  ];
  if (dialect.reportsInsertStatement)
    rows.push({
      measure: 'same, the INSERT statement itself (ms)',
      floor: ms((r) => r.floor.statementMs).text,
      service: ms((r) => r.service.statementMs).text,
    });
  return rows;
};
