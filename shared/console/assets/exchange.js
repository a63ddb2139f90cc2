// exchange.js: one exchange. Its offer (QR code fetched from the admin API with the key and shown as a blob: URL,
// the deep link, the PIN when this tab created it), its status live (polling GET /credential/history/{id}), the
// operator's actions (complete or deny a deferred exchange, revoke, suspend, reinstate, delete), and every field of
// the record, grouped, each rendered as text.

import { h, field, input, textarea, formatTime, json, copyButton, confirmInline } from './dom.js';
import * as api from './api.js';
import { showErrors, clearErrors, busy, parseJSONField } from './forms.js';
import { statusBadge, statusLabel, statusHelp, revocationBadge, finalStatuses, issuedStatuses, subjectSkeleton, pins } from './model.js';

// Polling: every 2 s for 3 minutes, then every 5 s; paused after 15 minutes without a change (a button resumes).
const fastPoll = 2000;
const slowPoll = 5000;
const fastFor = 3 * 60 * 1000;
const pauseAfter = 15 * 60 * 1000;

// groups of the record's fields; fields not named here are shown under "Other fields".
const groups = [
  ['Exchange', ['credentialExchangeId', 'issuanceMode', 'status', 'credentialStatus', 'createdAt', 'updatedAt',
    'credentialDefinitionId', 'credentialFormat', 'isPreAuthorised', 'userPin', 'individualId', 'mapperId',
    'issuanceDeniedReason', 'credentialFailureDescription', 'credentialOffer', 'offerDelivery']],
  ['Credential', ['credential', 'credentials', 'disclosureMapping', 'supportRevocation', 'revocationStatus',
    'credentialToken', 'expiredCredentialTokens', 'expiredCredentials']],
  ['Wallet and holder', ['clientId', 'holder', 'cnf', 'jti', 'proof', 'proofType', 'credentialResponseEncryption']],
  ['Attestations', ['clientAssertion', 'clientAssertionType', 'clientAssertionVerified', 'walletUnitAttestation',
    'walletUnitAttestationPoP', 'walletUnitAttestationVerified', 'decodedWalletUnitAttestation']],
  ['Presentation and ID token', ['presentationDefinitionId', 'presentationExchangeId', 'presentationFailure', 'idToken', 'idTokenDecoded', 'idTokenVerified']],
];

const timeFields = new Set(['createdAt', 'updatedAt']);

// value renders one field's value as text: empty values say so, objects as indented JSON.
function value(name, v) {
  if (v === null || v === undefined || v === '' || (typeof v === 'object' && Object.keys(v).length === 0)) {
    return h('span', { class: 'empty' }, 'empty');
  }
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number') return timeFields.has(name) ? `${formatTime(v)} (${v})` : String(v);
  if (typeof v === 'string') return v.length > 60 ? h('code', { class: 'break' }, v) : v;
  return h('pre', {}, json(v));
}

function recordList(record) {
  const shown = new Set();
  const out = [];
  const section = (title, names) => {
    const dl = h('dl', { class: 'record' });
    for (const name of names) {
      shown.add(name);
      dl.append(h('dt', {}, name), h('dd', {}, value(name, record[name])));
    }
    out.push(h('h3', {}, title), dl);
  };
  for (const [title, names] of groups) section(title, names.filter((n) => n in record));
  const rest = Object.keys(record).filter((k) => !shown.has(k)).sort();
  if (rest.length) section('Other fields', rest);
  out.push(h('details', {}, h('summary', {}, 'The record as JSON'), h('pre', {}, json(record))));
  return out;
}

// steps of the exchange's way, with the state of each for this record.
function stepper(record) {
  const s = record.status;
  const deferred = record.issuanceMode === 'Deferred';
  const rank = { offer_sent: 0, offer_received: 1, credential_issued: 2, credential_acked: 2, credential_accepted: 3, credential_deleted: 3 };
  const steps = [['Offer created', 0], ['Wallet opened the offer', 1]];
  if (deferred) steps.push(['Claims given (you complete it)', 'ready']);
  steps.push([deferred ? 'Wallet received the credential' : 'Credential issued', 2], ['Wallet accepted it', 3]);
  const reached = rank[s] ?? -1;
  const ol = h('ol', { class: 'steps', 'aria-label': 'Progress of the exchange' });
  let currentMarked = false;
  for (const [label, at] of steps) {
    let state;
    if (at === 'ready') state = record.credentialStatus === 'ready' || reached >= 2 ? 'done' : 'todo';
    else state = reached >= at ? 'done' : 'todo';
    let text = label;
    if (s === 'issuance_denied' && state === 'todo' && !currentMarked) {
      state = 'failed';
      text = 'Issuance denied';
    }
    if (s === 'credential_deleted' && at === 3) {
      state = 'failed';
      text = 'Wallet deleted it';
    }
    const li = h('li', {}, text, h('span', { class: 'visually-hidden' }, state === 'done' ? ' (done)' : state === 'failed' ? ' (stopped here)' : ''));
    if (state === 'done') li.className = 'done';
    if (state === 'failed') {
      li.className = 'failed';
      currentMarked = true;
    }
    if (state === 'todo' && !currentMarked && !finalStatuses.has(s)) {
      li.className = 'current';
      li.setAttribute('aria-current', 'step');
      currentMarked = true;
    } else if (state === 'todo') {
      li.append(h('span', { class: 'visually-hidden' }, ' (not yet)'));
    }
    ol.append(li);
  }
  return ol;
}

