/**
 * The flow inspector (src/core/inspector/): a development view of every protocol step at
 * `/_gatehouse/flows`. Off by default; it shows which user did what, so on an issuer that is not
 * loopback it needs `allow_remote` and an access token (checked by resolve-settings.ts).
 */
import { Type } from '@sinclair/typebox';
import { ConfigError } from './config-error.js';
import { boolSetting, setting } from './setting-node.js';

/** Why an inspector access token is unusable, or null. */
export function inspectorTokenProblem(token: string): string | null {
  if (token.length < 16) return 'must be at least 16 characters (e.g. the output of: openssl rand -base64 24)';
  // RFC 6750 §2.1 b64token: what a Bearer credential may carry.
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(token))
    return 'may contain only letters, digits and - . _ ~ + / (and trailing =)';
  return null;
}

export const INSPECTOR_SETTINGS = {
  inspector: Type.Optional(
    Type.Object(
      {
        enabled: setting(Type.Boolean(), {
          setting: 'inspector.enabled',
          default: false,
          env: 'GATEHOUSE_INSPECTOR',
          doc: 'the flow inspector at `/_gatehouse/flows` (development; `inspector: true` is short for `inspector: { enabled: true }`; the other `inspector` keys are in docs/inspector.md)',
          defaultDoc: 'off: `/_gatehouse/*` answers 404',
          flag: '--dev',
          flagHelp:
            'development mode: the flow inspector at /_gatehouse/flows, and links to it from error responses (default: $GATEHOUSE_INSPECTOR or the config file inspector.enabled)',
          parse: (value) => (['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase()) ? true : undefined),
        }),
        allow_remote: boolSetting(
          'inspector.allowRemote',
          false,
          'the inspector on an issuer that is not loopback (needs `inspector.access_token`)',
        ),
        access_token: setting(Type.String({ minLength: 1 }), {
          setting: 'inspector.accessToken',
          env: 'GATEHOUSE_INSPECTOR_TOKEN',
          doc: 'bearer token (or Basic password) every `/_gatehouse/*` request must carry',
          defaultDoc: 'none: loopback issuers only',
          check: (token) => inspectorTokenProblem(token) ?? undefined,
          parse: (token, source) => {
            const problem = inspectorTokenProblem(token);
            if (problem) throw new ConfigError(`${source} ${problem}`);
            return token;
          },
        }),
        max_flows: setting(Type.Integer({ minimum: 10, maximum: 100_000 }), {
          setting: 'inspector.maxFlows',
          default: 500,
          doc: 'flows the inspector keeps in memory per instance (the oldest go first)',
          unit: ' (flows)',
        }),
        retention_minutes: setting(Type.Integer({ minimum: 1, maximum: 7 * 24 * 60 }), {
          setting: 'inspector.retentionMinutes',
          default: 60,
          doc: 'minutes the inspector keeps flow steps in the database',
          unit: ' (minutes)',
        }),
      },
      // Issue 15: "enabled by `gatehouse start --dev` or the config key `inspector: true`": a
      // boolean stands for `{ enabled: … }` (load-config.ts reads `x-shorthand`).
      { additionalProperties: false, 'x-shorthand': 'enabled' },
    ),
  ),
};
