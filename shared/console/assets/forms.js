// forms.js: errors shown where they belong. An admin API error names the request field it is about
// ("claims[1].path: ..."); the control that feeds that field carries it in data-field, and the message appears
// right under that control (linked with aria-describedby, aria-invalid set) and in a summary at the top of the
// form that links to it. Errors that name no field of the form appear in the summary only.

import { h, describe, undescribe } from './dom.js';

// controlFor finds the control of form whose data-field is the field named, or the longest one that contains it
// (an error about "claims[1].path[0]" belongs to the control of "claims[1].path").
export function controlFor(form, fieldName) {
  if (!fieldName) return null;
  let best = null;
  for (const el of form.querySelectorAll('[data-field]')) {
    const f = el.dataset.field;
    const boundary = fieldName.length === f.length || '.['.includes(fieldName[f.length]);
    if (fieldName.startsWith(f) && boundary && (!best || f.length > best.dataset.field.length)) best = el;
  }
  return best;
}

// clearErrors removes every error shown in form.
export function clearErrors(form) {
  for (const el of form.querySelectorAll('.error-summary')) el.remove();
  for (const el of form.querySelectorAll('[aria-invalid="true"]')) {
    el.removeAttribute('aria-invalid');
    undescribe(el, `${el.id}-error`);
  }
  for (const el of form.querySelectorAll('.field-error')) {
    el.textContent = '';
    el.hidden = true;
  }
}

// showErrors shows errors ([{field, description}] or one ApiError) in form and moves focus to the summary, so
// that a screen reader reads it and a keyboard user continues from there.
export function showErrors(form, errors) {
  const list = (Array.isArray(errors) ? errors : [errors]).filter(Boolean);
  clearErrors(form);
  if (!list.length) return;
  const items = [];
  for (const err of list) {
    const text = err.description || err.message || String(err);
    const control = controlFor(form, err.field);
    if (control && control.id) {
      const slot = form.querySelector(`#${CSS.escape(control.id)}-error`);
      if (slot) {
        slot.textContent = text;
        slot.hidden = false;
        describe(control, slot.id);
      }
      control.setAttribute('aria-invalid', 'true');
      const details = control.closest('details');
      if (details) details.open = true;
      const link = h('a', { href: `#${control.id}` }, text);
      link.addEventListener('click', (e) => {
        e.preventDefault();
        control.focus();
      });
      items.push(h('li', {}, link));
    } else {
      items.push(h('li', {}, text));
    }
  }
  const summary = h('div', { class: 'error-summary', role: 'alert', tabindex: '-1' },
    h('h2', {}, list.length === 1 ? 'There is a problem' : `There are ${list.length} problems`),
    h('ul', {}, items));
  form.prepend(summary);
  summary.focus();
}

// parseJSONField parses the JSON of a textarea; an empty text gives fallback. A syntax error becomes an error of
// the field the textarea feeds.
export function parseJSONField(textareaEl, fallback, what) {
  const text = textareaEl.value.trim();
  if (!text) return { value: fallback };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { error: { field: textareaEl.dataset.field, description: `${what} is not valid JSON: ${e.message}` } };
  }
}

// busy disables a form's submit button while work runs, and says so on the button.
export async function busy(button, label, work) {
  const before = button.textContent;
  button.disabled = true;
  button.textContent = label;
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.textContent = before;
  }
}
