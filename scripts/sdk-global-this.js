// Injected into every SDK bundle by scripts/build-sdk.mjs (esbuild `inject`): a bundled
// reference to `globalThis` (ES2020; @hpke reads `globalThis.crypto`) becomes this
// binding, so the chunks also load on 2020 TVs (Chromium 68/69), which have no
// globalThis. `self` is the global object of windows and workers; `global` that of Node
// (the unit tests load the built chunks). This file must not name globalThis itself.
const globalObject = typeof self !== 'undefined' ? self : global;
export { globalObject as globalThis };
