// Schemas of the configuration replies: the effective configuration with its sources, and a PATCH's result.
import { Type, type Static } from 'typebox';
import { ConfigSchema } from '../config/schema.ts';

export const ConfigMeta = Type.Object({
  sources: Type.Record(Type.String(), Type.String(), { description: 'Where each setting came from: default, file, dotenv, env or api.' }),
  config_file: Type.String(),
  restart_required_keys: Type.Array(Type.String(), { description: 'Settings read only at start-up.' }),
});

export const ConfigView = Type.Object(
  { ...ConfigSchema.properties, _meta: ConfigMeta },
  { description: 'The effective configuration (secrets redacted) plus _meta.' },
);

export const PatchResult = Type.Object({
  applied: Type.Array(Type.Object({ key: Type.String(), before: Type.Unknown(), after: Type.Unknown() })),
  restart_required: Type.Array(Type.String()),
  overridden: Type.Array(Type.Object({ key: Type.String(), source: Type.String(), variable: Type.String(), effective: Type.Unknown() }), {
    description: 'Settings saved to the file that an environment variable still overrides.',
  }),
  config: ConfigView,
});
export type ConfigView = Static<typeof ConfigView>;
export type PatchResult = Static<typeof PatchResult>;
