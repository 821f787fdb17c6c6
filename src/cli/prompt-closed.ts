/**
 * @inquirer/prompts rejects with ExitPromptError when the person presses Ctrl-C (or the terminal
 * goes away): that is their answer, not a crash, so `onClosed` says what it means here.
 */
export async function whenPromptClosed<T>(answer: Promise<T>, onClosed: () => T): Promise<T> {
  try {
    return await answer;
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') return onClosed();
    throw error;
  }
}
