import { text } from 'node:stream/consumers';
import { ExitCode, ExpectedError } from '../errors.ts';
import { whenPromptClosed } from '../cli/prompt-closed.ts';

/** Flags that carry a secret, by commander's option key, with the variable that can carry it instead. */
const SECRET_FLAGS: Record<string, { flag: string; variable: string }> = {
  authToken: { flag: '--auth-token', variable: 'OTEL_MLFLOW_AUTH_TOKEN' },
  databricksToken: { flag: '--databricks-token', variable: 'DATABRICKS_TOKEN' },
  openaiApiKey: { flag: '--openai-api-key', variable: 'OPENAI_API_KEY' },
  anthropicApiKey: { flag: '--anthropic-api-key', variable: 'ANTHROPIC_API_KEY' },
};

/** What stands for "read it from standard input", as in `gh auth login --with-token`. */
const FROM_STDIN = '-';

export interface SecretInput {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where a prompt is drawn, at a terminal. */
  promptOutput: NodeJS.WritableStream;
}

/**
 * The options with every secret flag given as `-` replaced by what standard input holds (asked for,
 * hidden, at a terminal), and a warning for each secret given in clear on the command line: other
 * users see it in `ps`, and under npx npm writes it to its debug log.
 */
export async function readSecretFlags(
  options: Record<string, unknown>,
  input: SecretInput,
): Promise<{ options: Record<string, unknown>; warnings: string[] }> {
  const given = Object.keys(SECRET_FLAGS).filter((key) => typeof options[key] === 'string');
  const fromStdin = given.filter((key) => options[key] === FROM_STDIN);
  if (fromStdin.length > 1) {
    throw new ExpectedError(
      `only one secret can come from standard input, but ${fromStdin.map((key) => SECRET_FLAGS[key]!.flag).join(' and ')} both ask for it`,
      {
        exitCode: ExitCode.usage,
        hint: `set the others in the environment or .env instead (${fromStdin.map((key) => SECRET_FLAGS[key]!.variable).join(', ')})`,
      },
    );
  }
  const warnings = given
    .filter((key) => options[key] !== FROM_STDIN)
    .map((key) => {
      const { flag, variable } = SECRET_FLAGS[key]!;
      return `${flag} on the command line can be read by other users (ps) and is written to npm's debug log under npx; pass \`${flag} -\` and give it on standard input, or set ${variable}`;
    });
  const [key] = fromStdin;
  if (key === undefined) return { options, warnings };
  const { flag } = SECRET_FLAGS[key]!;
  const secret = (input.stdin.isTTY ? await promptFor(flag, input.promptOutput) : await text(input.stdin)).trim();
  if (secret === '') {
    throw new ExpectedError(`\`${flag} -\` read nothing from standard input`, {
      exitCode: ExitCode.usage,
      hint: `pipe the value in, e.g. \`${flag} - < token.txt\``,
    });
  }
  return { options: { ...options, [key]: secret }, warnings };
}

async function promptFor(flag: string, output: NodeJS.WritableStream): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  const answer = password({ message: `Value for ${flag} (not shown)`, mask: '*' }, { output });
  return whenPromptClosed(answer, () => {
    throw new ExpectedError(`no value for ${flag}: the prompt was closed`, { exitCode: ExitCode.interrupted });
  });
}
