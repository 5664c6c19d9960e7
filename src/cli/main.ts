// The `hangar` command: serve, and client commands talking to HANGAR_URL (human tables or --json).
import path from 'node:path';
import { parseArgs } from 'node:util';
import { CliError, HangarStreamClient, modelPath } from './http-client.ts';
import * as runtimeCommands from './runtime-commands.ts';
import { keys as keyCommands } from './key-commands.ts';
import { tenants as tenantCommands } from './tenant-commands.ts';
import * as monitorCommands from './monitor-commands.ts';
import * as registryCommands from './registry-commands.ts';
import * as integrityCommands from './integrity-commands.ts';
import { pull } from './pull-command.ts';
import { quantize } from './quantize-command.ts';
import { formatBytes, formatTable } from './format.ts';
import { ConfigError } from '../errors.ts';
import type { ModelSummary, VersionInfo, DeleteResult } from '../schemas/models.ts';
import type { JobInfo } from '../schemas/hub.ts';
import type { RunningServer } from '../server.ts';

const USAGE = `Usage: hangar <command> [options]

Commands:
  serve                 Start the server (config from env, .env and $HANGAR_HOME/config.yaml)
  ls [--name TEXT]      List models
  pull REPO             Download a hub repo as a new version, with a progress bar per file; Ctrl-C pauses
                        and the same pull resumes [--variant Q8_0] [--revision REV] [--name NAME] [--force]
  quantize NAME TYPE    Quantize a full-precision version into a new one (GGUF: Q4_K_M, Q8_0, Q6_K, Q5_K_M,
                        Q4_0, F16…; ONNX: fp16, q8; q4/q8 for short), with a progress bar; Ctrl-C cancels
                        [--version N] [--name NEW_NAME]
  jobs                  Download, repair and quantize jobs with their progress
  import NAME PATH      Import a local ONNX folder or GGUF file as a new version of NAME (NAME:tag sets an alias)
  rm NAME [--force]     Delete a model (NAME:version or NAME:alias deletes one version); --force unloads it first
  ps [--all]            Loaded models (--all: every model) with device, memory, pid, keep-alive
  load NAME             Load a model [--pin] [--keep-alive 10m] [--device cpu|gpu|auto] [--threads N] [--context-size N]
                        [--quantization q4|q8|TYPE] (an existing version in it, else quantized first)
  unload NAME           Unload a model
  embed NAME TEXT...    Embed texts and print the vectors (first values; --json for all)
  run NAME PROMPT       Generate from a prompt, streaming tokens [--max-tokens N]
  versions NAME         Versions with aliases, size and metrics
  promote NAME VERSION  Make VERSION production (demotes the current one) [--reason TEXT]
  rollback NAME         Back to the previous production version [--reason TEXT]
  history NAME          Promotions, demotions, rollbacks and live swaps
  validate NAME         Check every file's size and sha256 and the format's needs; exit 1 when invalid [--repair]
  compare NAME V1 V2... Versions side by side [--metric accuracy]
  top [--once]          Live view of loaded models: memory, in-flight, p95 latency, throughput
  gpu                   GPUs: memory, utilisation, temperature, power, processes
  keys create NAME --role viewer|operator|admin [--tenant TENANT] [--expires ISO-TIME]
  keys ls               List API keys (a tenant admin: its tenant's)
  keys revoke ID|NAME   Revoke an API key
  keys rotate ID|NAME   New secret for a key; the old one works for --grace SECONDS more (default 86400)
                        (keys …: through the API with an admin HANGAR_API_KEY, or --local on this
                        machine's data directory, which is how the first admin key is made)
  tenants ls            Tenants with their use and quotas (system admin key)
  tenants create NAME   New tenant [--description TEXT] [--quota models=5 --quota ram_mb=4096 …]
  tenants show NAME     Quotas and current use
  tenants set NAME      Change [--description TEXT] [--quota NAME=LIMIT|NAME=none …]
  tenants rm NAME       Delete an empty tenant

Options:
  --json                Print the server's JSON instead of a table
  --url URL             Server to talk to (default: $HANGAR_URL or http://127.0.0.1:8001)
  --api-key KEY         API key to send (default: $HANGAR_API_KEY)
  -h, --help            Show this help`;

interface CommonFlags {
  json: boolean;
  client: HangarStreamClient;
  print: (text: string) => void;
}

