-- Up Migration

-- Referral fee terms per workspace and partner, used when the partner's integration config carries no
-- `referral_fee` of its own. flat: `amount` in `currency`; percent_of_monthly_rent: `amount` percent.
CREATE TABLE referral_fee_terms (
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  partner text NOT NULL,
  fee_type text NOT NULL CHECK (fee_type IN ('flat', 'percent_of_monthly_rent')),
  amount numeric(14, 2) NOT NULL CHECK (amount >= 0),
  currency text NOT NULL DEFAULT 'USD',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (workspace_id, partner)
);

-- A fee owed to the attributed referral partner for a placed (senior living) or leased (multifamily) lead:
-- one per lead journey, written in the same transaction as the history row that won it.
CREATE TABLE referral_fees (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
  lead_id uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
  journey integer NOT NULL,
  partner text NOT NULL,
  property_id text,
  won_status text NOT NULL CHECK (won_status IN ('placed', 'leased')),
  won_at timestamptz NOT NULL,
  -- Where the terms came from: the partner's integration config, referral_fee_terms, or none (amount unknown).
  terms_source text NOT NULL CHECK (terms_source IN ('integration', 'terms', 'none')),
  fee_type text CHECK (fee_type IN ('flat', 'percent_of_monthly_rent')),
  rate numeric(14, 2),
  monthly_rent numeric(14, 2),
  amount numeric(14, 2),
  currency text NOT NULL DEFAULT 'USD',
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'reported', 'invoiced', 'paid', 'disputed')),
  invoice_number text,
  notes text,
  reported_at timestamptz,
  invoiced_at timestamptz,
  paid_at timestamptz,
  disputed_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (lead_id, journey)
);
CREATE INDEX referral_fees_workspace_won ON referral_fees (workspace_id, won_at DESC, id DESC);
CREATE INDEX referral_fees_workspace_status ON referral_fees (workspace_id, partner, status);

-- Down Migration
DROP TABLE referral_fees;
DROP TABLE referral_fee_terms;
