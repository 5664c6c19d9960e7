// Runs async critical sections one at a time (e.g. "copy blobs + commit" vs "find unreferenced blobs + delete").

export class SerialLock {
  private tail: Promise<unknown> = Promise.resolve();

  /** Runs `task` after every task queued before it has settled. */
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
