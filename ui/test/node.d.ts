// The two Node APIs the tests use (Vitest runs them in Node), declared here
// rather than pulling in @types/node for the whole UI.
declare module 'node:fs' {
  export function readFileSync(path: string | URL): Uint8Array;
}
