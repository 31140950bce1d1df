/**
 * An absolute `returnTo` (set by `/auth?redirect=1`, which sends a browser to the login from another page of the
 * application) is followed only to `ALLOWED_REDIRECT_HOSTS`: entries `host` (any port) or `host:port` (that port,
 * the scheme's default when the URL names none). Anything else — another host, credentials in the URL, another
 * scheme, control characters or backslashes that browsers rewrite — is refused (undefined), never "fixed".
 */
export function allowedAbsoluteUrl(value: string, allowedHosts: readonly string[]): string | undefined {
  if (allowedHosts.length === 0 || value.length > 2048) return undefined;
  if (!/^https?:\/\/[^/\\]/i.test(value) || /[\u0000-\u0020\u007f-\uffff\\]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.username !== '' || url.password !== '') return undefined;
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const host = url.hostname.toLowerCase();
  return allowedHosts.some((entry) => entry === host || entry === `${host}:${port}`) ? url.href : undefined;
}
