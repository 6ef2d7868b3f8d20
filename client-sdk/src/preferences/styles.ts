/**
 * The element's shadow styles. Sizes are in em of `--edgeseg-font-size` (a TV app sets
 * it larger for ten-foot viewing); every control is at least 2.75em tall. Colours are
 * custom properties with defaults that meet WCAG 2.1 AA on the default background
 * (text ≥ 4.5:1, switch tracks and focus ring ≥ 3:1).
 *
 * 2020 TVs run Chromium 68 (webOS 5) and 69 (Tizen 5.5), and an engine drops a whole rule
 * when one selector in it is unknown. So every selector and property here is one those
 * engines know, except in rules that may be lost there without harm:
 * - the focus ring is on `:focus`; a separate rule takes it off again where
 *   `:focus-visible` exists and does not match (a mouse click on a new engine). On
 *   Chromium 68/69 that rule is dropped and the ring shows on every focus.
 * - no flexbox `gap` (Chromium 84): spacing between items is margins.
 * - `overflow-wrap:anywhere` (Chromium 80) comes after `word-break:break-word`, which
 *   old engines use instead.
 */
export const STYLES = `
:host{display:block;font-size:var(--edgeseg-font-size,1.125rem);line-height:1.5;color:var(--edgeseg-text,#eef0f4);background:var(--edgeseg-bg,#181b22);border-radius:.6em;padding:1em 1.25em;font-family:inherit}
:host([hidden]){display:none}
*{box-sizing:border-box}
h2{font-size:1.4em;margin:0 0 .25em}
h3{font-size:1.15em;margin:0}
h4{font-size:1em;margin:.75em 0 .25em}
p{margin:.25em 0}
.muted{color:var(--edgeseg-muted,#b9c0cc)}
.warn{color:var(--edgeseg-warn,#ffd488)}
ul{list-style:none;margin:0;padding:0}
.purpose{border-top:1px solid var(--edgeseg-line,#3a4150);padding:1em 0}
.head{display:flex;align-items:center;justify-content:space-between}
.head h3{margin-right:1em}
button,summary{font:inherit;min-height:2.75em;border-radius:.4em;cursor:pointer}
button{color:var(--edgeseg-text,#eef0f4);background:var(--edgeseg-button,#2b3240);border:2px solid var(--edgeseg-button-border,#8a93a3);padding:.4em 1em}
button:hover{background:var(--edgeseg-button-hover,#353e50)}
button:focus,summary:focus{outline:.25em solid var(--edgeseg-focus,#7cc4ff);outline-offset:.2em}
button:focus:not(:focus-visible),summary:focus:not(:focus-visible){outline:none}
[role=switch]{display:inline-flex;align-items:center;padding:.3em .8em;flex-shrink:0}
.track{position:relative;width:3.2em;height:1.8em;border-radius:.9em;background:var(--edgeseg-off,#4a5262);border:2px solid var(--edgeseg-button-border,#8a93a3)}
.knob{position:absolute;top:.15em;left:.15em;width:1.3em;height:1.3em;border-radius:50%;background:var(--edgeseg-text,#eef0f4);transition:left .15s}
[aria-checked=true] .track{background:var(--edgeseg-on,#7ee2a8);border-color:var(--edgeseg-on,#7ee2a8)}
[aria-checked=true] .knob{left:1.55em;background:var(--edgeseg-bg,#181b22)}
.state{min-width:2em;text-align:left;margin-left:.6em}
[aria-disabled=true]{cursor:not-allowed;border-style:dashed}
details{margin-top:.4em}
summary{display:inline-flex;align-items:center;padding:.3em .6em;color:var(--edgeseg-link,#9dd3ff);text-decoration:underline}
pre{white-space:pre-wrap;word-break:break-word;overflow-wrap:anywhere;background:var(--edgeseg-code-bg,#0b0d11);color:var(--edgeseg-code,#dfe3ea);padding:.75em;border-radius:.4em;font-size:.8em;margin:.5em 0 0}
section.block{border-top:1px solid var(--edgeseg-line,#3a4150);padding:1em 0 0;margin-top:.5em}
.ledger p{display:flex;flex-wrap:wrap;align-items:center}
.ledger p>*{margin:.125em 1em .125em 0}
meter{width:10em;height:1em}
.actions{display:flex;flex-wrap:wrap;margin-top:.5em}
.actions>*{margin:0 .75em .75em 0}
.confirm{margin-top:.75em;padding:.75em 1em;border:2px solid var(--edgeseg-warn,#ffd488);border-radius:.5em}
.danger{background:var(--edgeseg-danger-bg,#ffb4b4);color:var(--edgeseg-danger-text,#1d0606);border-color:var(--edgeseg-danger-bg,#ffb4b4)}
.danger:hover{background:var(--edgeseg-danger-hover,#ffc9c9)}
[role=status]{min-height:1.5em;margin-top:.75em}
@media (prefers-reduced-motion:reduce){.knob{transition:none}}
`;
