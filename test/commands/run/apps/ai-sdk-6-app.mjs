// A service built on AI SDK 6 (`ai` 6), imported as an ES module, which switches no telemetry on
// itself: `otel-mlflow run` must trace it unchanged. A call that switches it off stays untraced.
import { generateText, streamText, ToolLoopAgent } from 'ai';
import model from './ai-sdk-6-model.cjs';
import serveAnswers from './answer-server.cjs';

const agent = new ToolLoopAgent({ model, instructions: 'Answer in one word.' });

serveAnswers('ai-sdk-6-app', async (prompt, path) => {
  if (path === '/agent') return (await agent.generate({ prompt })).text;
  if (path === '/untraced') return (await generateText({ model, prompt, experimental_telemetry: { isEnabled: false } })).text;
  if (path !== '/stream') return (await generateText({ model, prompt })).text;
  let text = '';
  for await (const part of streamText({ model, prompt }).textStream) text += part;
  return text;
});
