#!/usr/bin/env node
// The polite Node.js reference client as a service: the contract of `conformance run
// --client-url` and `load --client-url`. Each POST carries one validation to follow:
//
//     {"account_id": "...", "base_url": "...", "api_key": "...", "poll_deadline_seconds": 60}
//
// and is answered, once the validation is followed to its end, with the client's result object
// (`{"validation_id", "validation_status", "failure_status"}`), 502 with an `error` when it could
// not be followed, 400 for a job it cannot read. Every job runs concurrently on the one event
// loop, as a Node.js backend follows validations.
//
//     node service.mjs [PORT]      # PORT 0 (default) picks a free one
//
// The first stdout line is `listening on http://127.0.0.1:PORT`. No packages; the polling
// itself is good_client.mjs's.

import http from 'node:http';
import { follow } from './good_client.mjs';

const log = (msg) => process.stderr.write(`${msg}\n`);

function answer(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** The job's fields, or a message saying what is wrong with it. */
function readJob(text) {
  let job;
  try {
    job = JSON.parse(text || '{}');
  } catch (e) {
    return { error: `bad job: ${e.message}` };
  }
  for (const name of ['base_url', 'api_key', 'account_id']) {
    if (typeof job[name] !== 'string') return { error: `bad job: ${name} must be a string` };
  }
  const deadline = Number(job.poll_deadline_seconds ?? 300);
  if (!Number.isFinite(deadline) || deadline <= 0) return { error: 'bad job: poll_deadline_seconds must be a positive number' };
  return { baseUrl: job.base_url, apiKey: job.api_key, accountId: job.account_id, deadline };
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') return answer(res, 405, { validation_status: 'error', error: 'POST a job' });
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', async () => {
    const job = readJob(Buffer.concat(chunks).toString('utf8'));
    if (job.error) return answer(res, 400, { validation_status: 'error', error: job.error });
    try {
      answer(res, 200, await follow(job));
    } catch (e) {
      log(`${job.accountId}: ${e.message}`);
      answer(res, 502, { validation_status: 'error', error: e.message });
    }
  });
});
// A job lasts as long as its polling: never time a request out on our side.
server.requestTimeout = 0;
server.headersTimeout = 0;
server.keepAliveTimeout = 5000;

const port = Number(process.argv[2] || 0);
server.listen({ host: '127.0.0.1', port, backlog: 1024 }, () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`);
});
