// Typed errors shared by the whole core: each names what broke and what the user can do about it.

/** The peer (or our own caller) broke a rule of MQTT 3.1.1; `rule` is the spec's statement id when there is one. */
export class ProtocolError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "ProtocolError";
  readonly packetType: string;
  readonly rule: string | undefined;
  constructor(packetType: string, message: string, rule?: string) {
    super(`${packetType}: ${message}${rule ? ` ${rule}` : ""}`);
    this.packetType = packetType;
    this.rule = rule;
  }
}

/** A configuration value is missing or invalid; `key` is the config key the user must fix. */
export class ConfigError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "ConfigError";
  readonly key: string;
  constructor(key: string, message: string) {
    super(`config "${key}": ${message}`);
    this.key = key;
  }
}

/** Persistent storage failed or holds data that fails its checksum; nothing corrupt is ever used silently. */
export class StorageError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "StorageError";
  readonly key: string | undefined;
  constructor(message: string, key?: string) {
    super(key === undefined ? message : `${message} (key "${key}")`);
    this.key = key;
  }
}

/**
 * A commit did not fit the store: nothing was written, the staged changes stay staged and the store stays usable.
 * Delete something (the oldest readings, by the drop policy) and commit again.
 */
export class StoreFullError extends StorageError {
  override readonly name: string = "StoreFullError";
}

/** The broker answered CONNECT with a non-zero return code. `retryable` says whether trying again can help. */
export class ConnectionRefusedError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "ConnectionRefusedError";
  readonly returnCode: number;
  readonly retryable: boolean;
  constructor(returnCode: number, message: string, retryable: boolean) {
    super(message);
    this.returnCode = returnCode;
    this.retryable = retryable;
  }
}

/** publish() was refused: the offline queue is full under the "reject-new" policy, or the message alone exceeds the queue's byte limit. */
export class QueueFullError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "QueueFullError";
  constructor(message: string) {
    super(message);
  }
}

/** What failed below MQTT; "certificate" and "tls" cover every way a secure link can be refused. */
export type TransportFailure = "dns" | "tcp" | "tls" | "certificate";

/**
 * The link to the broker failed below MQTT. `permanent` is true when trying again soon cannot help (a certificate
 * the device does not trust, a TLS handshake that cannot complete): the client then retries only at its long
 * interval, so a broker fixed later is still reached, and says why in its status.
 */
export class TransportError extends Error {
  // A field, not `this.name = ...`: Moddable freezes Error.prototype, so assigning "name" throws there.
  override readonly name: string = "TransportError";
  readonly failure: TransportFailure;
  readonly permanent: boolean;
  constructor(failure: TransportFailure, message: string, permanent: boolean) {
    super(message);
    this.failure = failure;
    this.permanent = permanent;
  }
}
