// Delivering one commit over the cross-strap link: the encoded stream is sent, whatever the link did to
// it in transit is what the receiver checks, and the receiver asks for the rest again from the first
// record that failed (go-back-N) until the whole commit is in. A commit nothing can strike arrives as
// sent, and is taken without decoding (applyIntact). Bounded: only the first transmission can
// be struck (one fault per strike), so a commit still failing after a few sends is a broken model, and
// says so rather than spinning.
import type { Checkpoint } from './checkpoint.js';
import type { CheckpointStreamWriter } from './checkpoint-stream.js';
import type { CrossStrapLink } from './link.js';

/** Transmissions of one commit before giving up: the first, and resends after it. */
export const MAX_TRANSMISSIONS = 4;

export interface Delivery {
  /** Bytes put on the link, resends included. */
  bytes: number;
  /** Modelled seconds on the link. */
  seconds: number;
  /** Transmissions after the first: a flipped bit caught by a record's check. */
  resends: number;
}

/**
 * Sends the commit `writer` holds to `checkpoint` (the spare's copy) through `received`, the receiver's
 * buffer; `inTransit` may flip bits of the first transmission as it crosses.
 */
export function deliverCommit(
  checkpoint: Checkpoint,
  writer: CheckpointStreamWriter,
  received: Uint8Array,
  link: CrossStrapLink,
  inTransit: ((bytes: Uint8Array, length: number) => void) | null,
  delivery: Delivery,
): Delivery {
  const length = writer.length;
  let from = 0;
  delivery.bytes = 0;
  delivery.seconds = 0;
  delivery.resends = 0;
  if (!inTransit) {
    delivery.bytes = length;
    delivery.seconds = link.send(length);
    checkpoint.receiveIntact(writer);
    return delivery;
  }
  for (let transmission = 0; transmission < MAX_TRANSMISSIONS; transmission++) {
    received.set(writer.bytes.subarray(from, length), from);
    if (transmission === 0 && inTransit) inTransit(received, length);
    delivery.bytes += length - from;
    delivery.seconds += link.send(length - from);
    const result = checkpoint.receive(received, length, from);
    if (result.complete) return delivery;
    from = result.resendFrom;
    delivery.resends++;
  }
  throw new Error(`checkpoint stream: the commit failed its check ${MAX_TRANSMISSIONS} times over the link`);
}
