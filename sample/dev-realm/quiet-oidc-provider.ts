/**
 * oidc-provider's notices (Node 20 runtime, in-memory adapter, pre-read bodies) are expected in a
 * development realm and would only bury the sample's instructions.
 */
function quietOidcProviderNotices(): void {
  for (const level of ['warn', 'info'] as const) {
    const original = console[level];
    if ((original as { quiet?: boolean }).quiet) continue;
    const filtered = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].startsWith('oidc-provider ')) return;
      original(...args);
    };
    console[level] = Object.assign(filtered, { quiet: true });
  }
}

quietOidcProviderNotices();
