// What a model was created with through /api/create (its Modelfile's SYSTEM, PARAMETER and MESSAGE, kept in metadata.ollama), applied under each request's own values.
import { Compile } from 'typebox/compile';
import { OllamaMessage, OllamaOptions } from '../../schemas/ollama.ts';
import type { NamedVersion } from './ollama-versions.ts';

export interface ModelfileDefaults {
  system?: string;
  /** Sampling options the request's own `options` override key by key. */
  options: OllamaOptions;
  /** Conversation turns placed before the request's messages. */
  messages: OllamaMessage[];
}

const isOptions = Compile(OllamaOptions);
const isMessage = Compile(OllamaMessage);
const OPTION_KEYS = new Set(Object.keys(OllamaOptions.properties));

/** Only what the options schema takes: a stored value it would refuse (written by hand, or by an older Hangar) is left out. */
function storedOptions(parameters: unknown): OllamaOptions {
  if (typeof parameters !== 'object' || parameters === null) return {};
  const known = Object.fromEntries(Object.entries(parameters).filter(([key]) => OPTION_KEYS.has(key)));
  return Object.fromEntries(Object.entries(known).filter(([key, value]) => isOptions.Check({ [key]: value })));
}

/** The stored defaults of a version (none for models imported or pulled as they are). */
export function modelfileDefaults({ version }: NamedVersion): ModelfileDefaults {
  const stored = version.metadata.ollama;
  if (typeof stored !== 'object' || stored === null) return { options: {}, messages: [] };
  const { system, parameters, messages } = stored as Record<string, unknown>;
  return {
    ...(typeof system === 'string' && system !== '' ? { system } : {}),
    options: storedOptions(parameters),
    messages: Array.isArray(messages) ? messages.filter((message): message is OllamaMessage => isMessage.Check(message)) : [],
  };
}
