// downloadFile and its abort signal: a stop that comes before a part's request starts still stops the download.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { downloadFile, type DownloadFileOptions, type DownloadTuning } from '../../src/hub/file-download.ts';
import { tempDir } from '../helpers/temp.ts';

const BODY = Buffer.from('sixteen bytes!!\n'.repeat(64));
const TUNING: DownloadTuning = { parallelParts: 1, partSizeBytes: 1024 * 1024, stallTimeoutMs: 5000, maxRetries: 0, retryBaseMs: 10 };

/** A server that answers every range request with BODY's bytes, counting the requests it got. */
async function startFileServer(t: { after: (fn: () => unknown) => void }): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = http.createServer((request, response) => {
    requests++;
    const [, from = '0', to = String(BODY.length - 1)] = /bytes=(\d+)-(\d+)/.exec(request.headers.range ?? '') ?? [];
    const part = BODY.subarray(Number(from), Number(to) + 1);
    response.writeHead(206, {
      'content-length': part.length,
      'content-range': `bytes ${from}-${Number(from) + part.length - 1}/${BODY.length}`,
    });
    response.end(part);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/file.bin`, requests: () => requests };
}

function options(url: string, partialPath: string, signal: AbortSignal): DownloadFileOptions {
  return {
    target: { url, path: 'file.bin', size_bytes: BODY.length, sha256: createHash('sha256').update(BODY).digest('hex'), git_oid: null },
    partialPath,
    headers: {},
    tuning: TUNING,
    signal,
  };
}

test('the file server and options download the whole file when nobody stops it', async (t) => {
  const server = await startFileServer(t);
  const partialPath = path.join(await tempDir(t), 'file.partial');
  const result = await downloadFile(options(server.url, partialPath, new AbortController().signal));
  assert.equal(result.bytes_fetched, BODY.length);
  assert.deepEqual(fs.readFileSync(partialPath), BODY);
});

test('a signal aborted before the download starts stops it with its reason, and nothing is requested', async (t) => {
  const server = await startFileServer(t);
  const partialPath = path.join(await tempDir(t), 'file.partial');
  const controller = new AbortController();
  const reason = new Error('paused before the start');
  controller.abort(reason);
  await assert.rejects(downloadFile(options(server.url, partialPath, controller.signal)), (error: unknown) => error === reason);
  assert.equal(server.requests(), 0);
});

test('a signal aborted while the partial file is prepared stops the download before any part is requested', async (t) => {
  const server = await startFileServer(t);
  const partialPath = path.join(await tempDir(t), 'file.partial');
  // A saved state with some bytes done: the resumed bytes are reported while preparing, before any part starts.
  const sha256 = createHash('sha256').update(BODY).digest('hex');
  fs.writeFileSync(partialPath, BODY.subarray(0, 100));
  fs.writeFileSync(
    `${partialPath}.json`,
    JSON.stringify({ size_bytes: BODY.length, sha256, git_oid: null, parts: [{ start: 0, end: BODY.length, done: 100 }] }),
  );
  const controller = new AbortController();
  const reason = new Error('paused while preparing');
  const run = downloadFile({
    ...options(server.url, partialPath, controller.signal),
    onProgress: (_delta, resumed) => {
      if (resumed) controller.abort(reason);
    },
  });
  await assert.rejects(run, (error: unknown) => error === reason);
  assert.equal(server.requests(), 0);
});
