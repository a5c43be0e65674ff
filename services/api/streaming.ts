// What the table writers (CSV, Excel) share: a table read page by page, and waiting for the client to take
// what was written before more is read (backpressure keeps an export's memory to one page).
import type { Response } from 'express';

/** A table read page by page (lists: every row the filters match). */
export interface TableStream {
  name: string;
  columns: string[];
  pages: AsyncIterable<Record<string, unknown>[]>;
}

/** Resolves once the client has taken what was written, or the connection is gone (then false). */
export async function drained(res: Response): Promise<boolean> {
  if (res.destroyed) return false;
  if (!res.writableNeedDrain) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
  return !res.destroyed;
}
