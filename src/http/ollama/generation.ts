// Ollama's generation routes: /api/generate (raw completion or the chat template) and /api/chat (messages, tools), NDJSON by default.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import type { ChatTurn, GenerationResult, StreamControl } from '../../app/inference-types.ts';
import {
  OllamaChatRequest,
  OllamaChatResponse,
  OllamaGenerateRequest,
  OllamaGenerateResponse,
  type OllamaMessage,
} from '../../schemas/ollama.ts';
import { ollamaErrorResponses } from './ollama-errors.ts';
import { answerGeneration } from './generation-reply.ts';
import { loadOrUnload } from './load-request.ts';
import { ollamaCapabilities } from './ollama-model-facts.ts';
import { chatTurns, generationSettings, refuseTools, refuseUnsupported, toolDefinitions } from './ollama-request.ts';
import { chatTemplate, versionForName } from './ollama-versions.ts';
import { modelfileDefaults, type ModelfileDefaults } from './modelfile-defaults.ts';

const GENERATION_ERRORS = ollamaErrorResponses(400, 401, 403, 404, 409, 429, 500, 502, 503);

const STREAMING =
  'Streams `application/x-ndjson` by default (one JSON object per line, the last with `done: true`, done_reason and timings in nanoseconds; an error after the first line is one more line `{"error"}`); `"stream": false` answers one object.';

const now = () => new Date().toISOString();

/** The assistant message of a chat answer, with the tools the model called. */
function assistantMessage(content: string, result?: GenerationResult) {
  const calls = result?.toolCalls ?? [];
  return {
    role: 'assistant' as const,
    content,
    ...(calls.length > 0 ? { tool_calls: calls.map((call) => ({ function: { name: call.name, arguments: call.arguments } })) } : {}),
  };
}

/** The created model's SYSTEM (unless the conversation has its own) and MESSAGE turns, before the request's messages. */
function withModelfileTurns(messages: OllamaMessage[], defaults: ModelfileDefaults): OllamaMessage[] {
  const hasSystem = messages.some((message) => message.role === 'system');
  const system: OllamaMessage[] = defaults.system && !hasSystem ? [{ role: 'system', content: defaults.system }] : [];
  return [...system, ...defaults.messages, ...messages];
}

/** What both routes read first: the version the name means (once), its Modelfile defaults, and the settings over them. */
async function prepare(ctx: HangarContext, body: OllamaGenerateRequest | OllamaChatRequest) {
  refuseUnsupported(body.model, body);
  const named = await versionForName(ctx.catalog, body.model);
  const defaults = modelfileDefaults(named);
  const settings = generationSettings({ ...defaults.options, ...body.options }, body.format);
  return { ref: named.ref, named, defaults, settings };
}

export default async function generationRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/api/generate',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['ollama'],
        description: `Completes a prompt: through the model's chat template (with \`system\`), or as is with \`"raw": true\`. An empty prompt loads the model (done_reason "load"); with keep_alive 0 it unloads it ("unload"). ${STREAMING}`,
        body: OllamaGenerateRequest,
        response: { 200: OllamaGenerateResponse, ...GENERATION_ERRORS },
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const body = request.body;
      const { ref, defaults, settings } = await prepare(ctx, body);
      if (!body.prompt) {
        const reason = await loadOrUnload(ctx, request, ref, body.keep_alive, settings.contextSize);
        return { model: body.model, created_at: now(), response: '', done: true, done_reason: reason };
      }
      const prompt = body.prompt;
      const base = { model: ref, keepAlive: body.keep_alive, ...settings };
      // Not raw: Ollama applies the model's template to [system?, prompt], which is a chat of one turn.
      const system = body.system ?? defaults.system;
      const turns: ChatTurn[] = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user', content: prompt }];
      const run = (stream: StreamControl) =>
        body.raw ? inference.generate({ ...base, prompt }, stream) : inference.chat({ ...base, messages: turns }, stream);
      return answerGeneration(request, reply, body.stream ?? true, startedAt, run, {
        chunk: (text) => ({ model: body.model, created_at: now(), response: text, done: false }),
        done: (_result, text, stats) => ({ model: body.model, created_at: now(), response: text, done: true, ...stats }),
      });
    },
  );

  r.post(
    '/api/chat',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['ollama'],
        description: `Answers a conversation with the model's chat template; \`tools\` where the template calls functions (else 400 "… does not support tools"), calls in \`message.tool_calls\`. No messages loads the model (done_reason "load"; keep_alive 0: "unload"). ${STREAMING}`,
        body: OllamaChatRequest,
        response: { 200: OllamaChatResponse, ...GENERATION_ERRORS },
      },
    },
    async (request, reply) => {
      const startedAt = performance.now();
      const body = request.body;
      const { ref, named, defaults, settings } = await prepare(ctx, body);
      if (!body.messages?.length) {
        const reason = await loadOrUnload(ctx, request, ref, body.keep_alive, settings.contextSize);
        return { model: body.model, created_at: now(), message: assistantMessage(''), done: true, done_reason: reason };
      }
      if (body.tools?.length && !ollamaCapabilities(named.version, await chatTemplate(ctx.catalog, named)).includes('tools')) {
        refuseTools(body.model);
      }
      const input = {
        model: ref,
        keepAlive: body.keep_alive,
        ...settings,
        messages: chatTurns(withModelfileTurns(body.messages, defaults)),
        ...(body.tools?.length ? { tools: toolDefinitions(body.tools) } : {}),
      };
      return answerGeneration(request, reply, body.stream ?? true, startedAt, (stream) => inference.chat(input, stream), {
        chunk: (text) => ({ model: body.model, created_at: now(), message: assistantMessage(text), done: false }),
        done: (result, text, stats) => ({
          model: body.model,
          created_at: now(),
          message: assistantMessage(text, result),
          done: true,
          ...stats,
        }),
      });
    },
  );
}
