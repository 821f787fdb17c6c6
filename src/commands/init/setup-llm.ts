import { parseHttpUrl } from '../../config/parse-values.ts';
import type { LlmProviderName } from '../../config/types.ts';
import { ExitCode, ExpectedError } from '../../errors.ts';
import {
  ANTHROPIC_BASE_URL,
  DEFAULT_ANTHROPIC_MODEL,
  DEFAULT_DATABRICKS_MODEL,
  DEFAULT_OPENAI_MODEL,
  OPENAI_BASE_URL,
} from '../../config/llm-choice.ts';
import { checkAnthropicKey, checkOpenAiKey } from './check-llm-key.ts';
import type { DestinationChoice } from './init-answers.ts';
import { ask, nonEmpty, parsedAnswer, untilAccepted, type InitSession } from './init-session.ts';
import type { ConfigFileValues } from './write-config-file.ts';

export interface LlmSetup {
  provider: LlmProviderName;
  model?: string;
  file: ConfigFileValues;
  secrets: Record<string, string>;
}

/** What the flags say of a provider that takes an API key. */
interface KeyAnswers {
  apiKey: string | undefined;
  baseUrl: string | undefined;
}

/** The providers whose API key init tests, each against the base URL saved with it. */
type KeyedProvider = 'openai' | 'anthropic';

interface KeyedApi {
  /** As people read it. */
  name: string;
  keyVariable: 'OPENAI_API_KEY' | 'ANTHROPIC_API_KEY';
  baseUrlVariable: string;
  defaultBaseUrl: string;
  baseUrlQuestion: string;
  baseUrl: ReturnType<typeof parsedAnswer<string>>;
  fileKey: 'openaiBaseUrl' | 'anthropicBaseUrl';
  defaultModel: string;
  check(apiKey: string, baseUrl: string): Promise<void>;
}

const KEYED_APIS: Record<KeyedProvider, KeyedApi> = {
  openai: {
    name: 'OpenAI',
    keyVariable: 'OPENAI_API_KEY',
    baseUrlVariable: 'OPENAI_BASE_URL',
    defaultBaseUrl: OPENAI_BASE_URL,
    baseUrlQuestion: 'Base URL of the OpenAI API (or of an OpenAI-compatible server)',
    baseUrl: baseUrlAnswer('the OpenAI base URL', `give the API's base URL, e.g. ${OPENAI_BASE_URL}`),
    fileKey: 'openaiBaseUrl',
    defaultModel: DEFAULT_OPENAI_MODEL,
    check: checkOpenAiKey,
  },
  anthropic: {
    name: 'Anthropic',
    keyVariable: 'ANTHROPIC_API_KEY',
    baseUrlVariable: 'ANTHROPIC_BASE_URL',
    defaultBaseUrl: ANTHROPIC_BASE_URL,
    baseUrlQuestion: 'Base URL of the Anthropic API (or of a proxy in front of it), without /v1',
    baseUrl: baseUrlAnswer('the Anthropic base URL', `give the API's base URL, e.g. ${ANTHROPIC_BASE_URL}`),
    fileKey: 'anthropicBaseUrl',
    defaultModel: DEFAULT_ANTHROPIC_MODEL,
    check: checkAnthropicKey,
  },
};

const isKeyed = (provider: LlmProviderName | undefined): provider is KeyedProvider => provider === 'openai' || provider === 'anthropic';

/**
 * The model that answers: offline needs nothing; OpenAI's and Anthropic's keys are tried against the
 * API at the base URL that is then saved with them (a key tested against one server must not be sent
 * to another); a Databricks serving endpoint is called with a workspace credential: the
 * destination's, or DATABRICKS_HOST's.
 */
