// The replicated persistent store, as DRBD mirrors a block device: the flight software's persistent
// region (docs/abi.md#the-persistent-region) is mirrored into the other processor's non-volatile memory
// over the cross-strap link, written by the primary after its cores agreed on it, so that a cold spare
// boots with the region the primary last wrote instead of the initial image. Protocol C (sync): a
// cycle's commands are released only once the replica has acknowledged the cycle's write, and the
// transfer is charged to that cycle. Protocol A (async): the write is sent when the commands are ready
// and not waited for; what is still in flight when the primary is reset at a failover is lost.
// The replica carries a CRC-32 of the region, sent with every write: a cold boot checks it and falls back
// to the initial image on a mismatch, and every epoch's end checks it and resends the region (the
// replica's scrub), so that an upset in the replica is never booted from unseen.
// The store shares the flight computer's one cross-strap link (its account, its period) with the
// checkpoint commits and reintegrations. When a hot spare fails over, the replica's new home is the failed
// processor, reset: the store is detached (nothing replicated, nothing waited for: there is no replica to
// acknowledge) until the reintegration, whose rounds carry the region, attaches it again.
import type { PersistentRegion } from '../abi/persistent-region.js';
import { CrossStrapLink, transferSeconds, type LinkConfig } from './link.js';

/** sync: DRBD's protocol C; async: protocol A; off: nothing replicated, a cold spare boots from the initial image. */
export const REPLICATION_MODES = ['sync', 'async', 'off'] as const;
export type ReplicationMode = (typeof REPLICATION_MODES)[number];

/** A write on the link: its offset and length in the region, then the bytes, then the region's CRC-32. */
export const WRITE_HEADER_BYTES = 8;
export const CHECKSUM_BYTES = 4;

/** Bytes of the replica: the region, then its checksum (what a replica fault can strike). */
export function replicaBytes(region: PersistentRegion): number {
  return region.length + CHECKSUM_BYTES;
}

/** Bytes on the link to send `length` bytes of the region in one write. */
export function writeBytes(length: number): number {
  return WRITE_HEADER_BYTES + length + CHECKSUM_BYTES;
}

/**
 * Modelled seconds protocol C adds before a failover's commands are released: a cold spare's new primary
 * resends the whole region to the processor that failed (its replica now lives there). Protocol A waits
 * for nothing, nor does a hot spare's failover: its failed processor gets the region with its
 * reintegration, after the commands. The flight computer and the campaign runner both charge a failover
 * with this.
 */
export function failoverReplicationSeconds(link: LinkConfig, mode: ReplicationMode, region: PersistentRegion | null, spare: 'hot' | 'cold' | 'none'): number {
  return region && mode === 'sync' && spare === 'cold' ? transferSeconds(link, writeBytes(region.length)) : 0;
}

/**
 * Why protocol A cannot keep up on this link — a whole-region write takes longer than a control period,
 * so writes would queue without end — or null when it can.
 */
export function asyncLinkProblem(link: LinkConfig, region: PersistentRegion, controlPeriod: number): string | null {
  const seconds = transferSeconds(link, writeBytes(region.length));
  if (seconds <= controlPeriod) return null;
  return `a write of the whole persistent region (${writeBytes(region.length)} bytes) takes ${(seconds * 1000).toFixed(3)} ms on the link, longer than the ${controlPeriod * 1000} ms control period: asynchronous replication would never catch up (use sync, or a faster link)`;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE 802.3): finds every burst of up to 32 flipped bits, and any single flip. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A write sent under protocol A that has not reached the replica yet. */
interface InFlight {
  readonly arrivesAt: number;
  readonly start: number;
  readonly bytes: Uint8Array;
  readonly checksum: number;
}

/** At most this many writes in flight: a link too slow for one write per period is refused up front. */
const MAX_IN_FLIGHT = 64;

export interface ReplicaAccount {
  /** Writes sent (cycles whose region changed), resyncs and repairs included. */
  writes: number;
  /** Bytes sent for the store. */
  bytes: number;
  /** Scrubs and boots that found the replica's checksum wrong. */
  checksumFailures: number;
  /** Writes lost in flight (protocol A) when the primary was reset. */
  lostWrites: number;
  /** Cold boots from the replica, and from the initial image because its checksum failed. */
  bootsFromReplica: number;
  bootsFromInitialImage: number;
}

export class PersistentStore {
  /** The replica at the other processor: the region's bytes, then their CRC-32 (little-endian). */
  readonly replica: Uint8Array;
  /** The replica's bytes as words, for its checksum (made once: checksums are read and written every cycle). */
  private readonly replicaView: DataView;
  /** The primary's record of what it sent: each cycle's write is the difference from it. */
  private readonly sent: Uint8Array;
  private readonly inFlight: InFlight[] = [];
  /** When the link is free again for the next async write, s of mission time. */
  private linkFreeAt = 0;
  /** False while the replica's processor is being reintegrated (reset, it holds no replica yet). */
  private isAttached = true;
  readonly account: ReplicaAccount = { writes: 0, bytes: 0, checksumFailures: 0, lostWrites: 0, bootsFromReplica: 0, bootsFromInitialImage: 0 };

