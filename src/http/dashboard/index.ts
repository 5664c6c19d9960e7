// The dashboard: the built web app (dist/web) served at /ui/, every client-side route answered with its index page.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build` writes the web app: beside the compiled server in dist/. */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../../dist/web', import.meta.url));
const PREFIX = '/ui/';

/**
 * A browser opening `/` (it asks for HTML) is sent to the dashboard; API clients probing `/` (Ollama's, curl) still get
 * the Ollama surface's plain-text answer. Added on the root instance, since `/` belongs to another surface's plugin.
 */
export function sendBrowsersToDashboard(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (request.method !== 'GET' || request.url !== '/') return;
    if (!String(request.headers.accept ?? '').includes('text/html')) return;
    if (fs.existsSync(`${DASHBOARD_DIR}/index.html`)) await reply.redirect(PREFIX);
  });
}

export default async function dashboard(app: FastifyInstance): Promise<void> {
  const built = fs.existsSync(`${DASHBOARD_DIR}/index.html`);
  if (!built) {
    app.log.warn({ dir: DASHBOARD_DIR }, 'the dashboard is not built (npm run build); /ui/ answers 404');
    return;
  }
  // Hashed asset names never change content, so browsers may keep them; the index page is always revalidated.
  await app.register(fastifyStatic, {
    root: DASHBOARD_DIR,
    // Files are sent by the routes below (which declare their role like every route), not by routes of the plugin's own.
    serve: false,
    setHeaders: (res, file) => res.header('cache-control', file.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache'),
  });
  app.get('/ui', { config: { role: 'public' }, schema: { hide: true } }, async (_request, reply) => reply.redirect(PREFIX));
  // Client-side routes (/ui/models/x, /ui/download…): the app's index page, which routes in the browser.
  app.get('/ui/*', { config: { role: 'public' }, schema: { hide: true } }, async (request, reply) => {
    const file = (request.params as { '*': string })['*'];
    if (/\.[a-z0-9]+$/i.test(file)) return reply.sendFile(file);
    return reply.type('text/html; charset=utf-8').sendFile('index.html');
  });
}
