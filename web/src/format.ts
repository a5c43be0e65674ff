// How numbers, money, times and statuses read on screen.
// The vocabularies are the server's own lists (pure data), so a status added there shows here.
export { STATUSES } from '../../shared/lifecycle';
export { CONVERSION_TYPES } from '../../shared/conversions';

const ACRONYMS = /\b(api|crm|id|ids|pms|sms|uri|url|uuid)\b/gi;

/** `tour_scheduled` → `Tour scheduled`; `base_url` → `Base URL`. */
export function label(value: string | null | undefined): string {
  if (!value) return '—';
  const text = value
    .replace(/[_-]+/g, ' ')
    .replace(ACRONYMS, (word) => word.toUpperCase().replace(/S$/, 's'));
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** `1 conversion`, `2 conversions`. */
export const plural = (n: number, word: string) => `${count(n)} ${word}${n === 1 ? '' : 's'}`;

const integer = new Intl.NumberFormat('en-US');
export const count = (value: number | null | undefined) => (value == null ? '—' : integer.format(value));

export function percent(value: number | null | undefined, digits = 1): string {
  return value == null || !Number.isFinite(value) ? '—' : `${value.toFixed(digits)}%`;
}

export function money(value: number | null | undefined, currency = 'USD', compact = false): string {
  if (value == null) return '—';
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency',
      currency,
      maximumFractionDigits: compact || Math.abs(value) >= 1000 ? 0 : 2,
      notation: compact ? 'compact' : 'standard',
    }).format(value);
  } catch {
    return `${value.toFixed(2)} ${currency}`;
  }
}

export function dateTime(value: string | null | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  return Number.isNaN(date.getTime())
    ? value
    : date.toLocaleString('en-US', { dateStyle: 'medium', timeStyle: 'short' });
}

/** `2 min ago`, `in 3 h`; `now` is passed so a ticking clock can re-render it. */
export function relative(value: string | null | undefined, now = Date.now()): string {
  if (!value) return '—';
  const then = new Date(value).getTime();
  if (Number.isNaN(then)) return value;
  const seconds = Math.round((then - now) / 1000);
  const abs = Math.abs(seconds);
  const [amount, unit] =
    abs < 45
      ? [0, 'now']
      : abs < 3600
        ? [Math.round(abs / 60), 'min']
        : abs < 86_400
          ? [Math.round(abs / 3600), 'h']
          : [Math.round(abs / 86_400), abs < 172_800 ? 'day' : 'days'];
  if (unit === 'now') return 'just now';
  return seconds < 0 ? `${amount} ${unit} ago` : `in ${amount} ${unit}`;
}

export function duration(seconds: number | null | undefined): string {
  if (seconds == null) return '—';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

export const shortId = (id: string | null | undefined) => (id ? id.slice(0, 8) : '—');

/** Tone of a status for colour: won, lost, or on its way. */
export function statusTone(status: string | null | undefined): 'good' | 'bad' | 'warn' | 'info' {
  if (status === 'leased' || status === 'placed') return 'good';
  if (status === 'lost') return 'bad';
  if (status === 'new') return 'info';
  return 'warn';
}

/** YYYY-MM-DD of a Date in local time (date inputs speak this). */
export function isoDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

export function daysAgo(days: number): string {
  const date = new Date();
  date.setDate(date.getDate() - days);
  return isoDay(date);
}
