// A request's streamed text on its way to the server: what arrives within one turn goes as one IPC message, after the step.
/**
 * An IPC message wakes the server process, which on this kind of 2-vCPU VM costs a runner ~0.1-0.3 ms of its main
 * thread. Sent from inside node-llama-cpp's token callback, that time came before the next step was queued, so every
 * token delayed the one after it. Deferred to the event loop's check phase, the next step is already computing
 * natively while the message goes out; tokens that arrive together (several sequences, or a burst) share one message.
 */
export class TokenStream {
  #pending = '';
  #scheduled = false;

  constructor(private readonly send: (text: string) => void) {}

  push(text: string): void {
    if (text.length === 0) return;
    this.#pending += text;
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /** Sends what is pending now: called before the request's final message, so no text ever trails it. */
  flush(): void {
    if (this.#pending.length === 0) return;
    const text = this.#pending;
    this.#pending = '';
    this.send(text);
  }
}
