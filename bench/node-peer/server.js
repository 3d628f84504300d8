// The Node peer: plain `http` + the official plivo SDK, as a guide-style receiver would be
// without a framework. Verifies X-Plivo-Signature-V3 and answers 200 (403 on mismatch).
// Env: PLIVO_AUTH_TOKEN, APP_BASE_URL, PORT (0 = any). Prints "listening on http://ADDR".
//
// With DATABASE_URL (postgres://...), it also stores each verified callback before
// answering, as a guide-style handler would: one INSERT per callback through a `pg` pool
// of 10 connections (500 if the insert fails, so Plivo retries). The table `node_peer_events`
// is created in the connection's schema.
'use strict';
const http = require('http');
const querystring = require('querystring');
const { validateV3Signature } = require('plivo');

const token = process.env.PLIVO_AUTH_TOKEN;
const base = process.env.APP_BASE_URL || 'https://example.com';
const pool = process.env.DATABASE_URL
  ? new (require('pg').Pool)({ connectionString: process.env.DATABASE_URL, max: 10 })
  : null;

function answer(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > 65536) { res.writeHead(413); res.end(); req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const params = querystring.parse(raw);
    const ok = validateV3Signature(
      req.method,
      base + req.url,
      req.headers['x-plivo-signature-v3-nonce'] || '',
      token,
      req.headers['x-plivo-signature-v3'] || '',
      params,
    );
    if (!ok) return answer(res, 403, '{"error":"signature mismatch"}');
    if (!pool) return answer(res, 200, '{"ok":true}');
    pool.query(
      'INSERT INTO node_peer_events (message_uuid, status, params, received_at) VALUES ($1, $2, $3, $4)',
      [String(params.MessageUUID || ''), String(params.Status || ''), raw, Date.now()],
    ).then(
      () => answer(res, 200, '{"ok":true}'),
      () => answer(res, 500, '{"error":"storage"}'),
    );
  });
});

async function main() {
  if (pool) {
    await pool.query(`CREATE TABLE IF NOT EXISTS node_peer_events (
      id BIGSERIAL PRIMARY KEY, message_uuid TEXT NOT NULL, status TEXT NOT NULL,
      params TEXT NOT NULL, received_at BIGINT NOT NULL)`);
  }
  server.listen(Number(process.env.PORT || 0), '127.0.0.1', () => {
    console.log(`listening on http://127.0.0.1:${server.address().port}`);
  });
}
main().catch((err) => { console.error(err.message); process.exit(1); });
