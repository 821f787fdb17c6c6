// A service built on LangChain.js, with no tracing code of its own: `otel-mlflow run` must trace it
// unchanged.
import { createServer } from 'node:http';
import { StringOutputParser } from '@langchain/core/output_parsers';
import { ChatPromptTemplate } from '@langchain/core/prompts';
import { ChatOpenAI } from '@langchain/openai';

const model = new ChatOpenAI({
  model: 'gpt-4o-mini',
  apiKey: 'sk-test-langchain-app',
  maxRetries: 0,
  configuration: { baseURL: `${process.env.FAKE_OPENAI_URL}/v1` },
});
const chain = ChatPromptTemplate.fromMessages([
  ['system', 'Answer in one sentence.'],
  ['human', '{question}'],
])
  .pipe(model)
  .pipe(new StringOutputParser());

const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    const answer = await chain.invoke({ question: JSON.parse(body).question });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ answer }));
  } catch (error) {
    res.writeHead(500);
    res.end(String(error));
  }
});
process.on('SIGTERM', () => server.close());
server.listen(0, '127.0.0.1', () => console.log(`langchain-app listening on http://127.0.0.1:${server.address().port}`));