// offerOpen: the QR code and link still lead somewhere (the code is not redeemed and the exchange not ended).
function offerOpen(record) {
  return Boolean(record.credentialOffer) && (record.status === 'offer_sent' || record.status === 'offer_received');
}

// walletCommand is the scripted wallet's command line for this offer (a checkout of the issuer's repository).
function walletCommand(link, pin) {
  const quoted = `'${link.replaceAll("'", "'\\''")}'`;
  return `go run ./infra/wallet ${pin ? `-pin ${pin} ` : ''}${quoted}`;
}

// presentationNote tells, for a dynamic credential request, what the holder's wallet must do and that the
// scripted wallet cannot (it redeems offers but presents nothing), instead of its command.
function presentationNote(definitionId, label) {
  return h('div', { class: 'notice', id: 'offer-presentation-note' },
    h('p', {}, 'This is a dynamic credential request: before anything is issued, the holder\'s wallet must present ',
      label ? h('strong', {}, label) : 'the credentials', ' (presentation definition ', h('code', {}, definitionId),
      ') over OpenID4VP.'),
    h('p', {}, 'It takes a wallet that can present over OpenID4VP 1.0 (or its drafts, for a Presentation Exchange ' +
      'definition). The scripted wallet of the issuer\'s repository cannot present, so it is not offered here.'));
}

