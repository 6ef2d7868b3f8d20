/** The helper role: an independent guardian with its own policy (filled in by issue #14 work). */
export {};
