// A native select whose options follow the summary: checkpoints and settings appear while a run
// streams in, so options are rebuilt only when they change (keeping focus and the shown value).
import { el } from './domBuilder';
import { uniqueId } from './formControls';

/** One option. */
export interface SelectOption {
  value: string;
  label: string;
}

/** A labelled select; `set` updates its options and shown value without firing `onChange`. */
export interface DynamicSelect {
  element: HTMLElement;
  set(options: readonly SelectOption[], value: string | null): void;
}

/** Builds the select; `onChange` receives the picked value. */
export function dynamicSelect(
  label: string,
  testId: string,
  onChange: (value: string) => void,
): DynamicSelect {
  const id = uniqueId('dynamic-select');
  const select = el('select', { id, 'data-testid': testId });
  let shown = '';
  select.addEventListener('change', () => onChange(select.value));
  return {
    element: el('div', { class: 'field' }, el('label', { for: id }, label), select),
    set(options, value) {
      const key = JSON.stringify(options);
      if (key !== shown) {
        shown = key;
        select.replaceChildren(...options.map((o) => el('option', { value: o.value }, o.label)));
      }
      select.value = value ?? '';
    },
  };
}
