import { fail, ok, parseDatabricksHost, parseHttpUrl, type Parsed } from '../../config/parse-values.ts';
import { classifyTrackingUri } from '../../config/tracking-uri.ts';
import type { AuthSettings } from '../../config/types.ts';
import { ExitCode, type ExpectedError } from '../../errors.ts';
import { checkCollector, checkDatabricksWorkspace, checkMlflowServer, type TrackingCheck } from './check-destination.ts';
import { readDatabricksProfiles, usableProfile, type DatabricksProfiles } from './databricks-profiles.ts';
import type { DestinationChoice, InitAnswers } from './init-answers.ts';
import { ANSWERED, ask, nonEmpty, parsedAnswer, untilAccepted, type InitSession } from './init-session.ts';
import type { ConfigFileValues } from './write-config-file.ts';
import type { Prompter } from './prompter.ts';
import { commandLine } from '../../invocation.ts';

const DEFAULT_TRACKING_URI = 'http://127.0.0.1:5000';
const DESTINATION_QUESTION = 'Where should traces go?';
/** After a failed answer about the destination, the person may choose another destination. */
const BACK_TO_DESTINATION = { backTo: DESTINATION_QUESTION };
const DEFAULT_OTLP_ENDPOINT = 'http://127.0.0.1:4318/v1/traces';

/** `untested`: it did not answer, and the person chose to save it anyway. */
export type DestinationSummary =
  | { kind: 'mlflow'; trackingUri: string; version?: string; untested?: true }
  | { kind: 'databricks'; host: string; profile?: string; untested?: true }
  | { kind: 'collector'; endpoint: string; untested?: true }
  | { kind: 'local' };

/** A destination that passed its live check (or was kept untested): what to write, and the connection for the experiment step. */
export interface DestinationSetup {
  summary: DestinationSummary;
  file: ConfigFileValues;
  /** Env-file variables: only secrets the person gave, never ones the environment already had. */
  secrets: Record<string, string>;
  /** Absent when the destination was kept untested. */
  tracking?: TrackingCheck;
}

/**
 * After a destination that did not answer at all (down, a VPN not connected), the person may keep the
 * answer untested: traces wait in the local store until it answers, and doctor tests it then.
 */
function keepUntested(setup: () => DestinationSetup | undefined) {
  return {
    ...BACK_TO_DESTINATION,
    untested: (error: ExpectedError) => {
      const value = error.exitCode === ExitCode.unreachable ? setup() : undefined;
      return value && { value, choice: 'Save it untested: traces wait in the local store until it answers' };
    },
  };
}

export async function askDestination(session: InitSession, last?: DestinationChoice): Promise<DestinationChoice> {
  return ask(session).select<DestinationChoice>({
    message: DESTINATION_QUESTION,
    ...(last !== undefined && { default: last }),
    choices: [
      { value: 'mlflow', name: 'A local MLflow server', description: 'mlflow server, e.g. at http://127.0.0.1:5000' },
      { value: 'databricks', name: 'Databricks', description: 'managed MLflow in a Databricks workspace' },
      { value: 'collector', name: 'An OTLP collector', description: 'an OpenTelemetry Collector that forwards them' },
      {
        value: 'local',
        name: 'Nowhere yet: the local store',
        description: `keep them on this machine; \`${commandLine('traces push')}\` sends them later`,
      },
    ],
  });
}

export async function setupDestination(
  session: InitSession,
  destination: DestinationChoice,
  answers: InitAnswers,
): Promise<DestinationSetup> {
  switch (destination) {
    case 'mlflow':
      return setupMlflow(session, answers.trackingUri);
    case 'databricks':
      return setupDatabricks(session, answers);
    case 'collector':
      return setupCollector(session, answers.otlpEndpoint);
    case 'local':
      return { summary: { kind: 'local' }, file: {}, secrets: {} };
  }
}

