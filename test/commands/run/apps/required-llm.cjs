// The CommonJS helper of mixed-formats-app.mjs: the openai package's CommonJS build, by require().
const { OpenAI } = require('openai');

const openai = new OpenAI({ apiKey: 'sk-test-app', baseURL: `${process.env.FAKE_OPENAI_URL}/v1` });

exports.askRequired = async (messages) =>
  (await openai.chat.completions.create({ model: 'gpt-4o-mini', messages })).choices[0].message.content;
