// A toolkit select (vscode-single-select, as the Analysis panel's) whose options follow the
// summary: checkpoints and settings appear while a run streams in, so options are rebuilt only
// when they change, which keeps focus, an open dropdown's place and the shown value.
import { el } from './domBuilder';
import { uniqueId } from './formControls';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';

/** One option. */
export interface SelectOption {
  value: string;
  label: string;
}

/** A labelled select; `set` updates its options and shown value without firing `onChange`. */
export interface DynamicSelect {
  element: HTMLElement;
  select: VscodeSingleSelect;
  set(options: readonly SelectOption[], value: string | null): void;
}

/** Builds the select; `onChange` receives the picked value. */
export function dynamicSelect(
  label: string,
  testId: string,
  onChange: (value: string) => void,
): DynamicSelect {
  const id = uniqueId('dynamic-select');
  const select = el('vscode-single-select', {
    id,
    label,
    'aria-label': label,
    'data-testid': testId,
  });
  let shown = '';
  select.addEventListener('change', () => onChange(select.value));
  return {
    element: el('div', { class: 'field' }, el('label', { for: id }, label), select),
    select,
    set(options, value) {
      const wanted = value ?? '';
      const key = JSON.stringify(options);
      if (key !== shown) {
        shown = key;
        // The select reads its options when the slot changes (after this task), from each
        // option's `selected`: marking the wanted one keeps the value across the rebuild.
        select.replaceChildren(
          ...options.map((o) =>
            el('vscode-option', { value: o.value, selected: o.value === wanted }, o.label),
          ),
        );
      }
      // Setting `value` fires no `change`; before the slot change it is applied when it comes.
      if (select.value !== wanted) select.value = wanted;
    },
  };
}
