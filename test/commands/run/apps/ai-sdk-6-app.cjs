// The AI SDK 6 service as CommonJS (what TypeScript compiled to CommonJS gives): `require('ai')`.
const { generateText } = require('ai');
const model = require('./ai-sdk-6-model.cjs');
const serveAnswers = require('./answer-server.cjs');

serveAnswers('ai-sdk-6-app (CommonJS)', async (prompt) => (await generateText({ model, prompt })).text);
