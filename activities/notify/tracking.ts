// Open and click tracking of sequence email: a pixel URL and signed redirect URLs per message. The token names the
// delivery and, for a click, the very URL the template held, signed with the key ring: a token cannot be pointed
// at another address (no open redirect) nor at another message.
import type { KeyRing } from '../../shared/crypto';

const PURPOSE = 'email-tracking';

export interface TrackingClaim {
  /** The notification delivery's id. */
  deliveryId: string;
  /** The link's destination (clicks); absent for the open pixel. */
  url?: string;
}

export function trackingToken(keyRing: KeyRing, claim: TrackingClaim): string {
  const payload = Buffer.from(
    JSON.stringify({ d: claim.deliveryId, ...(claim.url ? { u: claim.url } : {}) }),
  ).toString('base64url');
  return `${payload}.${keyRing.sign(PURPOSE, payload)}`;
}

/** The claim a token carries, or undefined when it is malformed, altered or not ours. */
export function readTrackingToken(keyRing: KeyRing, token: string): TrackingClaim | undefined {
  const [payload, keyId, mac, extra] = token.split('.');
  if (!payload || !keyId || !mac || extra !== undefined) return undefined;
  if (!keyRing.verify(PURPOSE, payload, `${keyId}.${mac}`)) return undefined;
  try {
    const { d, u } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { d?: unknown; u?: unknown };
    if (typeof d !== 'string') return undefined;
    if (u === undefined) return { deliveryId: d };
    return typeof u === 'string' && isWebUrl(u) ? { deliveryId: d, url: u } : undefined;
  } catch {
    return undefined;
  }
}

/** Only http(s) destinations are ever tracked or redirected to. */
export function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:';
  } catch {
    return false;
  }
}

// A URL in plain text, without the punctuation that usually ends a sentence after it.
const URL_PATTERN = /https?:\/\/[^\s<>"'()[\]]+[^\s<>"'()[\].,;:!?]/g;

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/**
 * The message with every link going through its signed redirect, as text and as HTML with the open pixel. The
 * unsubscribe link is added by the caller and never tracked.
 */
export function trackedMessage(
  text: string,
  options: { apiUrl: string; keyRing: KeyRing; deliveryId: string; unsubscribeUrl?: string },
): { text: string; html: string } {
  const redirect = (url: string) =>
    `${options.apiUrl}/t/c/${trackingToken(options.keyRing, { deliveryId: options.deliveryId, url })}`;
  const trackedText = text.replace(URL_PATTERN, (url) => (isWebUrl(url) ? redirect(url) : url));
  let htmlBody = '';
  let from = 0;
  for (const found of text.matchAll(URL_PATTERN)) {
    const url = found[0];
    htmlBody += escapeHtml(text.slice(from, found.index));
    htmlBody += isWebUrl(url)
      ? `<a href="${escapeHtml(redirect(url))}">${escapeHtml(url)}</a>`
      : escapeHtml(url);
    from = found.index + url.length;
  }
  htmlBody = (htmlBody + escapeHtml(text.slice(from))).replace(/\n/g, '<br>\n');
  const pixel = `${options.apiUrl}/t/o/${trackingToken(options.keyRing, { deliveryId: options.deliveryId })}.gif`;
  const unsubscribe = options.unsubscribeUrl
    ? `<p style="font-size:12px;color:#666"><a href="${escapeHtml(options.unsubscribeUrl)}">Unsubscribe</a></p>`
    : '';
  const html = `<!doctype html><html><body><div>${htmlBody}</div>${unsubscribe}<img src="${escapeHtml(pixel)}" width="1" height="1" alt="" style="border:0"></body></html>`;
  return { text: trackedText, html };
}
