// How a misbehaving 42 (or whatever answers on its port) is reported: one error class, one kind per way
// the peer can fail, and a message of one line naming the message being exchanged and what went wrong.
// A bad peer is not a bug of lockstep, so none of these carries a stack worth showing; the command line
// prints the message and exits with its own code (src/cli/errors.ts).

/**
 * - `refused`: nothing accepted a connection within the connect window;
 * - `timeout`: no byte of an expected message arrived within the read timeout;
 * - `short`: a message began but stopped short, and the rest did not come within the read timeout;
 * - `closed`: the peer closed (or reset) the connection in the middle of the exchange;
 * - `sizes`: the array sizes are absurd (negative, or more of one kind than lockstep accepts);
 * - `lengths`: the buffer lengths are absurd, or disagree with the array sizes (another protocol);
 * - `table`: the table parameters contradict the array sizes sent before them;
 * - `ack`: the acknowledgement was not the 4 bytes `Ack\0`;
 * - `excess`: the peer sent more than the message while it should have been waiting for our reply.
 */
export type AcProtocolErrorKind = 'refused' | 'timeout' | 'short' | 'closed' | 'sizes' | 'lengths' | 'table' | 'ack' | 'excess';

export class AcProtocolError extends Error {
  constructor(
    readonly kind: AcProtocolErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'AcProtocolError';
  }
}
