import { parseHttpUrl } from '../../config/parse-values.ts';
import type { LlmProviderName } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import { DEFAULT_DATABRICKS_MODEL, DEFAULT_OPENAI_MODEL, OPENAI_BASE_URL } from '../../config/llm-choice.ts';
import { checkOpenAiKey } from './check-openai-key.ts';
import type { DestinationChoice } from './init-answers.ts';
import { ask, nonEmpty, parsedAnswer, untilAccepted, type InitSession } from './init-session.ts';
import type { ConfigFileValues } from './write-config-file.ts';

export interface LlmSetup {
  provider: LlmProviderName;
  model?: string;
  file: ConfigFileValues;
  secrets: Record<string, string>;
}

/**
 * The model that answers: offline needs nothing; OpenAI's key is tried against the API at the base URL
 * that is then saved with it (a key tested against one server must not be sent to another); a Databricks
 * serving endpoint is called with a workspace credential: the destination's, or DATABRICKS_HOST's.
 */
export async function setupLlm(
  session: InitSession,
  destination: DestinationChoice,
  given: {
    provider: LlmProviderName | undefined;
    model: string | undefined;
    openaiApiKey: string | undefined;
    openaiBaseUrl: string | undefined;
  },
): Promise<LlmSetup> {
  if (given.provider === 'databricks' && !hasServingWorkspace(session, destination)) throw databricksNeedsWorkspace();
  let provider = given.provider;
  let model = given.model;
  let apiKey = given.openaiApiKey;
  let baseUrl = given.openaiBaseUrl === undefined ? undefined : BASE_URL.value(given.openaiBaseUrl);
  return untilAccepted(session, async (previous) => {
    const keyRefused = previous?.exitCode === ExitCode.auth && provider === 'openai';
    if (keyRefused) apiKey = await askApiKey(session);
    let reasked = false;
    if (provider === undefined || (previous && !keyRefused)) {
      provider = await askProvider(session, destination, provider);
      model = given.model;
      reasked = true;
    }
    const secrets: Record<string, string> = {};
    const file: ConfigFileValues = {};
    if (provider === 'openai') {
      const proposed = baseUrl ?? session.existing('OPENAI_BASE_URL') ?? OPENAI_BASE_URL;
      if (session.prompter && (baseUrl === undefined || reasked)) {
        baseUrl = BASE_URL.value(
          await session.prompter.input({
            message: 'Base URL of the OpenAI API (or of an OpenAI-compatible server)',
            default: proposed,
            validate: BASE_URL.validate,
          }),
        );
      } else baseUrl = BASE_URL.value(proposed);
      file.openaiBaseUrl = baseUrl;
      let key = apiKey ?? session.existing('OPENAI_API_KEY');
      if (key === undefined) {
        key = await askApiKey(session);
        apiKey = key;
      }
      session.progress.checking(`Checking the OpenAI API key at ${baseUrl}`);
      await checkOpenAiKey(key, baseUrl);
      session.progress.passed(`OpenAI API key accepted by ${baseUrl}`);
      if (apiKey !== undefined) secrets.OPENAI_API_KEY = apiKey;
    }
    if (model === undefined && session.prompter && provider !== 'offline') {
      model = await session.prompter.input(
        provider === 'openai'
          ? { message: 'OpenAI model', default: DEFAULT_OPENAI_MODEL, validate: nonEmpty }
          : { message: 'Databricks serving endpoint name', default: DEFAULT_DATABRICKS_MODEL, validate: nonEmpty },
      );
    }
    if (provider === 'offline') session.progress.passed('Offline model: answers come from the built-in model, no network or key');
    else if (provider === 'databricks') session.progress.passed(`Databricks serving endpoint ${model ?? DEFAULT_DATABRICKS_MODEL}`);
    return {
      provider,
      ...(model !== undefined && { model }),
      file: { llmProvider: provider, ...(model !== undefined && { llmModel: model }), ...file },
      secrets,
    };
  });
}

const BASE_URL = parsedAnswer(
  (text) => {
    const parsed = parseHttpUrl(text);
    return parsed.ok ? { ok: true as const, value: parsed.value.replace(/\/+$/, '') } : parsed;
  },
  'the OpenAI base URL',
  `give the API's base URL, e.g. ${OPENAI_BASE_URL}`,
);

async function askProvider(
  session: InitSession,
  destination: DestinationChoice,
  last: LlmProviderName | undefined,
): Promise<LlmProviderName> {
  const fallback: LlmProviderName = session.existing('OPENAI_API_KEY') ? 'openai' : destination === 'databricks' ? 'databricks' : 'offline';
  return ask(session).select<LlmProviderName>({
    message: 'Which LLM should answer?',
    choices: [
      { value: 'openai', name: 'OpenAI', description: 'needs an API key (saved to the env file as OPENAI_API_KEY)' },
      {
        value: 'databricks',
        name: 'A Databricks serving endpoint',
        description: 'called with the workspace credential',
        ...(!hasServingWorkspace(session, destination) && { disabled: 'needs DATABRICKS_HOST and a token, or traces to Databricks' }),
      },
      { value: 'offline', name: 'Offline', description: 'a small built-in model: no network, no key, good for trying things out' },
    ],
    default: last ?? fallback,
  });
}

function askApiKey(session: InitSession): Promise<string> {
  return ask(session).password({ message: 'OpenAI API key (saved to the env file as OPENAI_API_KEY)', validate: nonEmpty });
}

/** Where traces go does not decide which model answers: a workspace in the environment serves as well. */
function hasServingWorkspace(session: InitSession, destination: DestinationChoice): boolean {
  const has = (name: string) => session.existing(name) !== undefined;
  return (
    destination === 'databricks' ||
    (has('DATABRICKS_HOST') && (has('DATABRICKS_TOKEN') || (has('DATABRICKS_CLIENT_ID') && has('DATABRICKS_CLIENT_SECRET'))))
  );
}

function databricksNeedsWorkspace(): ExpectedError {
  return new ExpectedError('--llm databricks needs a Databricks workspace to call the serving endpoint in', {
    exitCode: ExitCode.usage,
    hint: 'pass --destination databricks, or set DATABRICKS_HOST and DATABRICKS_TOKEN in the environment or .env; or choose --llm openai or offline',
  });
}
