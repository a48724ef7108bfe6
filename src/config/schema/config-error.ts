/** A configuration problem; the message is meant to be shown to the operator as is. */
export class ConfigError extends Error {
  /** The key path in the config file, when the error is about one key. */
  readonly keyPath: string | undefined;

  constructor(message: string, keyPath?: string) {
    super(message);
    this.name = 'ConfigError';
    this.keyPath = keyPath;
  }
}
