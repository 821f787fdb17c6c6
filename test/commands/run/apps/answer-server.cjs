// The HTTP side of the AI SDK example apps: each POST's `question` goes to `answer(question, path)`,
// whose text comes back as `{answer}` (or 500 with the error); SIGTERM closes the server.
const { createServer } = require('node:http');

module.exports = function serveAnswers(name, answer) {
  const server = createServer(async (req, res) => {
    try {
      let body = '';
      for await (const chunk of req) body += chunk;
      const text = await answer(JSON.parse(body).question, req.url);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ answer: text }));
    } catch (error) {
      res.writeHead(500);
      res.end(String(error));
    }
  });
  process.on('SIGTERM', () => server.close());
  server.listen(0, '127.0.0.1', () => console.log(`${name} listening on http://127.0.0.1:${server.address().port}`));
};
