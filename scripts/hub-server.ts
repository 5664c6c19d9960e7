// CLI: serves the fixture repos (and any folders) as a local Hugging Face hub: tsx scripts/hub-server.ts [--port 8900] [--token T] [--fixtures DIR] [--repo org/name=PATH]...
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeHubFixtureRepos, repoFromFolder } from './lib/hub-repos.ts';
import { startHubServer, type HubRepoSpec } from './lib/hub-server.ts';

const USAGE = `usage: tsx scripts/hub-server.ts [options]
  --port N               port to listen on (default 8900; 0 picks a free one)
  --token T              the one valid access token (default hf_hangar_test_token)
  --fixtures DIR         where the fixture repos are written or reused (default: <tmp>/hangar-hub-fixtures)
  --no-fixtures          serve only the --repo folders
  --repo org/name=PATH   also serve a folder as a repo (repeatable)
  --private org/name     mark a repo private (repeatable)
  --gated org/name       mark a repo gated (repeatable)
  --page-size N          tree entries per page (default 1000)
  --bytes-per-second N   throttle resolve bodies (per response)
`;

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8900' },
    token: { type: 'string' },
    fixtures: { type: 'string' },
    'no-fixtures': { type: 'boolean', default: false },
    repo: { type: 'string', multiple: true, default: [] },
    private: { type: 'string', multiple: true, default: [] },
    gated: { type: 'string', multiple: true, default: [] },
    'page-size': { type: 'string' },
    'bytes-per-second': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

const specs: HubRepoSpec[] = [];
if (!values['no-fixtures']) {
  const dir = path.resolve(values.fixtures ?? path.join(os.tmpdir(), 'hangar-hub-fixtures'));
  specs.push(...(await makeHubFixtureRepos(dir)));
}
for (const arg of values.repo) {
  const eq = arg.indexOf('=');
  if (eq < 0) {
    process.stderr.write(`--repo needs org/name=PATH, got ${arg}\n${USAGE}`);
    process.exit(2);
  }
  specs.push(await repoFromFolder(arg.slice(0, eq), path.resolve(arg.slice(eq + 1))));
}
for (const spec of specs) {
  if (values.private.includes(spec.id)) spec.private = true;
  if (values.gated.includes(spec.id)) spec.gated = true;
}

const hub = await startHubServer({
  port: Number(values.port),
  token: values.token,
  pageSize: values['page-size'] ? Number(values['page-size']) : undefined,
  bytesPerSecond: values['bytes-per-second'] ? Number(values['bytes-per-second']) : undefined,
});
for (const spec of specs) {
  const sha = await hub.addRepo(spec);
  const flags = [spec.private ? 'private' : '', spec.gated ? 'gated' : ''].filter(Boolean).join(', ');
  process.stdout.write(`  ${spec.id} @ ${sha} (${spec.files.length} files${flags ? `, ${flags}` : ''})\n`);
}
process.stdout.write(`hub listening on ${hub.url} (token ${hub.token}); HF_ENDPOINT=${hub.url}\n`);

const stop = (): void => {
  hub.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
