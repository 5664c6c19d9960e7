// Holds the effective configuration for the running server, with where each value came from.
import type { ConfigSource, HangarConfig } from './schema.ts';
import type { LoadedConfig } from './load-config.ts';

export class Settings {
  private currentConfig: HangarConfig;
  private readonly valueSources: Record<string, ConfigSource>;
  readonly configFile: string;

  constructor(loaded: LoadedConfig) {
    this.currentConfig = loaded.config;
    this.valueSources = { ...loaded.sources };
    this.configFile = loaded.configFile;
  }

  /** The configuration now; read it on every use so live updates take effect. */
  get current(): HangarConfig {
    return this.currentConfig;
  }

  get sources(): Readonly<Record<string, ConfigSource>> {
    return this.valueSources;
  }
}
