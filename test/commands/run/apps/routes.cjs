// The routes both example apps serve (the ESM one imports this file, the CommonJS one requires it):
// plain, streamed and tool-calling chat completions, a Responses call, embeddings, plain and streamed
// Claude messages, one span of the app's own, and a way to exit.

const WEATHER_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'the weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

function readJson(req) {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text ? JSON.parse(text) : {}));
    req.on('error', reject);
  });
}

function sendJson(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function chat(openai, tracer, question) {
  const messages = await tracer.startActiveSpan('load-history', async (span) => {
    span.setAttribute('history.length', 1);
    span.end();
    return [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: question },
    ];
  });
  const completion = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
  return completion.choices[0].message.content;
}

async function stream(openai, question, res) {
  const chunks = await openai.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [{ role: 'user', content: question }],
    stream: true,
  });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for await (const chunk of chunks) {
    const delta = chunk.choices[0]?.delta?.content;
    if (delta) res.write(`data: ${JSON.stringify({ delta })}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

async function withTools(openai, question) {
  const messages = [{ role: 'user', content: question }];
  const first = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER_TOOL] });
  const call = first.choices[0].message.tool_calls[0];
  messages.push(first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: '{"celsius": 21}' });
  const second = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages, tools: [WEATHER_TOOL] });
  return second.choices[0].message.content;
}

async function askClaude(anthropic, question) {
  const message = await anthropic.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: question }],
  });
  return message.content[0].text;
}

async function streamClaude(anthropic, question, res) {
  const events = await anthropic.messages.create({
    model: 'claude-sonnet-4-5',
    max_tokens: 256,
    messages: [{ role: 'user', content: question }],
    stream: true,
  });
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  for await (const event of events) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
      res.write(`data: ${JSON.stringify({ delta: event.delta.text })}\n\n`);
  }
  res.end('data: [DONE]\n\n');
}

async function answer(req, res, { openai, anthropic, tracer, exit }) {
  try {
    const body = req.method === 'POST' ? await readJson(req) : {};
    const path = req.url.split('?')[0];
    if (path === '/chat') return sendJson(res, 200, { answer: await chat(openai, tracer, body.question) });
    if (path === '/stream') return await stream(openai, body.question, res);
    if (path === '/tools') return sendJson(res, 200, { answer: await withTools(openai, body.question) });
    if (path === '/responses') {
      const response = await openai.responses.create({ model: 'gpt-4o-mini', input: body.question });
      return sendJson(res, 200, { answer: response.output_text });
    }
    if (path === '/embed') {
      const embedding = await openai.embeddings.create({ model: 'text-embedding-3-small', input: body.question });
      return sendJson(res, 200, { dimensions: embedding.data[0].embedding.length });
    }
    if (path === '/claude') return sendJson(res, 200, { answer: await askClaude(anthropic, body.question) });
    if (path === '/claude-stream') return await streamClaude(anthropic, body.question, res);
    if (path === '/exit') {
      sendJson(res, 200, { exiting: body.code });
      return exit(body.code);
    }
    sendJson(res, 404, { error: `no route ${req.method} ${path}` });
  } catch (error) {
    sendJson(res, 500, { error: String(error) });
  }
}

module.exports = { answer };
