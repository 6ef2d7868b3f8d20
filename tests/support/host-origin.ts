/**
 * A host app on its own origin, as every real app is: a tiny Node HTTP server on
 * 127.0.0.1 and a free port (so another origin than the stack's), serving fixed files.
 * Browser tests load the SDK from the stack's endpoint (or bundled) into its pages.
 */
import { createServer, type Server } from 'node:http';

/** One file the host serves: its body and content type. */
export interface HostFile {
  body: string | Uint8Array;
  type: string;
}

export interface HostOrigin {
  /** `http://127.0.0.1:<port>`: never the stack's origin. */
  origin: string;
  /** Paths the browser asked this host for, in order. */
  readonly requested: readonly string[];
  close(): Promise<void>;
}

/**
 * Serves `files` (path → file) from a fresh port on 127.0.0.1; any other path is a 404.
 *
 * @example
 * const host = await startHostOrigin({ '/': { type: 'text/html', body: '<!doctype html>…' } });
 * await page.goto(`${host.origin}/`);
 */
export async function startHostOrigin(files: Readonly<Record<string, HostFile>>): Promise<HostOrigin> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://host').pathname;
    requested.push(path);
    const file = files[path];
    if (req.method !== 'GET' || !file) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-store' }).end(file.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('host origin: no port');
  return {
    origin: `http://127.0.0.1:${address.port}`,
    requested,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
