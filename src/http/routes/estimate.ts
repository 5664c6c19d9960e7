// Placeholder route plugin (filled in by the hub issue's work).
import type { FastifyInstance } from 'fastify';
import type { HangarContext } from '../context.ts';

export default async function estimateRoutes(_app: FastifyInstance, _ctx: HangarContext): Promise<void> {}
