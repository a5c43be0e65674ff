// Exports in bounded memory: GET /leads (every row) as CSV and as an Excel workbook, streamed, while the heap and
// resident set of this process (the api app runs in it) are sampled. A writer that held the rows or the file would
// grow by far more than the page it holds: 100 000 leads are ~100 MB as records and ~15 MB as CSV text.
import { memoryUsage } from 'node:process';

export interface ExportMeasure {
  format: 'csv' | 'xlsx';
  rows: number;
  bytes: number;
  seconds: number;
  /** Peak growth over the baseline while the export ran, MB. */
  heapMb: number;
  rssMb: number;
}

/** Peak growth (MB) allowed while exporting: a few pages, the zip's window and the HTTP buffers. */
export const EXPORT_MEMORY_BUDGET_MB = 64;

const mb = (bytes: number) => bytes / 1024 / 1024;

export async function measureExport(
  url: string,
  headers: Record<string, string>,
  format: 'csv' | 'xlsx',
): Promise<ExportMeasure> {
  global.gc?.();
  const base = memoryUsage();
  let peak = { heap: base.heapUsed, rss: base.rss };
  const sampler = setInterval(() => {
    const now = memoryUsage();
    peak = { heap: Math.max(peak.heap, now.heapUsed), rss: Math.max(peak.rss, now.rss) };
  }, 20);
  const started = performance.now();
  try {
    const response = await fetch(format === 'xlsx' ? `${url}?format=xlsx` : url, {
      headers: { ...headers, ...(format === 'csv' ? { accept: 'text/csv' } : {}) },
    });
    if (!response.ok || !response.body) throw new Error(`export ${format}: ${response.status}`);
    let bytes = 0;
    let lines = 0;
    // Counted as it arrives: the client keeps nothing, so what grows is the server's.
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.byteLength;
      if (format === 'csv') for (const byte of chunk) if (byte === 10) lines += 1;
    }
    return {
      format,
      rows: format === 'csv' ? lines - 1 : NaN,
      bytes,
      seconds: (performance.now() - started) / 1000,
      heapMb: mb(peak.heap - base.heapUsed),
      rssMb: mb(peak.rss - base.rss),
    };
  } finally {
    clearInterval(sampler);
  }
}

export function exportTable(measures: ExportMeasure[]): string {
  const lines = [
    '| export | rows | size | time | peak heap growth | peak RSS growth |',
    '| --- | --- | --- | --- | --- | --- |',
    ...measures.map(
      (m) =>
        `| GET /leads ${m.format === 'csv' ? 'Accept: text/csv' : '?format=xlsx'} | ${Number.isNaN(m.rows) ? '—' : m.rows.toLocaleString()} | ${mb(m.bytes).toFixed(1)} MB | ${m.seconds.toFixed(1)} s | ${m.heapMb.toFixed(1)} MB | ${m.rssMb.toFixed(1)} MB |`,
    ),
  ];
  return lines.join('\n');
}
