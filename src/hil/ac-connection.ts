// The TCP connection to 42, bounded everywhere: connecting retries a refused connection for a fixed window
// (42 may still be starting, and listens only at its first flight-software step), every read waits at
// most the read timeout for its whole message, every write at most as long for its flush, and the bytes
// buffered from the peer are capped. A peer that stops talking, talks too much or goes away yields an
// AcProtocolError of its kind, never a hang.
import { connect, type Socket } from 'node:net';
import { AcProtocolError } from './ac-errors.js';

export interface ConnectOptions {
  /** 127.0.0.1 by default: 42 listens on IPv4 only, and `localhost` may resolve to ::1 first. */
  host?: string;
  port: number;
  /** How long refused connections are retried, ms (42 may still be starting). */
  connectWindowMs?: number;
  /** Pause between attempts, ms. */
  retryIntervalMs?: number;
  /** Stops the retries at once (e.g. 42 has exited); the signal's reason is thrown. */
  signal?: AbortSignal;
}

export const DEFAULT_CONNECT_WINDOW_MS = 10_000;
const DEFAULT_RETRY_INTERVAL_MS = 100;
/** Connection errors worth another attempt: nothing listens yet, or the listener is between states. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ECONNABORTED']);

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function attempt(host: string, port: number, timeoutMs: number, signal?: AbortSignal): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const finish = (error: Error | null): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('connect');
      socket.removeAllListeners('error');
      // Until an AcConnection listens, an error only closes the socket (which it will see), never throws.
      socket.on('error', () => {});
      if (error === null) return resolve(socket);
      socket.destroy();
      reject(error);
    };
    const onAbort = (): void => finish(signal?.reason instanceof Error ? signal.reason : new Error(String(signal?.reason)));
    const timer = setTimeout(() => finish(Object.assign(new Error('connection attempt timed out'), { code: 'ETIMEDOUT' })), Math.max(1, timeoutMs));
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.once('error', (error) => finish(error));
  });
}

/** A connected socket, after retrying refused connections for the window; `refused` when none came. */
export async function connectWithRetry(options: ConnectOptions): Promise<Socket> {
  const host = options.host ?? '127.0.0.1';
  const window = options.connectWindowMs ?? DEFAULT_CONNECT_WINDOW_MS;
  const interval = Math.max(1, options.retryIntervalMs ?? DEFAULT_RETRY_INTERVAL_MS);
  const deadline = Date.now() + window;
  let last = 'no attempt';
  // Bounded: each pass waits at least `interval` (or ends at the deadline), so at most window/interval + 1 passes.
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      return await attempt(host, options.port, deadline - Date.now(), options.signal);
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      last = code;
      if (!RETRYABLE.has(code)) {
        throw new AcProtocolError('refused', `cannot connect to 42 at ${host}:${options.port} (${code})`);
      }
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(interval, left), options.signal);
  }
  throw new AcProtocolError(
    'refused',
    `nothing accepted a connection at ${host}:${options.port} within ${(window / 1000).toFixed(1)} s (${last}): is 42 running a spacecraft whose flight software is CFS_FSW (it listens on 10001 + the spacecraft's index)?`,
  );
}

/** Exact-length reads and whole writes on a connected socket, each within the timeout. */
export class AcConnection {
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private ended = false;
  private failure: NodeJS.ErrnoException | null = null;
  private wake: (() => void) | null = null;
  /** Most bytes held from the peer before it counts as flooding (`excess`). */
  maxBuffered: number;

  constructor(
    private readonly socket: Socket,
    private readonly timeoutMs: number,
    maxBuffered: number,
  ) {
    this.maxBuffered = maxBuffered;
    socket.setNoDelay(true); // each message is one write: no Nagle delay between an Ack and the next message
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
      if (this.buffered > this.maxBuffered && this.failure === null) {
        this.failure = Object.assign(new Error('flood'), { code: 'EXCESS' });
        socket.destroy();
      }
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.failure ??= error;
      this.notify();
    });
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    this.chunks.length = 0;
    const message = Buffer.from(all.subarray(0, n));
    if (all.length > n) this.chunks.push(all.subarray(n));
    this.buffered -= n;
    return message;
  }

  private waitFor(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Exactly `n` bytes of `what` (e.g. "the inputs of step 3"), within the timeout. With `endOk`, a peer that
   * closes cleanly before the first byte gives null (42 has finished its run) instead of an error.
   */
  async read(n: number, what: string, { endOk = false } = {}): Promise<Buffer | null> {
    const deadline = Date.now() + this.timeoutMs;
    // Bounded: each pass consumes a wake-up (data, end, error) or ends at the deadline.
    for (;;) {
      if (this.failure?.code === 'EXCESS') {
        throw new AcProtocolError('excess', `42 sent more than ${this.maxBuffered} bytes while lockstep waited for ${what}: not the AC protocol`);
      }
      if (this.buffered >= n) return this.take(n);
      if (this.failure !== null) {
        throw new AcProtocolError('closed', `the connection to 42 failed (${this.failure.code ?? this.failure.message}) after ${this.buffered} of the ${n} bytes of ${what}`);
      }
      if (this.ended) {
        if (this.buffered === 0 && endOk) return null;
        throw new AcProtocolError('closed', `42 closed the connection after ${this.buffered} of the ${n} bytes of ${what}: did it stop or crash?`);
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seconds = (this.timeoutMs / 1000).toFixed(1);
        if (this.buffered === 0) throw new AcProtocolError('timeout', `no byte of ${what} came from 42 within ${seconds} s`);
        throw new AcProtocolError('short', `42 sent ${this.buffered} of the ${n} bytes of ${what}, then nothing for ${seconds} s`);
      }
      await this.waitFor(left);
    }
  }

  /** Refuses bytes beyond a message the peer must now wait on (it sends nothing until we reply). */
  expectQuiet(what: string): void {
    if (this.buffered > 0) throw new AcProtocolError('excess', `42 sent ${this.buffered} bytes beyond ${what} before lockstep's acknowledgement: not the AC protocol`);
  }

  /** Writes all of `bytes`, flushed to the socket within the timeout. */
  async write(bytes: Buffer, what: string): Promise<void> {
    if (this.failure !== null || this.ended || this.socket.destroyed) {
      throw new AcProtocolError('closed', `42 closed the connection before lockstep could send ${what}`);
    }
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new AcProtocolError('timeout', `42 did not take ${what} (${bytes.length} bytes) within ${(this.timeoutMs / 1000).toFixed(1)} s`));
      }, this.timeoutMs);
      this.socket.write(bytes, (error) => {
        clearTimeout(timer);
        if (error) reject(new AcProtocolError('closed', `the connection to 42 failed (${(error as NodeJS.ErrnoException).code ?? error.message}) while lockstep sent ${what}`));
        else resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
