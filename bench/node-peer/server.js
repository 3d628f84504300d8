// The Node peer: plain `http` + the official plivo SDK, as a guide-style receiver would be
// without a framework. Verifies X-Plivo-Signature-V3 and answers 200 (403 on mismatch).
// Env: PLIVO_AUTH_TOKEN, APP_BASE_URL, PORT (0 = any). Prints "listening on http://ADDR".
'use strict';
const http = require('http');
const querystring = require('querystring');
const { validateV3Signature } = require('plivo');

const token = process.env.PLIVO_AUTH_TOKEN;
const base = process.env.APP_BASE_URL || 'https://example.com';
const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > 65536) { res.writeHead(413); res.end(); req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => {
    const params = querystring.parse(Buffer.concat(chunks).toString('utf8'));
    const ok = validateV3Signature(
      req.method,
      base + req.url,
      req.headers['x-plivo-signature-v3-nonce'] || '',
      token,
      req.headers['x-plivo-signature-v3'] || '',
      params,
    );
    res.writeHead(ok ? 200 : 403, { 'Content-Type': 'application/json' });
    res.end(ok ? '{"ok":true}' : '{"error":"signature mismatch"}');
  });
});
server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
