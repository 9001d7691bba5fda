// AssemblyScript's `env.abort(message, file, line, column)`: the one host service flight software may
// import besides the bus (docs/abi.md). asc calls it on a failed `assert` and on its runtime checks, with
// pointers to two strings in the module's memory; the core throws AbortCalled from it, and the message,
// file, line and column are read here with @assemblyscript/loader's own string reader, so that the
// wording is the loader's ("abort: quaternion not unit at assembly/estimator.ts:88:5").

/** What AssemblyScript's `abort(message, file, line, column)` said, decoded from the core's memory. */
export interface AbortReport {
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** An abort in words, as AssemblyScript's loader words it: "abort: quaternion not unit at assembly/estimator.ts:88:5". */
export function describeAbort(report: AbortReport): string {
  return `abort: ${report.message} at ${report.file}:${report.line}:${report.column}`;
}

export const ABORT_MODULE = 'env';
export const ABORT_IMPORT = 'abort';
export const ABORT_SIGNATURE = '(i32, i32, i32, i32) -> ()';

/** Characters of a decoded string kept: an upset that enlarged a string's length field must not flood a report. */
const MAX_STRING_LENGTH = 200;

/**
 * One of abort's strings, as the loader's `__getString` reads it (its runtime header says it is a string,
 * UTF-16 of the length the header gives). An upset may have struck the pointer, the header or the text:
 * what the loader refuses reads as a placeholder naming the address, never as the tool's own error.
 */
function readString(getString: (pointer: number) => string | null, pointer: number): string {
  let text: string | null;
  try {
    text = getString(pointer >>> 0);
  } catch {
    return `<unreadable string at ${pointer >>> 0}>`;
  }
  if (text === null) return '<null>';
  return text.length > MAX_STRING_LENGTH ? `${text.slice(0, MAX_STRING_LENGTH)}…` : text;
}

/** abort's arguments, decoded from the core's memory with the loader's string reader. */
export function decodeAbort(getString: (pointer: number) => string | null, message: number, file: number, line: number, column: number): AbortReport {
  return { message: readString(getString, message), file: readString(getString, file), line: line >>> 0, column: column >>> 0 };
}
