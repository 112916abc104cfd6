/** One shape for a pg or mysql2 connection or pool, so the scenarios write their SQL once. */
import mysql from 'mysql2/promise';
import pg from 'pg';
import { mysqlOptions } from '../../src/db/mysql.ts';

export interface Session {
  /** `text` with PostgreSQL's $1, $2 … for `params` (MySQL's ? on mysql2); rows read, rows changed. */
  query(text: string, params?: unknown[]): Promise<{ rows: Record<string, any>[]; affected: number }>;
  end(): Promise<void>;
}

export function pgSession(client: pg.Client | pg.Pool): Session {
  return {
    query: async (text, params) => {
      const result = await client.query(text, params);
      return { rows: result.rows, affected: result.rowCount ?? 0 };
    },
    end: () => client.end(),
  };
}

export async function connectPg(url: string): Promise<Session> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return pgSession(client);
}

export function mysqlSession(connection: mysql.Connection | mysql.Pool): Session {
  return {
    query: async (text, params) => {
      const [result] = await connection.query(params ? text.replace(/\$\d+/g, '?') : text, params);
      return Array.isArray(result)
        ? { rows: result as Record<string, any>[], affected: 0 }
        : { rows: [], affected: (result as mysql.ResultSetHeader).affectedRows };
    },
    end: () => connection.end(),
  };
}

export async function connectMysql(url: string): Promise<Session> {
  const connection = await mysql.createConnection(mysqlOptions(url));
  connection.on('error', () => {});
  return mysqlSession(connection);
}
