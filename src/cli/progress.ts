/** A one-line progress bar with throughput on stderr (silent when stderr is not a terminal, unless forced). */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;
  private drewFinal = false;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(done: number, force = false): void {
    if (this.drewFinal) return;
    const now = performance.now();
    if (!force && now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    const fraction = this.total > 0 ? done / this.total : 1;
    const width = 30;
    const filled = Math.round(fraction * width);
    const rate = done / Math.max((now - this.started) / 1000, 1e-9);
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total} ${rate.toFixed(1)}/s`;
    this.drewFinal = done >= this.total;
    if (this.stream.isTTY) this.stream.write(`\r${line}${this.drewFinal ? '\n' : ''}`);
    else if (this.drewFinal) this.stream.write(`${line}\n`);
  }

  finish(): void {
    this.update(this.total, true);
  }
}