async function setupMlflow(session: InitSession, given: string | undefined): Promise<DestinationSetup> {
  let uri = given;
  let auth = mlflowCredentials(session);
  let secrets: Record<string, string> = {};
  let untested: DestinationSetup | undefined;
  return untilAccepted<DestinationSetup>(
    session,
    async (previous) => {
      if (previous?.exitCode === ExitCode.auth) ({ auth, secrets } = await askMlflowCredentials(ask(session)));
      const answer =
        uri === undefined || (previous && previous.exitCode !== ExitCode.auth)
          ? await ask(session).input({
              message: 'MLflow tracking URI',
              default: uri ?? DEFAULT_TRACKING_URI,
              validate: SERVER_URI.validate,
            })
          : uri;
      uri = answer;
      const trackingUri = SERVER_URI.value(answer);
      untested = { summary: { kind: 'mlflow', trackingUri, untested: true }, file: { trackingUri }, secrets };
      session.progress.checking(`Checking MLflow at ${trackingUri}`);
      const tracking = await checkMlflowServer(trackingUri, auth);
      const who = auth.kind === 'none' ? '' : '; credentials accepted';
      session.progress.passed(`MLflow ${tracking.version} at ${trackingUri}${who}`);
      return { summary: { kind: 'mlflow', trackingUri, version: tracking.version }, file: { trackingUri }, secrets, tracking };
    },
    keepUntested(() => untested),
  );
}

/** MLflow's own clients: username and password, else a token, else nothing. */
function mlflowCredentials(session: InitSession): AuthSettings {
  const username = session.existing('MLFLOW_TRACKING_USERNAME');
  const password = session.existing('MLFLOW_TRACKING_PASSWORD');
  const token = session.existing('MLFLOW_TRACKING_TOKEN');
  if (username && password)
    return { kind: 'basic', username: { value: username, source: ANSWERED }, password: { value: password, source: ANSWERED } };
  return token ? { kind: 'bearer', token: { value: token, source: ANSWERED } } : { kind: 'none' };
}

async function askMlflowCredentials(prompter: Prompter): Promise<{ auth: AuthSettings; secrets: Record<string, string> }> {
  const kind = await prompter.select({
    message: 'The server wants credentials. Which kind?',
    choices: [
      { value: 'basic', name: 'Username and password' },
      { value: 'token', name: 'Access token' },
    ],
  });
  if (kind === 'token') {
    const token = await prompter.password({ message: 'Token (saved to the env file as MLFLOW_TRACKING_TOKEN)', validate: nonEmpty });
    return { auth: { kind: 'bearer', token: { value: token, source: ANSWERED } }, secrets: { MLFLOW_TRACKING_TOKEN: token } };
  }
  const username = await prompter.input({ message: 'Username', validate: nonEmpty });
  const password = await prompter.password({ message: 'Password (saved to the env file as MLFLOW_TRACKING_PASSWORD)', validate: nonEmpty });
  return {
    auth: { kind: 'basic', username: { value: username, source: ANSWERED }, password: { value: password, source: ANSWERED } },
    secrets: { MLFLOW_TRACKING_USERNAME: username, MLFLOW_TRACKING_PASSWORD: password },
  };
}

const SERVER_URI = parsedAnswer(
  (text): Parsed<string> => {
    const target = classifyTrackingUri(text);
    if (!target.ok) return target;
    return target.value.kind === 'http' && !target.value.workspace
      ? ok(target.value.uri)
      : fail('is a Databricks workspace, not a self-hosted MLflow server: choose Databricks as where traces go instead');
  },
  'the tracking URI',
  `give the MLflow server's base URL, e.g. ${DEFAULT_TRACKING_URI}`,
);

type DatabricksVia = { kind: 'profile'; name: string } | { kind: 'host'; host: string };
const HOST_AND_TOKEN = '\0host-and-token';

