// A service that cleans up on exit through signal-exit (as write-file-atomic, execa, ink and many
// more do for the libraries an app uses), with no signal handling of its own: SIGTERM and Ctrl-C end
// it by signal-exit's own re-raise of the signal, after its clean-up ran.
import { createServer } from 'node:http';
import OpenAI from 'openai';
import { onExit } from 'signal-exit';

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });
onExit((_code, signal) => console.log(`signal-exit-app: cleaned up on ${signal}`));

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  const { question } = JSON.parse(body);
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: question }] });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ answer: completion.choices[0].message.content }));
});
server.listen(0, '127.0.0.1', () =>
  console.log(`signal-exit-app (pid ${process.pid}) listening on http://127.0.0.1:${server.address().port}`),
);
