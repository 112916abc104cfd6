/**
 * One number per place in the binary log, increasing in log order across files: the file's
 * sequence number (the digits after the last dot of its name) times 2^32, plus the offset in it.
 * Offsets stay below 4 GiB (max_binlog_size is at most 1 GiB), and 2^21 files fit in a safe
 * integer.
 */
export function binlogPosition(file: string, offset: number): number {
  const index = Number(/\.(\d+)$/.exec(file)?.[1] ?? Number.NaN);
  if (!Number.isSafeInteger(index)) throw new Error(`not a binary log file name: ${file}`);
  return index * 2 ** 32 + offset;
}
