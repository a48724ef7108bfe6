/**
 * The flow inspector's pages (src/http/routes/inspector.ts serves them): the live list of recent
 * flows, and one flow as a sequence diagram over four lanes (Browser, Client, Gatehouse,
 * Resource), server-rendered in the style of the other pages. Front-channel hops (redirects, pages,
 * form_post) are solid, back-channel calls (token, introspection, UserInfo, revocation, resource
 * calls) dashed, and each is labelled with its channel in words too.
 *
 * The only script is /_gatehouse/inspector.js (same origin, `script-src 'self'`): it keeps the
 * list live over Server-Sent Events; the pages work without it.
 */
import { createHash } from 'node:crypto';
import {
  type FlowArrow,
  type FlowStep,
  type FlowSummary,
  LANES,
  type Lane,
  describeState,
} from '../core/inspector/flow-model.js';
import { STYLE, html, htmlDocument, raw, safeUrl, type SafeHtml } from './html.js';
import { renderComparison } from './pages.js';
import { frame } from './page-parts.js';

const LANE_NAMES: Record<Lane, string> = {
  browser: 'Browser',
  client: 'Client',
  gatehouse: 'Gatehouse',
  resource: 'Resource',
};

/** Grid columns an arrow spans, one class per pair of lanes (no style attributes under the CSP). */
const SPANS = LANES.flatMap((_a, i) =>
  // From the middle of one lane to the middle of the other: half a column in from each end.
  LANES.map((_b, j) =>
    i < j
      ? `.s${i}${j}{grid-column:${i + 1}/${j + 2};margin-left:${50 / (j - i + 1)}%;margin-right:${50 / (j - i + 1)}%}`
      : '',
  ).filter(Boolean),
).join('');

export const INSPECTOR_STYLE = `
.shell.inspector{max-width:68rem}
.flows{width:100%;border-collapse:collapse;font-size:.875rem}
.flows th,.flows td{padding:.5rem .625rem;text-align:left;border-bottom:1px solid var(--border);overflow-wrap:anywhere}
.flows th{color:var(--muted);font-weight:600}
.state-failed{color:var(--danger-text);font-weight:650}
.state-succeeded,.state-signed_out{color:var(--ok);font-weight:650}
.lanes{display:grid;grid-template-columns:repeat(4,1fr);gap:0;text-align:center}
.lane-head{font-weight:650;padding:.5rem;border-bottom:2px solid var(--border)}
.seq{list-style:none;margin:0;padding:0}
.seq>li{padding:.75rem 0;border-bottom:1px solid var(--border)}
.seq>li.failed{background:var(--danger-bg)}
.meta{display:flex;gap:.75rem;font-size:.8125rem;color:var(--muted);margin:0 0 .25rem}
.meta b{color:var(--text)}
.arrow{position:relative;margin-top:.25rem;margin-bottom:.25rem;padding:.125rem .5rem;border-bottom:3px solid var(--primary);font-size:.8125rem;font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.arrow.back{border-bottom-style:dashed;border-bottom-color:var(--ok)}
.arrow.ltr::after{content:"▶";position:absolute;right:-.5rem;bottom:-.8rem;color:var(--primary)}
.arrow.rtl::before{content:"◀";position:absolute;left:-.5rem;bottom:-.8rem;color:var(--primary)}
.arrow.back.ltr::after,.arrow.back.rtl::before{color:var(--ok)}
.channel{font-family:system-ui,sans-serif;font-size:.6875rem;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);margin-right:.375rem}
.params{margin:.25rem 0 0 2rem;font-size:.8125rem;font-family:ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.params span{display:inline-block;margin:0 .75rem .125rem 0}
.checks{list-style:none;margin:.5rem 0 0 2rem;padding:0;font-size:.8125rem}
.checks .ok::before{content:"✓ ";color:var(--ok)}
.checks .fail::before{content:"✗ ";color:var(--danger-text)}
.failure{margin:.75rem 0 0 2rem;padding:.75rem 1rem;border:1px solid var(--danger-border);border-radius:10px;background:var(--card);font-size:.875rem}
.failure h3{margin:0 0 .5rem;color:var(--danger-text);font-size:.9375rem}
.failure dt{font-weight:650;color:var(--muted)}
.failure dd{margin:0 0 .5rem}
${SPANS}
`;

