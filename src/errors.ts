// hanet's error type: one base class with a stable machine-readable `code`, shown in logs and `status`.
// Modelled on undici's lib/core/errors.js and libp2p's interface errors.

export type HanetErrorCode =
  /** Thrown when a configuration or topology file is missing, unparsable or invalid. */
  | 'HANET_ERR_CONFIG'
  /** Thrown when a netlink request fails or the kernel answers with an error. */
  | 'HANET_ERR_NETLINK'
  /** Thrown when a raw socket (AF_PACKET, TUN) operation fails. */
  | 'HANET_ERR_SOCKET'
  /** Thrown when a serial device cannot be opened or configured (missing device, permission, unsupported baud). */
  | 'HANET_ERR_SERIAL'
  /** Thrown when the native addon cannot be loaded or a native call fails. */
  | 'HANET_ERR_NATIVE'
  /** Thrown when a control message fails authentication or replay checks. */
  | 'HANET_ERR_PEER_AUTH'
  /** Thrown when a control message cannot be decoded. */
  | 'HANET_ERR_PROTOCOL'
  /** Thrown when a command needs root (CAP_NET_ADMIN) and does not have it. */
  | 'HANET_ERR_PERMISSION'
  /** Thrown when the local control socket of the daemon cannot be reached. */
  | 'HANET_ERR_CONTROL'
  /** Thrown when an operation was cancelled through its AbortSignal. */
  | 'HANET_ERR_ABORTED'
  /** Thrown when an operation did not finish in its time limit. */
  | 'HANET_ERR_TIMEOUT';

/**
 * `Code` is the product's codes unless a subclass outside the product names its own (the lab's LabError,
 * src/lab/errors.ts); it is never inferred from the argument, so product code can only throw the codes above.
 */
export class HanetError<Code extends string = HanetErrorCode> extends Error {
  readonly code: Code;
  constructor(code: NoInfer<Code>, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HanetError';
    this.code = code;
  }
}

export const isHanetError = (e: unknown, code?: HanetErrorCode): e is HanetError =>
  e instanceof HanetError && (code === undefined || e.code === code);
