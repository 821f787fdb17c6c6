import type { ConfigProblem } from '../errors.ts';
import { describeSource } from './mask.ts';
import { primaryEnvName, type OptionKey } from './options.ts';
import type { Resolution, ResolvedOptions } from './resolve-options.ts';
import { sourced, type DestinationKind } from './resolve-destination.ts';
import type { AuthSettings, Source } from './types.ts';

type Empty = Partial<Record<OptionKey, Source>>;
type AuthResult = { auth: AuthSettings; problems: ConfigProblem[] };

const NO_AUTH: AuthSettings = { kind: 'none' };

export function resolveAuth(kind: DestinationKind, values: ResolvedOptions, empty: Empty, profileName: string): AuthResult {
  switch (kind) {
    case 'mlflow':
      return mlflowAuth(values, empty);
    case 'databricks':
    case 'unity-catalog':
      return databricksAuth(values, empty, profileName);
    default:
      // A collector's credentials travel in OTEL_EXPORTER_OTLP_HEADERS.
      return { auth: NO_AUTH, problems: [] };
  }
}

/** MLflow's own clients: username + password → Basic, else token → Bearer, else nothing. */
function mlflowAuth(values: ResolvedOptions, empty: Empty): AuthResult {
  const { mlflowUsername: username, mlflowPassword: password, mlflowToken: token } = values;
  if (username && password) return { auth: { kind: 'basic', username: sourced(username), password: sourced(password) }, problems: [] };
  if (username || password) {
    return {
      auth: NO_AUTH,
      problems: [halfPair(['mlflowUsername', 'mlflowPassword'], values, empty, 'Basic auth needs both (or set neither)')],
    };
  }
  return { auth: token ? { kind: 'bearer', token: sourced(token) } : NO_AUTH, problems: [] };
}

const DATABRICKS_CREDENTIALS = ['databricksToken', 'databricksClientId', 'databricksClientSecret'] as const;

/**
 * Databricks unified auth order: DATABRICKS_TOKEN, then DATABRICKS_CLIENT_ID + CLIENT_SECRET, then
 * the profile's token, then the profile's client_id + client_secret.
 */
function databricksAuth(values: ResolvedOptions, empty: Empty, profileName: string): AuthResult {
  const { databricksToken: token, databricksClientId: clientId, databricksClientSecret: secret } = values;
  const pat = token && ({ kind: 'databricks-pat', token: sourced(token) } as const);
  const oauth =
    clientId && secret && ({ kind: 'databricks-oauth-m2m', clientId: sourced(clientId), clientSecret: sourced(secret) } as const);
  const fromProfile = (r: Resolution<string> | undefined) => r?.source.kind === 'databrickscfg';
  const chosen = (pat && !fromProfile(token) && pat) || (oauth && !(fromProfile(clientId) && fromProfile(secret)) && oauth) || pat || oauth;
  if (chosen) return { auth: chosen, problems: [] };
  if (clientId || secret) {
    return {
      auth: NO_AUTH,
      problems: [
        halfPair(['databricksClientId', 'databricksClientSecret'], values, empty, 'OAuth M2M needs both (or set DATABRICKS_TOKEN instead)'),
      ],
    };
  }
  const emptyNotes = DATABRICKS_CREDENTIALS.flatMap((key) => {
    const source = empty[key];
    return source ? [`${primaryEnvName(key)} (from ${describeSource(source)}) is empty`] : [];
  });
  return {
    auth: NO_AUTH,
    problems: [
      {
        message:
          `no Databricks credentials${emptyNotes.length ? ` (${emptyNotes.join('; ')})` : ''}: set DATABRICKS_TOKEN to a personal access token, ` +
          'or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for an OAuth service principal, in the environment or .env; ' +
          `or add token = … to profile [${profileName}] in ~/.databrickscfg`,
      },
    ],
  };
}

/** One of two values that only work together is set; names the other and says if it was left empty. */
function halfPair(pair: readonly [OptionKey, OptionKey], values: ResolvedOptions, empty: Empty, why: string): ConfigProblem {
  const [setKey, missingKey] = values[pair[0]] ? pair : ([pair[1], pair[0]] as const);
  const missing = empty[missingKey] ? `is empty (in ${describeSource(empty[missingKey])})` : 'is not set';
  return {
    message: `${primaryEnvName(setKey)} is set but ${primaryEnvName(missingKey)} ${missing}; ${why}`,
    source: describeSource(values[setKey]!.source),
  };
}
