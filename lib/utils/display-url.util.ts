/**
 * A URL as logs and health reports show it: scheme, host and path, never credentials, a query or
 * a fragment (the configuration refuses them, and they would be secrets if it did not).
 */
export function displayUrl(url: string): string {
  try {
    const { protocol, host, pathname } = new URL(url);
    return `${protocol}//${host}${pathname}`;
  } catch {
    return '(not a URL)';
  }
}
