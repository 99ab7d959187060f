import { readFile } from 'node:fs/promises';
import { Hono } from 'hono';

/** The console's static files, in the package's `console/` directory (beside `src/` and `dist/`). */
const CONSOLE_DIR = new URL('../../console/', import.meta.url);

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

const HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * `GET /console`: the web console — one HTML page, one ES module and one style sheet, served
 * without authentication (they hold no data); every data call the page makes goes through the
 * authenticated `/v1` API.
 */
export function consoleRoutes(): Hono {
  const app = new Hono();
  const cache = new Map<string, Promise<Buffer>>();
  const load = (name: string) => {
    let file = cache.get(name);
    if (!file) {
      file = readFile(new URL(name, CONSOLE_DIR));
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  };
  const serve = async (name: string) => {
    const type = FILES[name];
    if (!type) return undefined;
    const body = await load(name);
    return new Response(new Uint8Array(body), { status: 200, headers: { ...HEADERS, 'content-type': type } });
  };

  // Relative, so the page works behind a proxy that mounts the gateway under a path.
  app.get('/console', (c) => c.redirect('console/', 302));
  app.get('/console/', async (c) => (await serve('index.html')) ?? c.notFound());
  app.get('/console/:file', async (c) => (await serve(c.req.param('file'))) ?? c.notFound());
  return app;
}