async function serve(): Promise<number> {
  const { startServer } = await import('../server.ts');
  let server: RunningServer;
  try {
    server = await startServer();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`hangar: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const running = server;
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      running.ctx.logger.info({ signal }, 'shutting down');
      running.close().then(resolve, (error: unknown) => {
        running.ctx.logger.error({ err: error }, 'shutdown failed');
        resolve();
      });
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  return 0;
}

async function list(flags: CommonFlags, name: string | undefined): Promise<void> {
  const query = name ? `?name=${encodeURIComponent(name)}&limit=1000` : '?limit=1000';
  const result = await flags.client.request<{ models: ModelSummary[] }>('GET', `/api/v1/models${query}`);
  if (flags.json) return flags.print(JSON.stringify(result, null, 2));
  const rows = result.models.map((m) => [
    m.name,
    String(m.version_count),
    m.production_version === null ? String(m.latest_version ?? '-') : `${m.production_version} (production)`,
    m.format ?? '-',
    formatBytes(m.size_bytes),
    m.quantization ?? '-',
    m.architecture ?? '-',
  ]);
  flags.print(formatTable(['NAME', 'VERSIONS', 'CURRENT', 'FORMAT', 'SIZE', 'QUANT', 'ARCH'], rows));
}

async function importModel(flags: CommonFlags, name: string, source: string): Promise<void> {
  const version = await flags.client.request<VersionInfo>('POST', '/api/v1/models/import', { name, path: path.resolve(source) });
  if (flags.json) return flags.print(JSON.stringify(version, null, 2));
  flags.print(
    `Imported ${version.model} version ${version.version} (${version.format}, ${formatBytes(version.size_bytes)}, ` +
      `${version.manifest.files.length} file${version.manifest.files.length === 1 ? '' : 's'})`,
  );
}

async function remove(flags: CommonFlags, name: string, force: boolean): Promise<void> {
  const result = await flags.client.request<DeleteResult>('DELETE', `/api/v1/models/${modelPath(name)}${force ? '?force=true' : ''}`);
  if (flags.json) return flags.print(JSON.stringify(result, null, 2));
  flags.print(
    `Deleted ${result.deleted}: ${result.versions_removed} version(s), ${result.blobs_removed} file(s), ${formatBytes(result.bytes_freed)} freed`,
  );
}

async function jobs(flags: CommonFlags): Promise<void> {
  const result = await flags.client.request<{ jobs: JobInfo[] }>('GET', '/api/v1/jobs?limit=100');
  if (flags.json) {
    flags.print(JSON.stringify(result, null, 2));
    return;
  }
  flags.print(
    formatTable(
      ['ID', 'KIND', 'STATUS', 'REPO', 'VARIANT', 'MODEL', 'DONE', 'SIZE', 'CREATED'],
      result.jobs.map((j) => [
        j.id.slice(0, 8),
        j.kind,
        j.status,
        j.repo_id,
        j.variant,
        j.model,
        `${j.progress.percent}%`,
        formatBytes(j.progress.bytes_total),
        j.created_at.slice(0, 19),
      ]),
    ),
  );
}

/** The first `count` positional arguments; a usage error (exit 2) when fewer were given. */
function need(args: string[], count: 1, usage: string): [string];
function need(args: string[], count: 2, usage: string): [string, string];
function need(args: string[], count: number, usage: string): string[] {
  if (args.length < count) throw new CliError(`usage: hangar ${usage}`, 2);
  return args.slice(0, count);
}

/** The command line with every flag any command takes; throws on an unknown flag or a missing flag value. */
function parseCommandLine(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      url: { type: 'string' },
      name: { type: 'string' },
      all: { type: 'boolean', default: false },
      pin: { type: 'boolean', default: false },
      'keep-alive': { type: 'string' },
      device: { type: 'string' },
      threads: { type: 'string' },
      'context-size': { type: 'string' },
      'max-tokens': { type: 'string' },
      'api-key': { type: 'string' },
      role: { type: 'string' },
      expires: { type: 'string' },
      tenant: { type: 'string' },
      grace: { type: 'string' },
      description: { type: 'string' },
      quota: { type: 'string', multiple: true },
      local: { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      reason: { type: 'string' },
      metric: { type: 'string' },
      force: { type: 'boolean', default: false },
      repair: { type: 'boolean', default: false },
      variant: { type: 'string' },
      revision: { type: 'string' },
      version: { type: 'string' },
      quantization: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

/** Runs one CLI invocation; returns the exit code. */
export async function main(argv: string[], print: (text: string) => void = (t) => process.stdout.write(`${t}\n`)): Promise<number> {
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv);
  } catch (error) {
    process.stderr.write(`hangar: ${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const [command, ...args] = parsed.positionals;
  if (!command || parsed.values.help) {
    print(USAGE);
    return command || parsed.values.help ? 0 : 2;
  }
  const flags: CommonFlags = {
    json: parsed.values.json ?? false,
    client: new HangarStreamClient(
      parsed.values.url ?? process.env.HANGAR_URL ?? 'http://127.0.0.1:8001',
      parsed.values['api-key'] ?? process.env.HANGAR_API_KEY,
    ),
    print,
  };
  // One context serves every command module; each takes the fields it needs.
  const context = {
    client: flags.client,
    json: flags.json,
    print,
    write: (text: string) => process.stdout.write(text),
    local: parsed.values.local ?? false,
  };
  try {
    switch (command) {
      case 'serve':
        return await serve();
      case 'ls':
        await list(flags, parsed.values.name);
        return 0;
      case 'import': {
        const [name, source] = need(args, 2, 'import NAME PATH');
        await importModel(flags, name, source);
        return 0;
      }
      case 'rm': {
        const [name] = need(args, 1, 'rm NAME [--force]');
        await remove(flags, name, parsed.values.force ?? false);
        return 0;
      }
      case 'ps':
        await runtimeCommands.ps(context, parsed.values.all ?? false);
        return 0;
      case 'load': {
        const [name] = need(args, 1, 'load NAME [--pin] [--keep-alive 10m]');
        await runtimeCommands.load(context, name, {
          pin: parsed.values.pin,
          keepAlive: parsed.values['keep-alive'],
          device: parsed.values.device,
          threads: parsed.values.threads,
          contextSize: parsed.values['context-size'],
          quantization: parsed.values.quantization,
        });
        return 0;
      }
      case 'unload': {
        const [name] = need(args, 1, 'unload NAME');
        await runtimeCommands.unload(context, name);
        return 0;
      }
      case 'embed': {
        const [name] = need(args, 2, 'embed NAME TEXT...');
        await runtimeCommands.embed(context, name, args.slice(1));
        return 0;
      }
      case 'run': {
        const [name] = need(args, 2, 'run NAME PROMPT');
        const maxTokens = parsed.values['max-tokens'];
        if (maxTokens !== undefined && !/^[0-9]+$/.test(maxTokens)) throw new CliError('--max-tokens takes a whole number', 2);
        await runtimeCommands.run(context, name, args.slice(1).join(' '), maxTokens === undefined ? undefined : Number(maxTokens));
        return 0;
      }
      case 'versions': {
        const [name] = need(args, 1, 'versions NAME');
        await registryCommands.versions(context, name);
        return 0;
      }
      case 'promote': {
        const [name, version] = need(args, 2, 'promote NAME VERSION [--reason TEXT]');
        await registryCommands.promote(context, name, version, parsed.values.reason);
        return 0;
      }
      case 'rollback': {
        const [name] = need(args, 1, 'rollback NAME [--reason TEXT]');
        await registryCommands.rollback(context, name, parsed.values.reason);
        return 0;
      }
      case 'history': {
        const [name] = need(args, 1, 'history NAME');
        await registryCommands.history(context, name);
        return 0;
      }
      case 'compare': {
        const [name] = need(args, 1, 'compare NAME V1 V2... [--metric NAME]');
        await registryCommands.compare(context, name, args.slice(1), parsed.values.metric);
        return 0;
      }
      case 'pull':
        return await pull(context, args[0], {
          variant: parsed.values.variant,
          revision: parsed.values.revision,
          name: parsed.values.name,
          force: parsed.values.force ?? false,
          tty: process.stdout.isTTY === true,
        });
      case 'quantize':
        return await quantize(context, args[0], args[1], {
          version: parsed.values.version,
          name: parsed.values.name,
          tty: process.stdout.isTTY === true,
        });
      case 'jobs':
        await jobs(flags);
        return 0;
      case 'validate': {
        const [name] = need(args, 1, 'validate NAME [--repair]');
        return await integrityCommands.validate(context, name, parsed.values.repair ?? false);
      }
      case 'top':
        await monitorCommands.top(context, parsed.values.once ?? false);
        return 0;
      case 'gpu':
        await monitorCommands.gpu(context);
        return 0;
      case 'keys':
        await keyCommands(context, args, {
          role: parsed.values.role,
          expires: parsed.values.expires,
          tenant: parsed.values.tenant,
          grace: parsed.values.grace,
        });
        return 0;
      case 'tenants':
        await tenantCommands(context, args, { description: parsed.values.description, quota: parsed.values.quota });
        return 0;
      default:
        throw new CliError(`unknown command "${command}"\n${USAGE}`, 2);
    }
  } catch (error) {
    if (error instanceof CliError) {
      process.stderr.write(`hangar: ${error.message}\n`);
      return error.exitCode;
    }
    throw error;
  }
}
