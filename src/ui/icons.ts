/** The icons of the pages: constant, decorative SVG markup (aria-hidden). */
import { raw } from './html.js';

const ICON_ATTRS =
  'viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false"';
export const ALERT_ICON = raw(
  `<svg ${ICON_ATTRS}><circle cx="12" cy="12" r="9"/><path d="M12 7.5v5"/><path d="M12 16.25v.01"/></svg>`,
);
export const CHECK_ICON = raw(`<svg ${ICON_ATTRS}><path d="m5 12.5 4.5 4.5L19 7.5"/></svg>`);
export const WARNING_ICON = raw(
  `<svg ${ICON_ATTRS} stroke-width="1.75"><path d="M10.3 3.9 2.4 17.6A2 2 0 0 0 4.1 20.6h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0Z"/><path d="M12 9v4.5"/><path d="M12 17v.01"/></svg>`,
);
