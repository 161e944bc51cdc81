import { Injectable } from '@nestjs/common';

/** The sample's VoxKey settings, from the environment. */
export interface SampleSettings {
  domain: string;
  realm: string;
  audience: string;
  clientId: string;
  clientSecret: string;
  /** The MCP server's resource URI: `VOXKEY_MCP_RESOURCE`, else `<audience>/mcp`. */
  mcpResource: string;
}

const VARIABLES = {
  domain: 'VOXKEY_DOMAIN',
  realm: 'VOXKEY_REALM',
  audience: 'VOXKEY_AUDIENCE',
  clientId: 'VOXKEY_CLIENT_ID',
  clientSecret: 'VOXKEY_CLIENT_SECRET',
} as const;

/** Reads the settings, naming every missing variable at once. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): SampleSettings {
  const missing = Object.values(VARIABLES).filter((name) => !env[name]);
  if (missing.length > 0) throw new Error(`Missing environment variables: ${missing.join(', ')}`);
  const settings = Object.fromEntries(
    Object.entries(VARIABLES).map(([key, name]) => [key, env[name] as string]),
  ) as Omit<SampleSettings, 'mcpResource'>;
  return {
    ...settings,
    mcpResource: env.VOXKEY_MCP_RESOURCE || `${settings.audience.replace(/\/$/, '')}/mcp`,
  };
}

/** The ids of the sample's two protected resources, for `@Resource()`. */
export const API_RESOURCE = 'api';
export const MCP_RESOURCE = 'mcp';

/** Where this API itself listens, known once it started; used to call its own routes. */
@Injectable()
export class SampleRuntime {
  selfUrl = '';
}