export async function setupLlm(
  session: InitSession,
  destination: DestinationChoice,
  given: { provider: LlmProviderName | undefined; model: string | undefined } & Record<KeyedProvider, KeyAnswers>,
): Promise<LlmSetup> {
  if (given.provider === 'databricks' && !hasServingWorkspace(session, destination)) throw databricksNeedsWorkspace();
  let provider = given.provider;
  let model = given.model;
  const keyed = {
    openai: keyAnswers(KEYED_APIS.openai, given.openai),
    anthropic: keyAnswers(KEYED_APIS.anthropic, given.anthropic),
  };
  return untilAccepted(session, async (previous) => {
    const keyRefused = previous?.exitCode === ExitCode.auth && isKeyed(provider);
    if (keyRefused) keyed[provider as KeyedProvider].apiKey = await askApiKey(session, KEYED_APIS[provider as KeyedProvider]);
    let reasked = false;
    if (provider === undefined || (previous && !keyRefused)) {
      provider = await askProvider(session, destination, provider);
      model = given.model;
      reasked = true;
    }
    const secrets: Record<string, string> = {};
    const file: ConfigFileValues = {};
    if (isKeyed(provider)) {
      const api = KEYED_APIS[provider];
      const answers = keyed[provider];
      const baseUrl = await chooseBaseUrl(session, api, answers.baseUrl, reasked);
      answers.baseUrl = baseUrl;
      file[api.fileKey] = baseUrl;
      let key = answers.apiKey ?? session.existing(api.keyVariable);
      if (key === undefined) {
        key = await askApiKey(session, api);
        answers.apiKey = key;
      }
      session.progress.checking(`Checking the ${api.name} API key at ${baseUrl}`);
      await api.check(key, baseUrl);
      session.progress.passed(`${api.name} API key accepted by ${baseUrl}`);
      if (answers.apiKey !== undefined) secrets[api.keyVariable] = answers.apiKey;
    }
    if (model === undefined && session.prompter && provider !== 'offline') {
      model = await session.prompter.input(
        isKeyed(provider)
          ? { message: `${KEYED_APIS[provider].name} model`, default: KEYED_APIS[provider].defaultModel, validate: nonEmpty }
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

function keyAnswers(api: KeyedApi, given: KeyAnswers): KeyAnswers {
  return { apiKey: given.apiKey, baseUrl: given.baseUrl === undefined ? undefined : api.baseUrl.value(given.baseUrl) };
}

/** The flag's base URL, else the environment's, else the API's own; a person confirms it whenever the provider was just chosen. */
async function chooseBaseUrl(session: InitSession, api: KeyedApi, given: string | undefined, reasked: boolean): Promise<string> {
  const proposed = given ?? session.existing(api.baseUrlVariable) ?? api.defaultBaseUrl;
  if (!session.prompter || (given !== undefined && !reasked)) return api.baseUrl.value(proposed);
  return api.baseUrl.value(
    await session.prompter.input({ message: api.baseUrlQuestion, default: proposed, validate: api.baseUrl.validate }),
  );
}

function baseUrlAnswer(what: string, hint: string) {
  return parsedAnswer(
    (text) => {
      const parsed = parseHttpUrl(text);
      return parsed.ok ? { ok: true as const, value: parsed.value.replace(/\/+$/, '') } : parsed;
    },
    what,
    hint,
  );
}

async function askProvider(
  session: InitSession,
  destination: DestinationChoice,
  last: LlmProviderName | undefined,
): Promise<LlmProviderName> {
  const fallback: LlmProviderName = session.existing('OPENAI_API_KEY')
    ? 'openai'
    : session.existing('ANTHROPIC_API_KEY')
      ? 'anthropic'
      : destination === 'databricks'
        ? 'databricks'
        : 'offline';
  return ask(session).select<LlmProviderName>({
    message: 'Which LLM should answer?',
    choices: [
      { value: 'openai', name: 'OpenAI', description: 'needs an API key (saved to the env file as OPENAI_API_KEY)' },
      { value: 'anthropic', name: 'Anthropic (Claude)', description: 'needs an API key (saved to the env file as ANTHROPIC_API_KEY)' },
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

function askApiKey(session: InitSession, api: KeyedApi): Promise<string> {
  return ask(session).password({ message: `${api.name} API key (saved to the env file as ${api.keyVariable})`, validate: nonEmpty });
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
    hint: 'pass --destination databricks, or set DATABRICKS_HOST and DATABRICKS_TOKEN in the environment or .env; or choose --llm openai, anthropic or offline',
  });
}
