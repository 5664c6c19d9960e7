// Ollama answers delete, copy and blob calls with a bare status; with nothing to send, no response serializer runs.
import type { FastifyReply } from 'fastify';

export function emptyReply(reply: FastifyReply, status: 200 | 201): FastifyReply {
  return reply.status(status).send();
}
