/**
 * Custom search attributes that let an operator find any run in the Temporal UI, e.g.
 * `CalbridgeUser = "ada@example.com" AND CalbridgeStatus = "needs_reauth"`.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CalbridgeUser = defineSearchAttributeKey('CalbridgeUser', SearchAttributeType.KEYWORD);
export const CalbridgeProvider = defineSearchAttributeKey('CalbridgeProvider', SearchAttributeType.KEYWORD);
export const CalbridgeStatus = defineSearchAttributeKey('CalbridgeStatus', SearchAttributeType.KEYWORD);

/** Name → type, as `temporal server start-dev --search-attribute` and `operator search-attribute create` take them. */
export const searchAttributeDefinitions = {
  CalbridgeUser: 'Keyword',
  CalbridgeProvider: 'Keyword',
  CalbridgeStatus: 'Keyword',
} as const;
