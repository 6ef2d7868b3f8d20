/**
 * The data chunk (`data.min.js`): `exportData()` and `eraseData()` on the store, loaded
 * with `import()` only when the viewer downloads or erases their data (the preference
 * centre), so apps do not carry it on every start.
 */
export { readExport, type InMemoryState } from '../export.ts';
export { eraseStore } from '../erase.ts';
