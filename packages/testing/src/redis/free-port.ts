import { createServer } from 'node:net';

/**
 * Finds a free TCP port by listening on port 0 and closing again. Another process may take the
 * port before it is used, so callers should retry on "address in use".
 *
 * @param host - address to probe; default `127.0.0.1`
 */
export function findFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('could not find a free port'))));
    });
  });
}