async function setupDatabricks(session: InitSession, answers: InitAnswers): Promise<DestinationSetup> {
  const profiles = await readDatabricksProfiles(session.existing('DATABRICKS_CONFIG_FILE'), session);
  let via: DatabricksVia | undefined =
    answers.profile !== undefined
      ? { kind: 'profile', name: answers.profile }
      : answers.databricksHost !== undefined
        ? { kind: 'host', host: answers.databricksHost }
        : undefined;
  let token = answers.databricksToken;
  let untested: DestinationSetup | undefined;
  return untilAccepted<DestinationSetup>(
    session,
    async (previous) => {
      untested = undefined;
      const tokenRefused = previous?.exitCode === ExitCode.auth && via?.kind === 'host';
      if (previous && !tokenRefused) via = undefined;
      via ??= await askDatabricksVia(ask(session), profiles, previous ? undefined : via);
      let host: string;
      let auth: AuthSettings;
      if (via.kind === 'profile') ({ host, auth } = usableProfile(profiles, via.name));
      else {
        host = WORKSPACE_URL.value(via.host);
        let pat = tokenRefused ? undefined : (token ?? session.existing('DATABRICKS_TOKEN'));
        if (pat === undefined) {
          pat = await ask(session).password({
            message: 'Personal access token (saved to the env file as DATABRICKS_TOKEN)',
            validate: nonEmpty,
          });
          token = pat;
        }
        auth = { kind: 'databricks-pat', token: { value: pat, source: ANSWERED } };
      }
      const secrets: Record<string, string> = via.kind === 'profile' || token === undefined ? {} : { DATABRICKS_TOKEN: token };
      const setup: DestinationSetup =
        via.kind === 'profile'
          ? {
              summary: { kind: 'databricks', host, profile: via.name },
              file: { trackingUri: 'databricks', databricksProfile: via.name },
              secrets,
            }
          : { summary: { kind: 'databricks', host }, file: { trackingUri: 'databricks', databricksHost: host }, secrets };
      untested = { ...setup, summary: { ...setup.summary, untested: true } as DestinationSummary };
      session.progress.checking(`Checking the Databricks workspace ${host}`);
      const tracking = await checkDatabricksWorkspace(host, auth);
      const credential = auth.kind === 'databricks-oauth-m2m' ? 'OAuth service principal' : 'token';
      session.progress.passed(
        `Databricks workspace ${host}${via.kind === 'profile' ? ` (profile ${via.name})` : ''}: ${credential} accepted`,
      );
      return { ...setup, tracking };
    },
    keepUntested(() => untested),
  );
}

async function askDatabricksVia(
  prompter: Prompter,
  profiles: DatabricksProfiles | undefined,
  last: DatabricksVia | undefined,
): Promise<DatabricksVia> {
  if (profiles && profiles.profiles.length > 0) {
    const choice = await prompter.select({
      message: `How should otel-mlflow sign in to Databricks? (profiles from ${profiles.displayPath})`,
      choices: [
        ...profiles.profiles.map((p) => ({
          value: p.name,
          name: `Profile ${p.name}`,
          description: p.host ?? 'no host',
          ...(!p.host || !p.auth ? { disabled: !p.host ? 'no host' : 'no token or client credentials' } : {}),
        })),
        { value: HOST_AND_TOKEN, name: 'A workspace URL and a personal access token' },
      ],
      ...(last?.kind === 'profile' && { default: last.name }),
    });
    if (choice !== HOST_AND_TOKEN) return { kind: 'profile', name: choice };
  }
  const host = await prompter.input({
    message: 'Databricks workspace URL',
    ...(last?.kind === 'host' && { default: last.host }),
    validate: WORKSPACE_URL.validate,
  });
  return { kind: 'host', host };
}

const WORKSPACE_URL = parsedAnswer(parseDatabricksHost, 'the workspace URL');

async function setupCollector(session: InitSession, given: string | undefined): Promise<DestinationSetup> {
  let endpoint = given;
  let untested: DestinationSetup | undefined;
  return untilAccepted<DestinationSetup>(
    session,
    async (previous) => {
      const answer =
        previous || endpoint === undefined
          ? await ask(session).input({
              message: 'OTLP/HTTP traces endpoint of the collector',
              default: endpoint ?? DEFAULT_OTLP_ENDPOINT,
              validate: ENDPOINT.validate,
            })
          : endpoint;
      endpoint = answer;
      const url = ENDPOINT.value(answer);
      untested = { summary: { kind: 'collector', endpoint: url, untested: true }, file: { otlpEndpoint: url }, secrets: {} };
      session.progress.checking(`Checking the collector at ${url}`);
      const status = await checkCollector(url);
      session.progress.passed(`Collector at ${url} answered (HTTP ${status})`);
      return { summary: { kind: 'collector', endpoint: url }, file: { otlpEndpoint: url }, secrets: {} };
    },
    keepUntested(() => untested),
  );
}

/** A bare collector address gets the OTLP traces path, as OTEL_EXPORTER_OTLP_ENDPOINT would. */
const ENDPOINT = parsedAnswer(
  (text): Parsed<string> => {
    const parsed = parseHttpUrl(text);
    if (!parsed.ok) return parsed;
    const url = new URL(parsed.value);
    return ok(url.pathname === '/' && !url.search ? `${url.origin}/v1/traces` : parsed.value);
  },
  'the endpoint',
  `e.g. ${DEFAULT_OTLP_ENDPOINT}`,
);
