// HEAD and POST /api/blobs/sha256:<digest>: Ollama's blob check and upload, streamed to the content-addressed store and verified.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { NotFound } from '../../errors.ts';
import { recordAuditEvent } from '../../registry/audit.ts';
import { actionContext } from '../request-context.ts';
import { BlobParams, EmptyBody } from '../../schemas/ollama-models.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import { emptyReply } from './empty-reply.ts';

const hexOf = (digest: string): string => digest.slice('sha256:'.length);

function blobMissing(digest: string): NotFound {
  return new NotFound(`Blob ${digest} is not stored`, { digest }, 'blob_not_found');
}

/** Registered in its own plugin: the raw-bytes parser below applies to these routes only. */
export default async function blobRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  // Any body (curl -T sends none or application/octet-stream) reaches the handler as the request stream itself:
  // never buffered, so multi-GB uploads stream to disk and the JSON body limit does not apply.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.head(
    '/api/blobs/:digest',
    {
      config: { role: 'viewer' },
      schema: {
        tags: ['ollama'],
        description: 'Ollama blob check: 200 when the store holds a blob with this digest, 404 when it does not.',
        params: BlobParams,
        response: { 200: EmptyBody, ...ollamaErrorResponses(400, 403, 404) },
      },
    },
    async (request, reply) => {
      if (!(await ctx.store.hasBlob(hexOf(request.params.digest)))) throw blobMissing(request.params.digest);
      return emptyReply(reply, 200);
    },
  );

  r.post(
    '/api/blobs/:digest',
    {
      config: { role: 'operator', audit: 'blob.upload' },
      schema: {
        tags: ['ollama'],
        description:
          'Ollama blob upload: the raw body (any content type, e.g. application/octet-stream) streams to disk while it is hashed; 201 when it hashes to the digest and is stored, 200 when the store already held it, 400 `blob_digest_mismatch` otherwise (nothing kept). Use the digest in POST /api/create `files`. A blob no version uses is removed at the next start.',
        params: BlobParams,
        consumes: ['application/octet-stream'],
        response: { 200: EmptyBody, 201: EmptyBody, ...ollamaErrorResponses(400, 403, 507) },
      },
    },
    async (request, reply) => {
      const sha256 = hexOf(request.params.digest);
      const body = request.body instanceof Readable ? request.body : Readable.from([]);
      if (await ctx.store.hasBlob(sha256)) {
        body.resume();
        return emptyReply(reply, 200);
      }
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length)) await ctx.store.assertFreeSpace(length);
      const stored = await ctx.store.putStream(body, sha256);
      await recordAuditEvent(ctx.database.db, actionContext(request), {
        action: 'blob.upload',
        target: request.params.digest,
        outcome: 'success',
        details: { size_bytes: stored.sizeBytes },
      });
      return emptyReply(reply, 201);
    },
  );
}
