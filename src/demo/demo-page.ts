/**
 * Page furniture shared by the demo client's server-rendered pages and its SPA: the stylesheet
 * (the authorization server's calm card look plus a few demo classes), served from
 * `/assets/demo.css` so that every page can use the plain CSP `style-src 'self'`, and the
 * document layout.
 */
import { STYLE, html, htmlDocument, raw, type SafeHtml } from '../ui/html.js';

const DEMO_STYLE = `
:root{--api:#8a5a00}
@media (prefers-color-scheme:dark){:root{--api:#f0b35a}}
.shell.wide{max-width:54rem}
.brand .party{font-weight:500;color:var(--muted)}
.card+.card{margin-top:1rem}
.card h2{font-size:1.0625rem;margin-bottom:.75rem}
.card h3{margin:1rem 0 .375rem;font-size:.875rem;font-weight:650;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
.parties{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1.25rem;padding:0;list-style:none;font-size:.875rem}
.parties li{flex:1 1 10rem;padding:.5rem .75rem;background:var(--subtle);border:1px solid var(--border);border-radius:10px}
.parties li.here{border-color:var(--primary)}
.parties b{display:block;font-weight:650}
.parties span{color:var(--muted);overflow-wrap:anywhere}
.steps{margin:0 0 1.25rem;padding:0;list-style:none}
.step{margin:0 0 .625rem;padding:.625rem .875rem;background:var(--subtle);border:1px solid var(--border);border-left:4px solid var(--primary);border-radius:10px;font-size:.9375rem}
.step.back{border-left-color:var(--ok)}
.step.api{border-left-color:var(--api)}
.step.error{border-left-color:var(--danger-text)}
.step p{margin:0}
.step .tag{display:block;margin:0 0 .125rem;font-size:.75rem;font-weight:650;text-transform:uppercase;letter-spacing:.05em;color:var(--primary)}
.step.back .tag{color:var(--ok)}
.step.api .tag{color:var(--api)}
.step.error .tag{color:var(--danger-text)}
.step .sent{margin:.375rem 0 0;font-size:.8125rem;color:var(--muted);overflow-wrap:anywhere}
pre.json{margin:0 0 .75rem;padding:.75rem .875rem;background:var(--subtle);border:1px solid var(--border);border-radius:10px;font-family:ui-monospace,SFMono-Regular,"SF Mono",Menlo,Consolas,"Liberation Mono",monospace;font-size:.8125rem;line-height:1.45;white-space:pre-wrap;overflow-wrap:anywhere}
.tokens{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:0 1.25rem}
.token-line{margin:0 0 .75rem;font-size:.875rem;overflow-wrap:anywhere}
.actions{flex-wrap:wrap}
.actions form{display:flex;flex:1 1 0}
.actions form .btn,.actions a.btn{flex:1 1 auto;text-decoration:none}
.actions .btn{white-space:nowrap}
.ok-text{color:var(--ok);font-weight:650}
.err-text{color:var(--danger-text);font-weight:650}
.notes{margin:0 0 .75rem;padding:0;list-style:none;border:1px solid var(--border);border-radius:12px}
.notes li{padding:.625rem .875rem}
.notes li+li{border-top:1px solid var(--border)}
.notes b{display:block}
.small{font-size:.875rem;color:var(--muted)}
.credentials{margin-top:1rem}
details.raw{margin:0 0 .25rem}
details.raw summary{cursor:pointer;font-size:.875rem;color:var(--muted);margin:0 0 .5rem}
a{color:var(--primary)}
[hidden]{display:none!important}
@media (forced-colors:active){.step,.parties li,pre.json,.notes{border-color:CanvasText}}
`;

/** Served at /assets/demo.css. */
export const DEMO_CSS = STYLE + DEMO_STYLE;

/**
 * The CSP of the server-rendered client pages: no script at all, forms only to the client. The
 * authorization server's origin is in form-action because the Sign out form's answer redirects
 * there (end_session_endpoint), and browsers apply form-action to a form's redirects too.
 */
export function clientPageCsp(issuer: string): string {
  return `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' ${new URL(issuer).origin}; frame-ancestors 'none'; base-uri 'none'`;
}

const BRAND_ICON = raw(
  '<svg viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.75" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"><rect x="3.5" y="4.5" width="17" height="13" rx="2"/><path d="M8 20.5h8M12 17.5v3"/></svg>',
);

/** The document around one or more cards; `party` names the app in the header. */
export function demoLayout(p: { title: string; party: string; body: SafeHtml; head?: SafeHtml }): string {
  return htmlDocument({
    lang: 'en',
    title: p.title,
    head: html`<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/demo.css">
${p.head ?? ''}`,
    shell: 'shell wide',
    brand: html`${BRAND_ICON}<span>Gatehouse demo <span class="party">· ${p.party}</span></span>`,
    body: p.body,
  });
}
