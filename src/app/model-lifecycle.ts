// Use cases that add and remove models: import a local artifact, pull from the hub, and delete (release from the runtime, delete, cancel downloads).
import type { DownloadJobs } from '../hub/download-jobs.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { ImportOptions, ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import type { DownloadRequest } from '../schemas/hub.ts';
import type { DeleteResult, VersionInfo } from '../schemas/models.ts';
import { ServiceUnavailable } from '../errors.ts';
import { qualifiedName } from '../tenants/tenant-names.ts';
import { assertTenantMayImport } from '../tenants/import-roots.ts';
import type { OllamaModels } from './ollama-models.ts';

export class ModelLifecycle {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly runtime: ModelRuntime,
    private readonly jobs: DownloadJobs,
    private readonly ollama?: OllamaModels,
    /** HANGAR_TENANT_IMPORT_ROOTS, read on each import (it may change live). */
    private readonly tenantImportRoots: () => string = () => '',
  ) {}

  /**
   * Imports a local folder or file as the next version of `name` (audited with the catalog change). Server paths are
   * the operator's: a tenant's caller imports only from the folders HANGAR_TENANT_IMPORT_ROOTS names for it.
   */
  async importVersion(options: ImportOptions, context: ActionContext): Promise<VersionInfo> {
    if (context.tenant) await assertTenantMayImport(options.path, context.tenant, this.tenantImportRoots());
    return this.catalog.importVersion(options, context);
  }

  /**
   * Starts (or joins) a hub download job; the version is created when every file is verified. `source: "ollama"` pulls
   * `repo_id` as an Ollama library name through the first OLLAMA_BASE_URL server instead (a job of kind ollama_pull).
   */
  async pull(request: DownloadRequest, context: ActionContext): ReturnType<DownloadJobs['submit']> {
    if (request.source === 'ollama') {
      if (!this.ollama) throw new ServiceUnavailable('The Ollama backend is not available in this server', {}, 'service_unavailable');
      const { job, deduplicated } = await this.ollama.pullFromOllama(request.repo_id, context);
      return { job, deduplicated };
    }
    // The name defaults to the repo id, in the caller's tenant (a name it sent was qualified on the way in).
    const named =
      request.name === undefined && context.tenant ? { ...request, name: qualifiedName(context.tenant, request.repo_id) } : request;
    return this.jobs.submit(named, context);
  }

  /**
   * Deletes a model (or with `name:ref` one version). While the runtime holds it the answer is 409
   * model_loaded, unless `force` unloads it first; a whole model takes its unfinished downloads with it.
   */
  async delete(nameRef: string, force: boolean, context: ActionContext): Promise<DeleteResult> {
    const ref = parseModelRef(nameRef);
    // Resolves first so an unknown model or version answers 404, not 409.
    const versionId = ref.ref === undefined ? null : (await this.catalog.resolve(nameRef)).version.id;
    await this.runtime.releaseForDelete(ref.name, versionId, force);
    // A model an Ollama server holds goes there first (else the next sync would bring it back).
    if (this.ollama && (await this.ollama.isOllamaModel(ref.name))) await this.ollama.deleteOnServer(nameRef);
    // Its jobs stop first: a quantization must not read files being deleted, nor bring the model back by finishing.
    if (ref.ref === undefined) await this.jobs.cancelForModel(ref.name);
    return this.catalog.deleteModel(nameRef, context);
  }
}
