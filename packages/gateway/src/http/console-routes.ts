import { readdirSync, type Dirent } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';

/** The console's static files, in the package's `console/` directory (beside `src/` and `dist/`). */
const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

const HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/**
 * The files the console may serve: every `.html`, `.js` and `.css` file of `dir` and its
 * subfolders (hidden ones left out), by `/`-separated path relative to `dir`, with its content type.
 * A folder that cannot be read contributes nothing (a gateway without its console still starts).
 */
function listConsoleFiles(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (relative: string[]) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(dir, ...relative), { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) walk([...relative, entry.name]);
      else if (entry.isFile() && CONTENT_TYPES[extname(entry.name)]) files.set([...relative, entry.name].join('/'), CONTENT_TYPES[extname(entry.name)]!);
    }
  };
  walk([]);
  return files;
}

/**
 * `GET /console`: the web console — one HTML page, its ES modules and its style sheet, served
 * without authentication (they hold no data); every data call the page makes goes through the
 * authenticated `/v1` API. Only the files found in the console folder when the routes are created
 * are served (an allow-list), read once and kept in memory.
 */
export function consoleRoutes(): Hono {
  const app = new Hono();
  const files = listConsoleFiles(CONSOLE_DIR);
  const cache = new Map<string, Promise<Buffer>>();
  const load = (name: string) => {
    let file = cache.get(name);
    if (!file) {
      file = readFile(join(CONSOLE_DIR, ...name.split('/')));
      file.catch(() => cache.delete(name));
      cache.set(name, file);
    }
    return file;
  };
  const serve = async (name: string) => {
    // The allow-list holds no such path; refusing them here too keeps that true whatever it holds.
    if (name.split('/').some((part) => part === '' || part === '.' || part === '..' || part.includes('\\'))) return undefined;
    const type = files.get(name);
    if (!type) return undefined;
    const body = await load(name);
    return new Response(new Uint8Array(body), { status: 200, headers: { ...HEADERS, 'content-type': type } });
  };

  // Relative, so the page works behind a proxy that mounts the gateway under a path.
  app.get('/console', (c) => c.redirect('console/', 302));
  app.get('/console/', async (c) => (await serve('index.html')) ?? c.notFound());
  app.get('/console/:path{.+}', async (c) => (await serve(c.req.param('path'))) ?? c.notFound());
  return app;
}
