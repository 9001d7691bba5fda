// An exclusive lock on a file that a run appends to (a campaign's results), so that two runs never write
// one file: the second is refused with the first one's process id. The lock is a file beside the target
// (`results.jsonl.lock`) created exclusively and holding its owner's process id, host and start time.
// A lock whose owner died (killed, out of memory) is taken over at once when the owner was on this host
// and its process is gone; on another host (a shared file system) it must be removed by hand, as the
// message says. Not proper-lockfile: it keeps a lock alive by refreshing its time from the event loop,
// which a campaign's computing thread does not visit for seconds at a time, and it declares a lock stale
// only after a delay, where a dead local owner can be known dead at once.
import { closeSync, linkSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { OutputError } from './files.js';

interface Owner {
  readonly pid: number;
  readonly host: string;
  readonly since: string;
}

/** How long a half-written lock file (its owner between create and write) is given before it counts as stale. */
const HALF_WRITTEN_GRACE_MS = 5_000;
/** Attempts to take a lock whose owner is gone: another run may be taking it over at the same moment. */
const ATTEMPTS = 5;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): Owner | null | 'gone' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const owner = JSON.parse(text) as Owner;
    return Number.isInteger(owner.pid) && typeof owner.host === 'string' ? owner : null;
  } catch {
    return null;
  }
}

export class FileLock {
  private released = false;

  private constructor(
    readonly target: string,
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of `target` for this process, or refuses naming the run that holds it. */
  static acquire(target: string): FileLock {
    const path = `${target}.lock`;
    const owner: Owner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    const token = JSON.stringify(owner);
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      let fd: number;
      try {
        fd = openSync(path, 'wx');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EEXIST') throw new OutputError(`${target}: cannot be locked for writing (${path}: ${code ?? (error as Error).message})`);
        FileLock.breakIfStale(target, path);
        continue;
      }
      try {
        writeSync(fd, token);
      } finally {
        closeSync(fd);
      }
      return new FileLock(target, path, token);
    }
    throw new OutputError(`${target}: another lockstep run keeps taking its lock (${path}); run one at a time`);
  }

  /** Removes a lock whose owner is gone; refuses, naming the owner, if it is alive or cannot be known dead. */
  private static breakIfStale(target: string, path: string): void {
    const owner = readOwner(path);
    if (owner === 'gone') return;
    if (owner === null) {
      // Its owner may be between creating and writing it: only an old half-written lock is stale.
      let age = 0;
      try {
        age = Date.now() - statSync(path).mtimeMs;
      } catch {
        return;
      }
      if (age < HALF_WRITTEN_GRACE_MS) throw new OutputError(`${target}: in use by another lockstep run that is starting (${path}); wait for it`);
    } else if (owner.host !== hostname() || alive(owner.pid)) {
      const where = owner.host === hostname() ? `process ${owner.pid}` : `process ${owner.pid} on host ${owner.host}`;
      throw new OutputError(`${target}: in use by another lockstep run (${where}, since ${owner.since}); wait for it to finish, or remove ${path} if that run is gone`);
    }
    // Renamed away first, so that of two runs breaking it at once only one removes it.
    const aside = `${path}.stale-${process.pid}`;
    try {
      renameSync(path, aside);
    } catch {
      return;
    }
    const moved = readOwner(aside);
    if (moved !== 'gone' && moved !== null && owner !== null && moved.pid !== owner.pid) {
      // Another run took the lock between our read and our rename: give it back (a link never replaces
      // a lock a third run may have made meanwhile).
      try {
        linkSync(aside, path);
      } catch {
        // a third run holds it now
      }
      try {
        unlinkSync(aside);
      } catch {
        // already gone
      }
      return;
    }
    try {
      unlinkSync(aside);
    } catch {
      // already gone
    }
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      if (readFileSync(this.path, 'utf8') === this.token) unlinkSync(this.path);
    } catch {
      // already removed
    }
  }
}
