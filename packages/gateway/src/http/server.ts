import { serve, type ServerType } from '@hono/node-server';
import type { Hono } from 'hono';

/** A listening HTTP server. */
export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves an app on a port (0: any free one); resolves once it listens. */
export function listen(app: Hono, port: number, host = '0.0.0.0'): Promise<HttpServer> {
  return new Promise((resolve, reject) => {
    let server: ServerType | undefined;
    try {
      server = serve({ fetch: app.fetch, port, hostname: host }, (info) => {
        resolve({
          port: info.port,
          close: () =>
            new Promise<void>((done) => {
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              server!.close(() => done());
            }),
        });
      });
      server.on('error', reject);
    } catch (error) {
      reject(error);
    }
  });
}
