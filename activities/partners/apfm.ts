// A Place for Mom: senior-living referrals in leadrelay's referral format (docs/partners/apfm.md).
import { referralAdapter } from './referral';

export const apfm = referralAdapter('apfm', 'move_in');
