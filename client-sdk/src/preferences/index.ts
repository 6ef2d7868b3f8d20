/**
 * `preferences.min.js`: defines `<edgeseg-preferences>`, the viewer's preference centre.
 * It bundles no SDK code (types only); hand it the app's segmenter.
 *
 * @example
 * import { createSegmenter } from '/sdk/0.2.0/edgeseg.min.js';
 * import '/sdk/0.2.0/preferences.min.js';
 * document.querySelector('edgeseg-preferences').segmenter = createSegmenter({ endpoint: location.origin });
 *
 * @module @edgeseg/client-sdk/preferences
 */
import { definePreferencesElement, type PreferencesElement } from './element.ts';

export { definePreferencesElement, type PreferencesElement };

declare global {
  interface HTMLElementTagNameMap {
    'edgeseg-preferences': PreferencesElement;
  }
}

definePreferencesElement();
