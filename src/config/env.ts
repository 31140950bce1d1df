/** The environment as Keygate reads it: names to raw strings. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads settings from an environment, collecting every problem (each naming its variable) instead of stopping at
 * the first. Values are trimmed; an empty value is an unset one.
 */
export class EnvReader {
  readonly problems: string[] = [];

  constructor(readonly env: Env) {}

  read(name: string): string | undefined {
    const value = this.env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  }

  bool(name: string, fallback: boolean): boolean {
    const value = this.read(name)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(value)) return true;
    if (['0', 'false', 'no', 'off'].includes(value)) return false;
    this.problems.push(`${name}: expected true or false, got "${this.env[name]}"`);
    return fallback;
  }

  /** A whole number from `min` to `max`. */
  int(name: string, fallback: number, min: number, max: number): number {
    const value = this.read(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name}: expected a whole number from ${min} to ${max}, got "${value}"`);
      return fallback;
    }
    return n;
  }

  /** A whole number whose range another check knows; undefined when unset or not a number (reported). */
  wholeNumber(name: string): number | undefined {
    const value = this.read(name);
    if (value === undefined) return undefined;
    if (!/^\d{1,15}$/.test(value)) {
      this.problems.push(`${name}: expected a whole number, got "${value}"`);
      return undefined;
    }
    return Number(value);
  }

  /** A list separated by commas and/or spaces. */
  list(name: string): string[] | undefined {
    const value = this.read(name);
    return value === undefined ? undefined : value.split(/[\s,]+/).filter(Boolean);
  }
}
