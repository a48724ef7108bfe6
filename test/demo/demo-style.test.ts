/**
 * The demo's stylesheet, WCAG 2.2 SC 1.4.3 (Contrast, Minimum): the amber "API CALL" label of a
 * step reaches 4.5:1 against the step's background, in the light and the dark scheme. The
 * colours are read from the CSS the demo serves (/assets/demo.css), not restated here.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_CSS } from '../../src/demo/demo-page.js';

/** The last value of a custom property in `css` (later declarations win). */
function customProperty(css: string, name: string): string {
  const values = [...css.matchAll(new RegExp(`${name}:\\s*(#[0-9a-fA-F]{6})\\b`, 'g'))].map((match) => match[1]!);
  assert.ok(values.length > 0, `${name} is declared`);
  return values.at(-1)!;
}

/** The CSS of one colour scheme: the rules outside any media query, or those of the dark one. */
function scheme(css: string, dark: boolean): string {
  const darkBlocks = [...css.matchAll(/@media \(prefers-color-scheme:dark\)\{(:root\{[^}]*\})\}/g)].map((m) => m[1]!);
  return dark ? darkBlocks.join('\n') : css.replace(/@media[^{]*\{(?:[^{}]*\{[^}]*\})*[^{}]*\}/g, '');
}

/** WCAG 2.2 "relative luminance" of an sRGB colour #rrggbb. */
function luminance(hex: string): number {
  const [r, g, b] = [1, 3, 5].map((i) => {
    const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG 2.2 "contrast ratio". */
function contrast(a: string, b: string): number {
  const [light, dark] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number];
  return (light + 0.05) / (dark + 0.05);
}

describe('the demo stylesheet', () => {
  it('the contrast ratio follows WCAG 2.2 (control: black on white is 21:1, #777 on white is below 4.5:1)', () => {
    assert.equal(Math.round(contrast('#000000', '#ffffff')), 21);
    assert.ok(contrast('#777777', '#ffffff') < 4.5);
  });

  it('the API step label uses var(--api) on a step background of var(--subtle)', () => {
    assert.match(DEMO_CSS, /\.step\.api \.tag\{color:var\(--api\)\}/);
    assert.match(DEMO_CSS, /\.step\{[^}]*background:var\(--subtle\)/);
  });

  for (const dark of [false, true]) {
    it(`WCAG 1.4.3: the amber "API CALL" label reaches 4.5:1 on the step background (${dark ? 'dark' : 'light'} scheme)`, () => {
      const css = scheme(DEMO_CSS, dark);
      const label = customProperty(css, '--api');
      const background = customProperty(css, '--subtle');
      const ratio = contrast(label, background);
      assert.ok(ratio >= 4.5, `${label} on ${background}: ${ratio.toFixed(2)}:1`);
    });
  }
});
