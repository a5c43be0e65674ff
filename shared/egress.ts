// Where requests made on a workspace's behalf may go: only public unicast addresses, plus the operator's
// exceptions (LEADRELAY_EGRESS_ALLOW). Pure classification; the connection-time guard is activities/egress.ts.
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { AppError } from './errors';

type Address = ipaddr.IPv4 | ipaddr.IPv6;

export interface EgressPolicy {
  /** CIDR ranges the operator allows although they are not public (an internal partner, the local stack). */
  cidrs: [Address, number][];
  /** Host names the operator allows whatever they resolve to (lower case, exact). */
  hosts: Set<string>;
}

/** What the local stack (npm start, --demo, the tests) allows unless its environment says otherwise. */
export const LOCAL_EGRESS_ALLOW = '127.0.0.0/8,::1/128,localhost';

/** Parses LEADRELAY_EGRESS_ALLOW: comma-separated CIDRs (or single addresses) and host names. */
export function parseEgressAllow(raw: string | undefined): EgressPolicy {
  const policy: EgressPolicy = { cidrs: [], hosts: new Set() };
  for (const entry of (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    if (isIP(entry)) {
      const address = ipaddr.parse(entry);
      policy.cidrs.push([address, address.kind() === 'ipv4' ? 32 : 128]);
    } else if (/^[a-z0-9.-]+$/i.test(entry)) {
      policy.hosts.add(entry.toLowerCase());
    } else {
      try {
        policy.cidrs.push(ipaddr.parseCIDR(entry));
      } catch {
        throw new Error(`LEADRELAY_EGRESS_ALLOW: "${entry}" is neither a CIDR, an address nor a host name`);
      }
    }
  }
  return policy;
}

/** The address in its plainest form: IPv4-mapped and similar IPv6 spellings of an IPv4 address become IPv4. */
function plain(address: string): Address {
  const parsed = ipaddr.parse(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return (parsed as ipaddr.IPv6).toIPv4Address();
  }
  return parsed;
}

/**
 * Why a connection to this IP address is refused (the range's name: loopback, private, linkLocal,
 * carrierGradeNat, unspecified, multicast, reserved, uniqueLocal, …), or null when it may be connected to.
 * Only ranges ipaddr.js calls `unicast` (public) pass, unless the policy allows the address.
 */
export function egressRefusal(address: string, policy: EgressPolicy): string | null {
  let parsed: Address;
  try {
    parsed = plain(address);
  } catch {
    return 'not an IP address';
  }
  const allowed = policy.cidrs.some(
    ([range, bits]) => range.kind() === parsed.kind() && parsed.match(range as never, bits),
  );
  if (allowed) return null;
  const range = parsed.range();
  return range === 'unicast' ? null : range;
}

export function hostAllowed(hostname: string, policy: EgressPolicy): boolean {
  return policy.hosts.has(hostname.toLowerCase().replace(/\.$/, ''));
}

/**
 * Why a URL may not be configured, or null. Decided on what the URL says: an IP literal in any spelling (the
 * URL parser turns decimal, hex and short IPv4 forms into dotted quads) and names that are loopback by
 * definition (localhost). Other names are judged on the addresses they resolve to when connected to.
 */
export function urlRefusal(value: string, policy: EgressPolicy): string | null {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null; // Not a URL: the field's own schema says so.
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (hostAllowed(host, policy)) return null;
  if (isIP(host)) {
    const range = egressRefusal(host, policy);
    return range && `${host} is a ${range} address`;
  }
  if (/(^|\.)localhost\.?$/i.test(host)) return `${host} is a loopback name`;
  return null;
}

/** The policy of this process: LEADRELAY_EGRESS_ALLOW, parsed once per value it takes. */
let cached: { raw: string | undefined; policy: EgressPolicy } | undefined;
export function processEgressPolicy(): EgressPolicy {
  const raw = process.env.LEADRELAY_EGRESS_ALLOW;
  if (!cached || cached.raw !== raw) cached = { raw, policy: parseEgressAllow(raw) };
  return cached.policy;
}

/** Throws 422 `egress_refused` naming the field when a configured URL points where requests may not go. */
export function requireEgressUrl(
  field: string,
  value: unknown,
  policy: EgressPolicy = processEgressPolicy(),
): void {
  if (typeof value !== 'string') return;
  const reason = urlRefusal(value, policy);
  if (!reason) return;
  throw new AppError('egress_refused', `${field} is not allowed: ${reason}`, {
    field,
    fields: [{ field, message: `${reason}; LEADRELAY_EGRESS_ALLOW lists the exceptions` }],
  });
}
