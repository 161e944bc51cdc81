/** Shares one in-flight promise between concurrent callers asking for the same key. */
export class SingleFlight<T> {
  private readonly inFlight = new Map<string, Promise<T>>();

  /** Whether work for `key` is under way. */
  has(key: string): boolean {
    return this.inFlight.has(key);
  }

  run(key: string, work: () => Promise<T>): Promise<T> {
    let promise = this.inFlight.get(key);
    if (!promise) {
      promise = work().finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, promise);
    }
    return promise;
  }
}
