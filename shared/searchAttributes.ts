// Search attributes operators filter journeys by. Never personal data: they are stored unencrypted.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const LeadStatusAttribute = defineSearchAttributeKey('LeadStatus', SearchAttributeType.KEYWORD);
export const LeadSourceAttribute = defineSearchAttributeKey('LeadSource', SearchAttributeType.KEYWORD);
export const WorkspaceIdAttribute = defineSearchAttributeKey('WorkspaceId', SearchAttributeType.KEYWORD);
export const PropertyIdAttribute = defineSearchAttributeKey('PropertyId', SearchAttributeType.KEYWORD);
export const NextFollowUpAtAttribute = defineSearchAttributeKey(
  'NextFollowUpAt',
  SearchAttributeType.DATETIME,
);

export const SEARCH_ATTRIBUTES = [
  LeadStatusAttribute,
  LeadSourceAttribute,
  WorkspaceIdAttribute,
  PropertyIdAttribute,
  NextFollowUpAtAttribute,
] as const;

const CLI_TYPE_NAMES: Partial<Record<SearchAttributeType, string>> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.DATETIME]: 'Datetime',
};

/** `--search-attribute Name=Type` flags for `temporal server start-dev`. */
export function searchAttributeFlags(): string[] {
  return SEARCH_ATTRIBUTES.flatMap((key) => [
    '--search-attribute',
    `${key.name}=${CLI_TYPE_NAMES[key.type]}`,
  ]);
}
