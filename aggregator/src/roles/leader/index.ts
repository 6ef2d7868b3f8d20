/** The leader role: talks to devices, closes rounds, asks the helper (filled in by issue #14 work). */
export {};
