// Confirms a delete; when the API refuses because the model is loaded (409 model_loaded) it offers to force it.
import { ApiError } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useDeleteModel } from './actions.ts';
import { Modal } from './Modal.tsx';

export function DeleteDialog({ name, onClose }: { name: string; onClose: () => void }) {
  const deletion = useDeleteModel(name);
  const refusedWhileLoaded = deletion.error instanceof ApiError && deletion.error.code === 'model_loaded';
  const remove = (force: boolean) => deletion.mutate(force, { onSuccess: onClose });
  return (
    <Modal title={`Delete ${name}?`} onClose={onClose}>
      <p>Every version of {name} is deleted, with the stored files no other model uses. This cannot be undone.</p>
      <ErrorNote error={deletion.error} />
      <div className="dialog-buttons">
        {refusedWhileLoaded ? (
          <button type="button" className="danger" disabled={deletion.isPending} onClick={() => remove(true)}>
            {deletion.isPending ? 'Deleting…' : 'Unload and delete'}
          </button>
        ) : (
          <button type="button" className="danger" disabled={deletion.isPending} onClick={() => remove(false)}>
            {deletion.isPending ? 'Deleting…' : 'Delete'}
          </button>
        )}
        <button type="button" className="secondary" onClick={onClose}>
          Cancel
        </button>
      </div>
    </Modal>
  );
}
