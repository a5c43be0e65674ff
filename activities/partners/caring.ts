// Caring.com: senior-living referrals in leadrelay's referral format (docs/partners/caring.md).
import { referralAdapter } from './referral';

export const caring = referralAdapter('caring', 'moved_in');
