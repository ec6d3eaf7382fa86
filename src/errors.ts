/**
 * Error types that carry a process exit code. Library code throws these; only the CLI turns
 * them into an exit status (usage 2, bad data 65, I/O 74, as in BSD `sysexits.h`).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DataError, EXIT_DATA } from "./errors.ts";
 * const e = new DataError("truncated record", { file: "a.pcap", offset: 40 });
 * ok(e.exitCode === EXIT_DATA);
 * ok(e.message === "a.pcap: byte 40: truncated record");
 * ```
 * @module
 */

/**
 * Exit code for a bad command line.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EXIT_USAGE, UsageError } from "./errors.ts";
 * ok(new UsageError("--x").exitCode === EXIT_USAGE && EXIT_USAGE === 2);
 * ```
 */
export const EXIT_USAGE = 2;
/**
 * Exit code for malformed input data.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DataError, EXIT_DATA } from "./errors.ts";
 * ok(new DataError("bad").exitCode === EXIT_DATA && EXIT_DATA === 65);
 * ```
 */
export const EXIT_DATA = 65;
/**
 * Exit code for an operating-system I/O failure.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { EXIT_IO, IoError } from "./errors.ts";
 * ok(new IoError("gone").exitCode === EXIT_IO && EXIT_IO === 74);
 * ```
 */
export const EXIT_IO = 74;

/** Where in which input a problem was found. */
export interface ErrorLocation {
  /** The input's name as the user gave it (a path, or `-` for stdin). */
  file?: string;
  /** Byte offset in the (decompressed) input at which the problem starts. */
  offset?: number;
  /** 1-based line number, for text inputs. */
  line?: number;
}

function locate(message: string, where: ErrorLocation): string {
  const parts: string[] = [];
  if (where.file !== undefined) parts.push(where.file);
  if (where.offset !== undefined) parts.push(`byte ${where.offset}`);
  if (where.line !== undefined) parts.push(`line ${where.line}`);
  parts.push(message);
  return parts.join(": ");
}

/**
 * Base class: an error with a one-line message and the exit code the CLI should use.
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DarknetError } from "./errors.ts";
 * ok(new DarknetError("x", 3).exitCode === 3);
 * ```
 */
export class DarknetError extends Error {
  /** Process exit code the CLI maps this error to. */
  readonly exitCode: number;
  /** Input the error is about, if any. */
  readonly file?: string;
  /** Byte offset of the problem, if known. */
  readonly offset?: number;
  /** Creates an error with `message` prefixed by its location. */
  constructor(message: string, exitCode: number, where: ErrorLocation = {}) {
    super(locate(message, where));
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.file = where.file;
    this.offset = where.offset;
  }
}

/**
 * The command line is wrong (exit 2).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { UsageError } from "./errors.ts";
 * ok(new UsageError("--top: not a number").exitCode === 2);
 * ```
 */
export class UsageError extends DarknetError {
  /** Creates a usage error. */
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/**
 * Input data is malformed (exit 65).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { DataError } from "./errors.ts";
 * ok(new DataError("bad magic", { file: "x", offset: 0 }).offset === 0);
 * ```
 */
export class DataError extends DarknetError {
  /** Creates a data error at a location. */
  constructor(message: string, where: ErrorLocation = {}) {
    super(message, EXIT_DATA, where);
  }
}

/**
 * Reading or writing a file failed (exit 74).
 *
 * @example
 * ```ts
 * import { ok } from "node:assert/strict";
 * import { IoError } from "./errors.ts";
 * ok(new IoError("cannot open", { file: "/nope" }).exitCode === 74);
 * ```
 */
export class IoError extends DarknetError {
  /** Creates an I/O error about a file. */
  constructor(message: string, where: ErrorLocation = {}) {
    super(message, EXIT_IO, where);
  }
}

/** Turns an operating-system error from Deno into an {@link IoError} naming the file. */
export function ioError(err: unknown, file: string): DarknetError {
  if (err instanceof DarknetError) return err;
  if (err instanceof Deno.errors.NotFound) return new IoError("no such file", { file });
  if (err instanceof Deno.errors.PermissionDenied) {
    return new IoError("permission denied", { file });
  }
  if (err instanceof Deno.errors.IsADirectory) return new IoError("is a directory", { file });
  const msg = err instanceof Error ? err.message : String(err);
  return new IoError(msg.split("\n")[0], { file });
}
