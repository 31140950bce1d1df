/* Types for format.js, so src/pages/key.ts imports the very file the browser loads (test/pages.test.ts checks
   that the names declared here are the names format.js exports). */

export declare function expiryText(exp: number | undefined, nowSeconds: number): string;

export declare function initials(profile: { sub?: unknown; email?: unknown; name?: unknown } | null | undefined): string;

export declare function avatarColorClass(seed: string): string;

export declare function prettyJson(value: unknown): string;
