// Reads the PanelInit a self-contained HTML report embeds, the way the panel reads it.
import assert from 'node:assert/strict';
import { REPORT_DATA_ELEMENT_ID, type PanelInit } from '../../src/protocol/panelMessages';

/** The report's embedded `<script type="application/json">` data, parsed. */
export function embeddedInit(html: string): PanelInit {
  const match = new RegExp(
    `<script type="application/json" id="${REPORT_DATA_ELEMENT_ID}">([^<]*)</script>`,
  ).exec(html);
  assert.ok(match?.[1] !== undefined, 'the report embeds its data');
  return JSON.parse(match[1]) as PanelInit;
}
