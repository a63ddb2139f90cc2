// issue.js: create an offer (POST /credential/issue) in any mode the API has: InTime or Deferred, with or without
// a transaction code (PIN), for a definition or an inline type, and the dynamic credential request (a presentation
// definition the holder must satisfy first) once the issuer has presentation definitions. Success opens the
// exchange with its QR code, deep link and live status.

import { h, field, input, select, checkbox, check, textarea, describe } from './dom.js';
import * as api from './api.js';
import { showErrors, clearErrors, busy, parseJSONField } from './forms.js';
import { loadDefinitions, presentationSupport, subjectSkeleton, definitionName, randomPin, pins } from './model.js';

// sampleValues fill the claims template for names everyone recognises (sample data, no real person).
const sampleValues = { given_name: 'Erika', family_name: 'Mustermann', birthdate: '1964-08-12' };

function withSamples(skeleton) {
  for (const [k, v] of Object.entries(skeleton)) if (v === '' && k in sampleValues) skeleton[k] = sampleValues[k];
  return skeleton;
}

export async function render(ctx, params) {
  const { el, signal } = ctx;
  const [defs, presentation] = await Promise.all([loadDefinitions(signal), presentationSupport(signal)]);
  const wanted = params.get('definition') || '';

  // What to issue
  const defOptions = [['', 'No definition: give the credential type here'], ...defs.map((d) => [d.credentialDefinitionId, definitionName(d)])];
  const definition = select('issue-definition', defOptions, { dataField: 'credentialDefinitionId',
    value: defs.some((d) => d.credentialDefinitionId === wanted) ? wanted : defs.length ? defs[0].credentialDefinitionId : '' });
  const type = input('issue-type', { value: 'EmployeeID', dataField: 'credential.type', autocomplete: 'off' });
  const typeField = field('Credential type (vct)', type, 'Without a definition every top-level claim is selectively disclosable.');
  const subject = textarea('issue-subject', { dataField: 'credential.credentialSubject', rows: '8' });
  let subjectDirty = false;
  subject.addEventListener('input', () => { subjectDirty = true; });

  // When the claims are known
  const inTime = h('input', { type: 'radio', id: 'issue-mode-intime', name: 'issue-mode', value: 'InTime', dataset: { field: 'issuanceMode' } });
  const deferred = h('input', { type: 'radio', id: 'issue-mode-deferred', name: 'issue-mode', value: 'Deferred' });
  inTime.checked = true;
  const subjectHint = h('p', { class: 'hint', id: 'issue-subject-mode-hint' });
  describe(subject, subjectHint.id);

  const skeletonText = () => {
    const d = defs.find((x) => x.credentialDefinitionId === definition.value);
    const skeleton = d ? withSamples(subjectSkeleton(d.claims)) : { ...sampleValues };
    return JSON.stringify(skeleton, null, 2);
  };
  const refresh = () => {
    typeField.hidden = definition.value !== '';
    const isDeferred = deferred.checked;
    subjectHint.textContent = isDeferred
      ? 'Optional for Deferred: leave it empty and give the claims when you complete the exchange (History → the exchange).'
      : 'Required for InTime: the person\'s claims as a JSON object. The template lists the definition\'s claims; replace the values.';
    if (!subjectDirty) subject.value = isDeferred ? '' : skeletonText();
  };
  definition.addEventListener('change', () => { subjectDirty = false; refresh(); });
  inTime.addEventListener('change', refresh);
  deferred.addEventListener('change', refresh);

  // PIN
  const pinOn = checkbox('issue-pin-on', true);
  const pin = input('issue-pin', { value: randomPin(), dataField: 'userPin', autocomplete: 'off', inputmode: 'numeric', spellcheck: 'false' });
  const newPin = h('button', { type: 'button', class: 'button-secondary' }, 'New PIN');
  newPin.addEventListener('click', () => {
    pin.value = randomPin();
    ctx.announce(`New PIN ${pin.value.split('').join(' ')}`);
  });
  const pinField = field('PIN', pin, 'Tell it to the holder another way than the QR code (e.g. by phone). All digits ' +
    'gives wallets a numeric keypad; up to 12 characters.');
  pinField.append(h('div', { class: 'actions' }, newPin));
  pinOn.addEventListener('change', () => { pinField.hidden = !pinOn.checked; });

  // More options
  const scheme = select('issue-scheme', [['openid-credential-offer://', 'openid-credential-offer:// (most wallets)'], ['haip://', 'haip:// (HAIP wallets)']], { dataField: 'urlScheme' });
  const endpoint = input('issue-endpoint', { dataField: 'credentialOfferEndpoint', autocomplete: 'off', placeholder: 'https://wallet.example/credential_offer' });
  const individual = input('issue-individual', { dataField: 'individualId', autocomplete: 'off' });
  const metadata = textarea('issue-metadata', { dataField: 'credential.credentialMetadata', rows: '3' });
  const more = textarea('issue-credentials', { dataField: 'credentials', rows: '3' });
  let presentationControl;
  const transactionData = textarea('issue-transaction-data', { dataField: 'transactionData', rows: '3', disabled: true });
  let presentationHelp;
  if (presentation.available) {
    presentationControl = select('issue-presentation', [['', 'None: a regular offer'],
      ...presentation.items.map((p) => [p.presentationDefinitionId, p.label || p.presentationDefinitionId])], { dataField: 'presentationDefinitionId' });
    presentationHelp = 'The holder must first present credentials that match this presentation definition (OpenID4VP); ' +
      'the offer then has no PIN.';
    presentationControl.addEventListener('change', () => {
      const dynamic = presentationControl.value !== '';
      pinOn.disabled = dynamic;
      if (dynamic) { pinOn.checked = false; pinField.hidden = true; }
      transactionData.disabled = !dynamic;
    });
  } else {
    presentationControl = input('issue-presentation', { dataField: 'presentationDefinitionId', disabled: true });
    presentationHelp = 'Not available on this issuer yet: it has no presentation definitions (admin API ' +
      '/presentation-definition). Once it has, choose one here.';
  }

  const submit = h('button', { type: 'submit' }, 'Create offer');
  const form = h('form', { novalidate: true, 'aria-labelledby': 'issue-heading' },
    h('fieldset', {}, h('legend', {}, 'What to issue'),
      field('Credential definition', definition, defs.length ? 'What the credential contains. Manage them under Credential definitions.'
        : 'No credential definitions yet: issue with a type below, or create a definition first.'),
      typeField),
    h('fieldset', { 'aria-describedby': 'issue-mode-help' }, h('legend', {}, 'When are the claims known?'),
      h('p', { class: 'hint', id: 'issue-mode-help' }, 'Both work with or without a PIN.'),
      h('div', { class: 'radio-group' },
        h('div', { class: 'check' }, inTime, h('label', { for: inTime.id }, 'Now (InTime): the wallet receives the credential at once.')),
        h('div', { class: 'check' }, deferred, h('label', { for: deferred.id }, 'Later (Deferred): the wallet waits until you complete or deny the exchange.'))),
      h('p', { class: 'field-error', id: 'issue-mode-intime-error', hidden: true })),
    h('fieldset', {}, h('legend', {}, 'Claims'),
      subjectHint,
      field('Claims (credentialSubject, JSON)', subject)),
    h('fieldset', {}, h('legend', {}, 'Transaction code'),
      check('Protect the offer with a PIN (transaction code)', pinOn, 'Whoever sees the QR code also needs the PIN to get the credential.'),
      pinField),
    h('details', {}, h('summary', {}, 'More options'),
      field('Link scheme', scheme, 'The scheme of the offer link and QR code.'),
      field('Also send the offer to this wallet endpoint (optional)', endpoint, 'https URL of a wallet\'s credential offer endpoint; the outcome is shown on the exchange.'),
      field('Individual (optional)', individual, 'Sends the offer to the endpoint registered for this individual id.'),
      field('Presentation definition (dynamic credential request)', presentationControl, presentationHelp),
      field('Transaction data (JSON, optional)', transactionData, 'Only with a presentation definition: what the holder must confirm, e.g. {"type": "...", ...}.'),
      field('Credential metadata (JSON, optional)', metadata, 'Stored with the exchange and shown in its record.'),
      field('More credentials in the same offer (JSON array, optional)', more, 'credentials[]: e.g. [{"credentialSubject": {...}}]. One offer, several credentials of the same definition.')),
    h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    const errors = [];
    const subj = parseJSONField(subject, undefined, 'The claims');
    const meta = parseJSONField(metadata, undefined, 'The credential metadata');
    const creds = parseJSONField(more, undefined, 'More credentials');
    const txData = transactionData.disabled ? { value: undefined } : parseJSONField(transactionData, undefined, 'Transaction data');
    for (const p of [subj, meta, creds, txData]) if (p.error) errors.push(p.error);
    if (errors.length) {
      showErrors(form, errors);
      return;
    }
    const body = { issuanceMode: deferred.checked ? 'Deferred' : 'InTime' };
    const credential = {};
    if (definition.value) body.credentialDefinitionId = definition.value;
    else credential.type = ['VerifiableCredential', type.value.trim()];
    if (subj.value !== undefined) credential.credentialSubject = subj.value;
    if (meta.value !== undefined) credential.credentialMetadata = meta.value;
    if (Object.keys(credential).length) body.credential = credential;
    if (creds.value !== undefined) body.credentials = creds.value;
    if (pinOn.checked && !pinOn.disabled) body.userPin = pin.value.trim();
    if (scheme.value !== 'openid-credential-offer://') body.urlScheme = scheme.value;
    if (endpoint.value.trim()) body.credentialOfferEndpoint = endpoint.value.trim();
    if (individual.value.trim()) body.individualId = individual.value.trim();
    if (!presentationControl.disabled && presentationControl.value) body.presentationDefinitionId = presentationControl.value;
    if (txData.value !== undefined) body.transactionData = txData.value;
    try {
      const res = await busy(submit, 'Creating the offer…', () => api.call('POST', '/credential/issue', body, { signal }));
      const record = res.credentialHistory;
      if (record.userPin) pins.set(record.credentialExchangeId, record.userPin);
      ctx.announce('Offer created.');
      ctx.navigate(`#/exchange/${encodeURIComponent(record.credentialExchangeId)}`);
    } catch (err) {
      if (err.status === 401 || err.name === 'AbortError') return;
      showErrors(form, err);
    }
  });

  el.replaceChildren(
    h('h1', { id: 'issue-heading' }, 'Issue a credential'),
    h('p', { class: 'lead' }, 'Create an offer for one person. You get a QR code and a link at once; the person scans it ' +
      'with their wallet (and enters the PIN), and you watch the exchange until the wallet has the credential.'),
    form);
  refresh();
}
