// Where an integration's credentials are sent, read from its config: the one definition the api's move check
// (usecases/integrations.ts) and the sealing of credentials (data/integrations.ts) share, so they cannot drift.

/** The config fields that decide where credentials are sent (base_url, token_url, …): every http(s) URL, by name. */
export function destinationFields(config: Record<string, unknown>): Map<string, string> {
  return new Map(
    Object.entries(config)
      .filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string' && /^https?:/i.test(entry[1]),
      )
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

/**
 * The destination credentials are sealed for: each URL field's origin (scheme, host, port), e.g.
 * `base_url=https://acme.my.salesforce.com`. A path is not part of it: the same server gets the credentials.
 * Empty when the config names no URL: the partner's fixed public address (the adapter's default) is used.
 * Salesforce's `instance_url` comes from the token answer of `base_url`, so `base_url` is what binds.
 */
export function credentialDestination(config: Record<string, unknown>): string {
  return [...destinationFields(config)].map(([field, url]) => `${field}=${originOf(url)}`).join(' ');
}

/** A destination as staff read it in an error. */
export function describeDestination(destination: string): string {
  return destination === '' ? "the partner's default address" : destination;
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