  /**
   * @param initialImage the module's memory at instantiation: both copies start as its region, as if the
   *   first boot had written it.
   */
  constructor(
    readonly region: PersistentRegion,
    readonly mode: Exclude<ReplicationMode, 'off'>,
    readonly link: CrossStrapLink,
    initialImage: Uint8Array,
  ) {
    this.replica = new Uint8Array(replicaBytes(region));
    this.replicaView = new DataView(this.replica.buffer, this.replica.byteOffset, this.replica.byteLength);
    this.sent = new Uint8Array(region.length);
    this.sent.set(initialImage.subarray(region.offset, region.offset + region.length));
    this.replica.set(this.sent);
    this.storeChecksum(crc32(this.sent));
  }

  get length(): number {
    return this.region.length;
  }

  /** Whether the replica has a home: false while a hot spare's failed processor is being reintegrated. */
  get attached(): boolean {
    return this.isAttached;
  }

  private storeChecksum(checksum: number): void {
    this.replicaView.setUint32(this.region.length, checksum, true);
  }

  private storedChecksum(): number {
    return this.replicaView.getUint32(this.region.length, true);
  }

  /** Whether the replica's bytes match the checksum written with them. */
  verify(): boolean {
    return crc32(this.replica, 0, this.region.length) === this.storedChecksum();
  }

  /**
   * Sends what the agreed primary wrote into the region this cycle (from its first to its last changed
   * byte) at mission time `now`. Returns the seconds its commands must wait for the replica: the
   * transfer under protocol C, nothing under protocol A (or when nothing changed).
   */
  replicate(memory: Uint8Array, now: number): number {
    if (!this.isAttached) return 0;
    const { offset, length } = this.region;
    const sent = this.sent;
    let first = 0;
    while (first < length && memory[offset + first] === sent[first]) first++;
    if (first === length) return 0;
    let last = length - 1;
    while (memory[offset + last] === sent[last]) last--;
    for (let i = first; i <= last; i++) sent[i] = memory[offset + i];
    return this.send(first, last + 1, now);
  }

  /** Sends the whole region (after a swap of roles, or to repair the replica). */
  resend(now: number): number {
    return this.send(0, this.region.length, now);
  }

  /** Takes the primary's region as sent, without sending it (the new primary after a failover). */
  adopt(memory: Uint8Array): void {
    this.sent.set(memory.subarray(this.region.offset, this.region.offset + this.region.length));
  }

  /** A hot spare's failover: the replica's processor was reset and is reintegrated; until then, no replica. */
  detach(memory: Uint8Array): void {
    this.adopt(memory);
    this.isAttached = false;
  }

  /**
   * The reintegration is done and its last round carried the region (its bytes are the reintegration's):
   * the replica is the primary's region again, with its checksum.
   */
  attach(memory: Uint8Array): void {
    this.adopt(memory);
    this.inFlight.length = 0;
    this.replica.set(this.sent);
    this.storeChecksum(crc32(this.sent));
    this.isAttached = true;
  }

  private send(start: number, end: number, now: number): number {
    const seconds = this.link.send(writeBytes(end - start));
    this.account.writes++;
    this.account.bytes += writeBytes(end - start);
    const checksum = crc32(this.sent);
    if (this.mode === 'sync') {
      this.replica.set(this.sent.subarray(start, end), start);
      this.storeChecksum(checksum);
      return seconds;
    }
    // Protocol A: writes leave one after another when the link is free, and land in order.
    const arrivesAt = Math.max(now, this.linkFreeAt) + seconds;
    this.linkFreeAt = arrivesAt;
    this.inFlight.push({ arrivesAt, start, bytes: this.sent.slice(start, end), checksum });
    // A region written whole every period fits the link (checked at setup: asyncLinkProblem), so the
    // queue holds a write or two; more would be a link that never catches up.
    if (this.inFlight.length > MAX_IN_FLIGHT) throw new Error(`persistent store: ${MAX_IN_FLIGHT} writes in flight, the link never catches up`);
    return 0;
  }

  /** Lands the async writes that have arrived by mission time `now`. */
  deliver(now: number): void {
    let landed = 0;
    while (landed < this.inFlight.length && this.inFlight[landed].arrivesAt <= now) {
      const write = this.inFlight[landed++];
      this.replica.set(write.bytes, write.start);
      this.storeChecksum(write.checksum);
    }
    if (landed > 0) this.inFlight.splice(0, landed);
  }

  /** The primary is reset at `now` (a failover): the async writes still in flight are lost. */
  senderReset(now: number): void {
    this.deliver(now);
    this.account.lostWrites += this.inFlight.length;
    this.inFlight.length = 0;
    this.linkFreeAt = now;
  }

  /**
   * The replica's scrub at an epoch's end: its checksum is checked and, when wrong (an upset struck it),
   * the region resent whole. Returns the seconds protocol C waits for that repair.
   */
  scrub(now: number): number {
    if (!this.isAttached) return 0;
    this.deliver(now);
    if (this.verify()) return 0;
    this.account.checksumFailures++;
    return this.resend(now);
  }

  /**
   * What a cold spare booting at mission time `now` loads into its region before `init`: the replica when
   * its checksum holds; null (boot from the initial image) when it does not.
   */
  bootImage(now: number): Uint8Array | null {
    this.deliver(now);
    if (!this.verify()) {
      this.account.checksumFailures++;
      this.account.bootsFromInitialImage++;
      return null;
    }
    this.account.bootsFromReplica++;
    return this.replica.subarray(0, this.region.length);
  }
}