const hash = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** The CSP of the inspector's pages: its two stylesheets, its one same-origin script, SSE to itself. */
export const INSPECTOR_CSP = [
  "default-src 'none'",
  `style-src ${hash(STYLE)} ${hash(INSPECTOR_STYLE)}`,
  "script-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

function page(title: string, body: SafeHtml, script: string | null): string {
  return htmlDocument({
    lang: 'en',
    title,
    head: html`<style>${raw(STYLE)}</style><style>${raw(INSPECTOR_STYLE)}</style>${
      script !== null ? html`<script src="${script}" defer></script>` : ''
    }`,
    shell: 'shell inspector',
    brand: html`<span>Gatehouse flow inspector</span>`,
    body,
  });
}

const time = (at: number) =>
  new Date(at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');

function stateCell(summary: FlowSummary): SafeHtml {
  return html`<span class="state-${summary.state.kind}">${describeState(summary.state)}</span>`;
}

/** On a flow's page the failed state links to the explanation of its failing step (`#failure-N`, one per failed step). */
function linkedStateCell(summary: FlowSummary): SafeHtml {
  const state = summary.state;
  if (state.kind !== 'failed') return stateCell(summary);
  return html`<a href="#failure-${state.step}" class="state-failed">${describeState(state)}</a>`;
}

export function renderFlowRow(summary: FlowSummary, base: string): SafeHtml {
  return html`<tr data-flow="${summary.flowId}"><td><a href="${base}/flows/${encodeURIComponent(summary.flowId)}">${summary.flowId}</a></td><td>${summary.clientId ?? '—'}</td><td>${summary.user ?? '—'}</td><td>${summary.grantType ?? '—'}</td><td>${stateCell(summary)}</td><td>${time(summary.startedAt)}</td></tr>`;
}

/** The index: recent flows, newest first, kept live by inspector.js over SSE. */
export function renderFlowList(flows: FlowSummary[], base: string): string {
  return page(
    'Flows · Gatehouse inspector',
    html`<main class="card">
<h1>Recent flows</h1>
<p class="lead">Every authorization, token request and resource call this Gatehouse saw, grouped by flow. The list updates live. Secrets appear only as short hashes (<code>#3fa1</code>).</p>
<table class="flows" id="flows"><thead><tr><th scope="col">Flow</th><th scope="col">Client</th><th scope="col">User</th><th scope="col">Grant type</th><th scope="col">State</th><th scope="col">Started</th></tr></thead>
<tbody>${flows.map((flow) => renderFlowRow(flow, base))}</tbody></table>
${flows.length === 0 ? html`<p class="note" id="empty">No flows yet: start one from a client.</p>` : ''}
</main>`,
    `${base}/inspector.js`,
  );
}

function renderArrow(arrow: FlowArrow, kind: 'request' | 'response'): SafeHtml {
  const from = LANES.indexOf(arrow.from);
  const to = LANES.indexOf(arrow.to);
  const span = `s${Math.min(from, to)}${Math.max(from, to)}`;
  const direction = from < to ? 'ltr' : 'rtl';
  const channel = arrow.channel === 'front' ? 'front channel' : 'back channel';
  return html`<div class="lanes"><div class="arrow ${arrow.channel} ${span} ${direction}" data-channel="${arrow.channel}" data-from="${arrow.from}" data-to="${arrow.to}" data-kind="${kind}"><span class="channel">${channel}</span>${LANE_NAMES[arrow.from]} → ${LANE_NAMES[arrow.to]}: ${arrow.title}</div></div>
${arrow.params.length > 0 ? html`<p class="params">${arrow.params.map(([name, value]) => html`<span><b>${name}</b>=${value}</span>`)}</p>` : ''}`;
}

function renderStep(step: FlowStep, index: number, startedAt: number): SafeHtml {
  const failure = step.failure;
  return html`<li class="${failure !== null ? 'failed' : ''}" id="step-${index + 1}" data-step="${index + 1}">
<p class="meta"><b>Step ${index + 1}</b><span>+${step.at - startedAt} ms</span><span>took ${step.durationMs} ms</span><span>instance ${step.instance}</span>${step.status !== null ? html`<span>HTTP ${step.status}</span>` : ''}</p>
${renderArrow(step.request, 'request')}
${step.response !== null ? renderArrow(step.response, 'response') : ''}
${
  step.checks.length > 0
    ? html`<ul class="checks">${step.checks.map(
        (check) =>
          html`<li class="${check.ok ? 'ok' : 'fail'}">${check.name}: ${check.detail}${
            check.ref !== null ? html` (<a href="${safeUrl(check.ref.url)}">${check.ref.label}</a>)` : ''
          }</li>`,
      )}</ul>`
    : ''
}
${
  failure !== null
    ? html`<div class="failure" id="failure-${index + 1}">
<h3>Failed: <code>${failure.error}</code></h3>
<dl>
<dt>error_description</dt><dd><code>${failure.description}</code></dd>
<dt>The rule</dt><dd id="failure-rule-${index + 1}">${failure.rule} <a class="spec" href="${safeUrl(failure.ref.url)}">${failure.ref.label}</a></dd>
${failure.comparison !== null ? html`<dt>Compared</dt><dd>${renderComparison(frame(undefined), failure.comparison)}</dd>` : ''}
<dt>Likely fix, client developer</dt><dd>${failure.fixClient}</dd>
<dt>Likely fix, operator</dt><dd>${failure.fixOperator}</dd>
</dl></div>`
    : ''
}
</li>`;
}

/** One flow as a sequence diagram. */
export function renderFlowPage(flowId: string, steps: FlowStep[], summary: FlowSummary, base: string): string {
  const startedAt = steps[0]?.at ?? 0;
  return page(
    `Flow ${flowId} · Gatehouse inspector`,
    html`<main class="card">
<p class="note"><a href="${base}/flows">← All flows</a></p>
<h1>Flow <code>${flowId}</code></h1>
<p class="lead">Client <b>${summary.clientId ?? '—'}</b> · user <b>${summary.user ?? '—'}</b> · ${summary.grantType ?? '—'} · ${linkedStateCell(summary)} · started ${time(startedAt)}. Solid arrows travel the front channel (through the browser); dashed ones the back channel (server to server).</p>
<div class="lanes" id="lanes">${LANES.map((lane) => html`<div class="lane-head" data-lane="${lane}">${LANE_NAMES[lane]}</div>`)}</div>
<ol class="seq" id="steps">${steps.map((step, index) => renderStep(step, index, startedAt))}</ol>
</main>`,
    null,
  );
}

/** The live list's script: new or changed flows arrive over SSE as JSON summaries. */
export const INSPECTOR_SCRIPT = `(() => {
  const table = document.querySelector('#flows tbody');
  if (!table || !window.EventSource) return;
  const base = location.pathname.replace(/\\/flows\\/?$/, '');
  const source = new EventSource(base + '/flows/events');
  source.addEventListener('flow', (message) => {
    const flow = JSON.parse(message.data);
    const row = document.createElement('tr');
    row.dataset.flow = flow.flowId;
    const link = document.createElement('a');
    link.href = base + '/flows/' + encodeURIComponent(flow.flowId);
    link.textContent = flow.flowId;
    const cells = [link, flow.clientId || '—', flow.user || '—', flow.grantType || '—', null, new Date(flow.startedAt).toISOString().replace('T', ' ').replace(/\\.\\d+Z$/, ' UTC')];
    for (const content of cells) {
      const cell = document.createElement('td');
      if (content === null) {
        const state = document.createElement('span');
        state.className = 'state-' + flow.state.kind;
        state.textContent = flow.stateText;
        cell.append(state);
      } else cell.append(content);
      row.append(cell);
    }
    for (const old of table.querySelectorAll('tr')) if (old.dataset.flow === flow.flowId) old.remove();
    table.prepend(row);
    document.getElementById('empty')?.remove();
  });
})();
`;
