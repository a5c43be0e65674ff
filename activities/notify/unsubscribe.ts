// Signed one-click unsubscribe links for prospect email (RFC 8058): the token names the workspace and the
// lead and is signed with the encryption key ring, so it cannot be forged or pointed at another lead.
import type { KeyRing } from '../../shared/crypto';

const PURPOSE = 'unsubscribe';

export function unsubscribeToken(keyRing: KeyRing, workspaceId: string, leadId: string): string {
  const payload = Buffer.from(JSON.stringify({ w: workspaceId, l: leadId })).toString('base64url');
  return `${payload}.${keyRing.sign(PURPOSE, payload)}`;
}

/** The lead a token names, or undefined for a token that is malformed or not ours. */
export function readUnsubscribeToken(
  keyRing: KeyRing,
  token: string,
): { workspaceId: string; leadId: string } | undefined {
  const [payload, keyId, mac, extra] = token.split('.');
  if (
    !payload ||
    !keyId ||
    !mac ||
    extra !== undefined ||
    !keyRing.verify(PURPOSE, payload, `${keyId}.${mac}`)
  ) {
    return undefined;
  }
  try {
    const { w, l } = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { w?: unknown; l?: unknown };
    return typeof w === 'string' && typeof l === 'string' ? { workspaceId: w, leadId: l } : undefined;
  } catch {
    return undefined;
  }
}
