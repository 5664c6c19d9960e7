// Placeholder route plugin (filled in by the hub issue's work).
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';

export default async function hubRoutes(_app: FastifyInstance, _ctx: HangarContext): Promise<void> {}