export async function render(ctx, id) {
  const { el, signal } = ctx;
  let record;
  try {
    record = (await api.call('GET', `/credential/history/${api.segment(id)}`, undefined, { signal })).credentialHistory;
  } catch (err) {
    if (err.status !== 404) throw err;
    el.replaceChildren(h('h1', {}, 'Exchange not found'),
      h('p', {}, 'No exchange has the id ', h('code', {}, id), ': it was deleted, or its retention passed. ',
        h('a', { href: '#/history' }, 'Back to the history'), '.'));
    return;
  }
  let definition = null;
  if (record.credentialDefinitionId) {
    try {
      definition = (await api.call('GET', `/credential-definition/${api.segment(record.credentialDefinitionId)}`, undefined, { signal })).credentialDefinition;
    } catch (_) {
      definition = null; // deleted since: the exchange keeps its own copy, the form starts empty
    }
  }
  const pin = pins.get(id) || '';
  // A dynamic credential request asks the holder for a presentation: its definition's label, or its id alone.
  let presentationLabel = '';
  if (record.presentationDefinitionId) {
    try {
      presentationLabel = (await api.call('GET', `/presentation-definition/${api.segment(record.presentationDefinitionId)}`, undefined, { signal })).presentationDefinition.label || '';
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      presentationLabel = ''; // deleted since (the exchange keeps its copy), or the API has no such route
    }
  }

  const statusNow = h('p', { class: 'live' });
  const stepsHost = h('div');
  const checked = h('p', { class: 'hint' });
  const pollNote = h('p', { class: 'hint' });
  const refreshNow = h('button', { type: 'button', class: 'button-secondary' }, 'Check now');
  const statusPanel = h('section', { class: 'panel', 'aria-labelledby': 'status-heading' },
    h('h2', { id: 'status-heading' }, 'Status'), statusNow, stepsHost,
    h('div', { class: 'inline-group' }, pollNote, refreshNow), checked);

  const offerPanel = h('section', { class: 'panel', 'aria-labelledby': 'offer-heading' });
  const actionsPanel = h('div');
  const recordPanel = h('section', { class: 'panel', 'aria-labelledby': 'record-heading' });

  // --- offer: QR code and link
  let qrURL = '';
  let qrBlob = null;
  signal.addEventListener('abort', () => { if (qrURL) URL.revokeObjectURL(qrURL); });
  const renderOffer = async () => {
    if (!offerOpen(record)) {
      offerPanel.hidden = true;
      return;
    }
    offerPanel.hidden = false;
    if (offerPanel.dataset.link === record.credentialOffer) return;
    offerPanel.dataset.link = record.credentialOffer;
    const link = record.credentialOffer;
    const qrFrame = h('div', { class: 'qr-frame' }, h('p', {}, 'Loading the QR code…'));
    const linkInput = input('offer-link', { value: link, readonly: true, class: 'mono' });
    linkInput.addEventListener('focus', () => linkInput.select());
    const copyLink = copyButton('Copy link', () => link, ctx.announce);
    const copyQR = copyButton('Copy QR code image', null, ctx.announce, { getBlob: async () => qrBlob });
    copyQR.disabled = true;
    const download = h('a', { class: 'button button-secondary', download: `offer-${id}.png`, href: '#', hidden: true }, 'Download QR code (PNG)');
    const pinBlock = pin ? h('div', { class: 'field' },
      h('p', { class: 'field-label' }, 'PIN (transaction code)'),
      h('p', { class: 'hint' }, 'Shown only here and now: the issuer keeps just a hash of it. Tell it to the holder another way.'),
      h('div', { class: 'copy-row' }, h('span', { class: 'pin', id: 'offer-pin' }, pin), copyButton('Copy PIN', () => pin, ctx.announce)))
      : null;
    const command = walletCommand(link, pin);
    const openLink = link.startsWith('openid-credential-offer://') || link.startsWith('haip://')
      ? h('a', { href: link }, 'Open in a wallet on this device') : null;
    offerPanel.replaceChildren(
      h('h2', { id: 'offer-heading' }, 'Offer for the wallet'),
      h('p', { class: 'hint' }, 'Show the QR code to the holder, or send them the link. It works until their wallet redeems it.'),
      h('div', { class: 'offer' },
        h('div', {}, qrFrame, h('div', { class: 'actions' }, copyQR, download)),
        h('div', {},
          field('Offer link (deep link)', linkInput, 'The same offer as the QR code.'),
          h('div', { class: 'actions' }, copyLink, openLink),
          pinBlock,
          record.presentationDefinitionId ? presentationNote(record.presentationDefinitionId, presentationLabel)
            : h('details', {}, h('summary', {}, 'No wallet at hand? Use the scripted wallet'),
              h('p', {}, 'In a checkout of the issuer\'s repository, this command plays a holder wallet: it redeems the ' +
                'offer, proves a key, receives the credential, prints it and reports it accepted (for a Deferred ' +
                'exchange it waits until you complete it here).'),
              h('pre', { id: 'wallet-command' }, command),
              copyButton('Copy command', () => command, ctx.announce)))));
    try {
      const res = await api.call('GET', `/credential/history/${api.segment(id)}/offer-qr?size=320`, undefined, { raw: true, signal });
      qrBlob = await res.blob();
      if (qrURL) URL.revokeObjectURL(qrURL);
      qrURL = URL.createObjectURL(qrBlob);
      qrFrame.replaceChildren(h('img', { class: 'qr', src: qrURL, width: '320', height: '320',
        alt: 'QR code of the credential offer link; the same link is in the text field beside it.' }));
      copyQR.disabled = !window.ClipboardItem;
      download.setAttribute('href', qrURL);
      download.hidden = false;
    } catch (err) {
      if (err.name === 'AbortError' || err.status === 401) return;
      qrFrame.replaceChildren(h('p', { role: 'alert' }, `No QR code: ${err.description || err}. The link works the same.`));
    }
  };

  // --- actions
  const renderActions = () => {
    const parts = [];
    const s = record.status;
    if (record.issuanceMode === 'Deferred' && record.credentialStatus === 'pending' && (s === 'offer_sent' || s === 'offer_received')) {
      parts.push(deferredPanel());
    }
    if (record.supportRevocation) parts.push(revocationPanel());
    parts.push(deletePanel());
    actionsPanel.replaceChildren(...parts);
  };

  const deferredPanel = () => {
    const skeleton = definition ? subjectSkeleton(definition.claims) : {};
    const subject = textarea('complete-subject', { dataField: 'credential.credentialSubject', rows: '8', value: JSON.stringify(skeleton, null, 2) });
    const submit = h('button', { type: 'submit' }, 'Issue the credential');
    const complete = h('form', { novalidate: true, 'aria-labelledby': 'complete-heading' },
      h('h3', { id: 'complete-heading' }, 'Complete it'),
      field('Claims (credentialSubject, JSON)', subject, 'The wallet receives the credential with these claims at its next request.'),
      h('div', { class: 'actions' }, submit));
    complete.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(complete);
      const parsed = parseJSONField(subject, undefined, 'The claims');
      if (parsed.error || parsed.value === undefined) {
        showErrors(complete, parsed.error || { field: 'credential.credentialSubject', description: 'Enter the claims as a JSON object.' });
        return;
      }
      try {
        const res = await busy(submit, 'Completing…', () => api.call('PUT', `/credential/history/${api.segment(id)}`,
          { credential: { credentialSubject: parsed.value } }, { signal }));
        update(res.credentialHistory, 'The exchange is complete: the wallet gets the credential at its next request.');
      } catch (err) {
        if (err.status !== 401 && err.name !== 'AbortError') showErrors(complete, err);
      }
    });
    const reason = input('deny-reason', { dataField: 'issuanceDeniedReason', autocomplete: 'off' });
    const denyButton = h('button', { type: 'submit', class: 'button-danger' }, 'Deny issuance');
    const deny = h('form', { novalidate: true, 'aria-labelledby': 'deny-heading' },
      h('h3', { id: 'deny-heading' }, 'Or deny it'),
      field('Reason', reason, 'Shown in the record; the wallet learns that no credential will come.'),
      h('div', { class: 'actions' }, denyButton));
    deny.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearErrors(deny);
      try {
        const res = await busy(denyButton, 'Denying…', () => api.call('PUT', `/credential/history/${api.segment(id)}`,
          { issuanceDenied: true, issuanceDeniedReason: reason.value }, { signal }));
        update(res.credentialHistory, 'Issuance denied.');
      } catch (err) {
        if (err.status !== 401 && err.name !== 'AbortError') showErrors(deny, err);
      }
    });
    return h('section', { class: 'panel', 'aria-labelledby': 'deferred-heading' },
      h('h2', { id: 'deferred-heading' }, 'Deferred: waiting for you'),
      h('p', {}, 'The wallet waits for this credential. Give the claims to issue it, or deny it.'),
      complete, deny);
  };

  const revocationPanel = () => {
    const current = record.revocationStatus || 'Operational';
    const issued = issuedStatuses.has(record.status);
    const group = h('div', { class: 'actions', id: 'revocation', dataset: { field: 'revocationStatus' }, tabindex: '-1', role: 'group', 'aria-label': 'Revocation' });
    const form = h('form', { novalidate: true, 'aria-labelledby': 'revocation-heading' },
      h('h2', { id: 'revocation-heading' }, 'Revocation'),
      h('p', {}, 'Current status: ', revocationBadge(record.revocationStatus)),
      h('p', { class: 'hint' }, issued
        ? 'Applies to every credential of this exchange through its status list. Suspended can be reinstated; Revoked is final.'
        : 'Possible once a credential of this exchange is issued.'),
      group, h('p', { class: 'field-error', id: 'revocation-error', hidden: true }));
    form.addEventListener('submit', (e) => e.preventDefault());
    const set = async (target, button) => {
      clearErrors(form);
      try {
        const res = await busy(button, 'Saving…', () => api.call('PUT', `/credential/history/${api.segment(id)}/revocation-status`,
          { revocationStatus: target }, { signal }));
        update(res.credentialHistory, `Revocation status: ${target}.`);
        const again = actionsPanel.querySelector('#revocation button');
        (again || actionsPanel.querySelector('#revocation-heading')).focus();
      } catch (err) {
        if (err.status !== 401 && err.name !== 'AbortError') showErrors(form, { field: 'revocationStatus', description: err.description || String(err) });
      }
    };
    if (current !== 'Revoked') {
      if (current === 'Suspended') {
        const reinstate = h('button', { type: 'button', disabled: !issued }, 'Reinstate');
        reinstate.addEventListener('click', () => set('Operational', reinstate));
        group.append(reinstate);
      } else {
        const suspend = h('button', { type: 'button', class: 'button-secondary', disabled: !issued }, 'Suspend');
        suspend.addEventListener('click', () => set('Suspended', suspend));
        group.append(suspend);
      }
      const revoke = h('button', { type: 'button', class: 'button-danger', disabled: !issued }, 'Revoke');
      revoke.addEventListener('click', async () => {
        const yes = await confirmInline(group, 'Revoke every credential of this exchange? This is final: a revoked credential cannot be reinstated.', 'Revoke for good', revoke);
        if (yes) await set('Revoked', revoke);
      });
      group.append(revoke);
    } else {
      group.append(h('p', {}, 'Revoked is final.'));
    }
    return h('section', { class: 'panel' }, form);
  };

  const deletePanel = () => {
    const del = h('button', { type: 'button', class: 'button-danger' }, 'Delete this exchange');
    const host = h('div', { class: 'actions' }, del);
    del.addEventListener('click', async () => {
      const yes = await confirmInline(host, 'Delete the record and every code and token of it? The wallet can no longer ' +
        'redeem the offer. Issued credentials stay valid (revoke them first if needed).', 'Delete exchange', del);
      if (!yes) return;
      try {
        await api.call('DELETE', `/credential/history/${api.segment(id)}`, undefined, { signal });
        ctx.announce('Exchange deleted.');
        ctx.navigate('#/history');
      } catch (err) {
        if (err.status !== 401 && err.name !== 'AbortError') host.append(h('p', { class: 'field-error', role: 'alert' }, err.description || String(err)));
      }
    });
    return h('section', { class: 'panel', 'aria-labelledby': 'delete-heading' }, h('h2', { id: 'delete-heading' }, 'Delete'), host);
  };

  // --- the whole record
  const renderRecord = () => {
    recordPanel.replaceChildren(h('h2', { id: 'record-heading' }, 'Every field of the record'), ...recordList(record));
  };

  const renderStatus = () => {
    statusNow.replaceChildren('Status: ', statusBadge(record.status), ' ', statusHelp(record.status));
    if (record.issuanceDeniedReason) statusNow.append(h('span', {}, ` Reason: ${record.issuanceDeniedReason}`));
    stepsHost.replaceChildren(stepper(record));
  };

  // update takes a newer record: every part that depends on it changes, and the status change is announced.
  const update = (next, message) => {
    const before = record;
    record = next;
    const statusChanged = before.status !== next.status;
    const actionKey = (r) => `${r.status}|${r.credentialStatus}|${r.revocationStatus}`;
    renderStatus();
    renderRecord();
    renderOffer();
    if (actionKey(before) !== actionKey(next)) renderActions();
    if (message) ctx.announce(message);
    else if (statusChanged) ctx.announce(`Exchange status: ${statusLabel(next.status)}.`);
    if (statusChanged || message) lastChange = Date.now();
  };

  // --- polling
  let timer = 0;
  let lastChange = Date.now();
  const started = Date.now();
  const poll = async () => {
    timer = 0;
    if (signal.aborted) return;
    if (!document.hidden) {
      try {
        const res = await api.call('GET', `/credential/history/${api.segment(id)}`, undefined, { signal });
        const next = res.credentialHistory;
        checked.textContent = `Last checked ${new Date().toLocaleTimeString()}.`;
        if (JSON.stringify(next) !== JSON.stringify(record)) update(next);
      } catch (err) {
        if (err.name === 'AbortError' || err.status === 401) return;
        if (err.status === 404) {
          pollNote.textContent = 'The exchange is gone (deleted, or past its retention).';
          ctx.announce('The exchange was deleted.');
          return;
        }
        checked.textContent = `Could not check: ${err.description || err}. Trying again.`;
      }
    }
    schedule();
  };
  const schedule = () => {
    if (signal.aborted) return;
    if (finalStatuses.has(record.status)) {
      pollNote.textContent = 'The exchange has ended: no more live updates.';
      return;
    }
    if (Date.now() - lastChange > pauseAfter) {
      pollNote.textContent = 'Live updates paused after 15 minutes without a change. Press “Check now” to resume.';
      return;
    }
    const every = Date.now() - started < fastFor ? fastPoll : slowPoll;
    pollNote.textContent = `Live: checked every ${every / 1000} seconds while this page is open.`;
    timer = setTimeout(poll, every);
  };
  signal.addEventListener('abort', () => clearTimeout(timer));
  refreshNow.addEventListener('click', () => {
    clearTimeout(timer);
    lastChange = Date.now();
    poll();
  });

  el.replaceChildren(
    h('h1', {}, 'Exchange'),
    h('p', { class: 'lead' }, 'Id ', h('code', { class: 'break' }, id), `, ${record.issuanceMode}, created ${formatTime(record.createdAt)}. `,
      h('a', { href: '#/history' }, 'All exchanges')),
    offerPanel, statusPanel, actionsPanel, recordPanel);
  renderStatus();
  renderRecord();
  renderActions();
  renderOffer();
  schedule();
}
