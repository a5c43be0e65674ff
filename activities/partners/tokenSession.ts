// OAuth access tokens for one activity call's conversation with a partner (Salesforce, GoHighLevel): got when
// there is none, replaced at most once after the partner rejects one with a 401, every new set handed on.
import type { PartnerName } from '../../shared/lifecycle';
import { PartnerError } from './http';

export interface TokenSet {
  accessToken: string;
  /** Partners that rotate refresh tokens (GoHighLevel) answer a new one with every access token. */
  refreshToken?: string;
}

export interface TokenGrant {
  /** The token to start with: one given in credentials, or the newest this process got earlier. */
  accessToken?: string;
  /** Gets a new token set; absent when the credentials hold only an access token. */
  refresh?: () => Promise<TokenSet>;
  /**
   * Every new token set, before it is used: where rotated refresh tokens are kept (GoHighLevel's, in process
   * memory today; persisting them, sealed, belongs here too).
   */
  onRefreshed?: (tokens: TokenSet) => void | Promise<void>;
}

export class TokenSession {
  private token: string | undefined;
  private replaced = false;

  /** Throws a final `credentials_missing` error (worded by `missing`) when there is no token and no way to one. */
  constructor(
    partner: PartnerName,
    private readonly grant: TokenGrant,
    missing: string,
  ) {
    this.token = grant.accessToken;
    if (!this.token && !grant.refresh) {
      throw new PartnerError(partner, 'final', missing, { partnerCode: 'credentials_missing' });
    }
  }

  /** Runs `send` with the token; a 401 (a PartnerError) gets one new token for the session and one more try. */
  async call<T>(send: (token: string) => Promise<T>): Promise<T> {
    const token = this.token ?? (await this.renew());
    try {
      return await send(token);
    } catch (error) {
      if (!(error instanceof PartnerError) || error.status !== 401 || this.replaced || !this.grant.refresh) {
        throw error;
      }
      this.replaced = true;
      return send(await this.renew());
    }
  }

  private async renew(): Promise<string> {
    // The constructor made sure there is a refresh whenever there is no token.
    const tokens = await this.grant.refresh!();
    await this.grant.onRefreshed?.(tokens);
    this.token = tokens.accessToken;
    return tokens.accessToken;
  }
}
