/** Bounds how many runs proceed at once. */
export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private limit: number) {}

  /** Changes the limit: a larger one lets waiting runs in now; a smaller one takes effect as runs end. */
  resize(limit: number): void {
    this.limit = limit;
    while (this.active < this.limit && this.waiting.length > 0) {
      this.active++;
      this.waiting.shift()!();
    }
  }

  async acquire(): Promise<void> {
    if (this.active < this.limit) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.active <= this.limit ? this.waiting.shift() : undefined;
    if (next) next();
    else this.active--;
  }
}
