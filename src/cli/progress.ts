// A live progress line for terminals: rewritten in place at most ten times a second, and silent when
// stderr is not a terminal (CI logs, pipes) so that output stays clean and deterministic there.
export class ProgressLine {
  private lastWrite = 0;
  private readonly active: boolean;
  private shown = false;

  constructor(enabled: boolean, private readonly stream: NodeJS.WriteStream = process.stderr) {
    this.active = enabled && Boolean(stream.isTTY);
  }

  update(text: string): void {
    if (!this.active) return;
    const now = Date.now();
    if (now - this.lastWrite < 100) return;
    this.lastWrite = now;
    this.stream.write(`\r\x1b[2K${text}`);
    this.shown = true;
  }

  done(): void {
    if (this.active && this.shown) this.stream.write('\r\x1b[2K');
  }
}
