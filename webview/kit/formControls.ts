// Labelled form controls: selects and checkboxes from @vscode-elements, and native range sliders
// (styled from --vscode-* variables in the stylesheet) with a number box for exact values.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import { el, type Attributes } from './domBuilder';

let nextId = 0;
/** A document-unique id for label/control pairs. */
export function uniqueId(prefix: string): string {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/** A labelled single-select; `set` changes the shown value without firing `onChange`. */
export interface SelectControl {
  element: HTMLElement;
  select: VscodeSingleSelect;
  set(value: string): void;
}

/** A select with a visible label. */
export function selectControl(
  label: string,
  options: readonly { value: string; label: string }[],
  onChange: (value: string) => void,
  attributes: Attributes = {},
): SelectControl {
  const id = uniqueId('select');
  const select = el('vscode-single-select', {
    id,
    'aria-label': label,
    ...attributes,
  });
  for (const o of options) select.append(el('vscode-option', { value: o.value }, o.label));
  select.addEventListener('change', () => onChange(select.value));
  const element = el('div', { class: 'field' }, el('label', { for: id }, label), select);
  return {
    element,
    select,
    set(value) {
      if (select.value !== value) select.value = value;
    },
  };
}

/** A labelled checkbox. */
export interface CheckboxControl {
  element: VscodeCheckbox;
  set(checked: boolean): void;
}

/** A checkbox with its label. */
export function checkboxControl(
  label: string,
  onChange: (checked: boolean) => void,
  attributes: Attributes = {},
): CheckboxControl {
  const box = el('vscode-checkbox', {
    label,
    'aria-label': label,
    ...attributes,
  });
  box.addEventListener('change', () => onChange(box.checked));
  return {
    element: box,
    set(checked) {
      if (box.checked !== checked) box.checked = checked;
    },
  };
}

/** A native range slider with a number box, both labelled. */
export interface SliderControl {
  element: HTMLElement;
  input: HTMLInputElement;
  number: HTMLInputElement;
  /** Sets range, step and value without firing `onInput`. */
  set(options: { min: number; max: number; step: number; value: number; text: string }): void;
  setDisabled(disabled: boolean): void;
}

/** A slider (`input` events) with a number box for typing an exact value (`change` events). */
export function sliderControl(
  label: string,
  onInput: (sliderValue: number) => void,
  onNumber: (typedValue: number) => void,
  attributes: Attributes = {},
): SliderControl {
  const id = uniqueId('slider');
  const input = el('input', { id, type: 'range', ...attributes });
  const number = el('input', {
    type: 'number',
    class: 'slider-number',
    'aria-label': `${label} (exact value)`,
  });
  input.addEventListener('input', () => onInput(Number(input.value)));
  number.addEventListener('change', () => {
    const v = Number(number.value);
    if (number.value !== '' && Number.isFinite(v)) onNumber(v);
  });
  const element = el(
    'div',
    { class: 'field slider' },
    el('label', { for: id }, label),
    input,
    number,
  );
  return {
    element,
    input,
    number,
    set({ min, max, step, value, text }) {
      input.min = String(min);
      input.max = String(max);
      input.step = String(step);
      // Only write when different: writing resets the caret of a slider being dragged.
      if (Number(input.value) !== value) input.value = String(value);
      input.setAttribute('aria-valuetext', text);
      if (document.activeElement !== number) number.value = text;
    },
    setDisabled(disabled) {
      input.disabled = disabled;
      number.disabled = disabled;
    },
  };
}
