// The lab's error: a HanetError with the lab's own code, so the product's HanetErrorCode union (src/errors.ts)
// lists only what the daemon and its commands can throw. The lab throws product codes too (PERMISSION, TIMEOUT...).
import { HanetError } from '../errors.js';

export type LabErrorCode = 'HANET_ERR_LAB';

/** Thrown when a lab operation (namespaces, veth, failure injection, workload, demo) fails. */
export class LabError extends HanetError<LabErrorCode> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('HANET_ERR_LAB', message, options);
    this.name = 'LabError';
  }
}

export const isLabError = (e: unknown): e is LabError => e instanceof LabError;
