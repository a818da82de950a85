import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { PROBLEM_TYPES, problemType, retryAfterSecs, sendProblem } from '../src/index.js';
import { request } from './helpers/http.js';
import { listen, type Running } from './helpers/server.js';

let running: Running | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

const PROBLEM = { type: problemType('busy'), title: 'Busy', status: 503, detail: 'try later' };

describe('problemType', () => {
  it('is one URN scheme for every problem', () => {
    expect(problemType('cooling-down')).toBe('urn:syscan:problem:cooling-down');
    expect(Object.values(PROBLEM_TYPES).every((t) => t.startsWith('urn:syscan:problem:'))).toBe(true);
  });

  it('refuses names that would mint odd types', () => {
    for (const bad of ['', 'Busy', 'a b', 'a--b', '-a', 'x'.repeat(65), 'a/b'])
      expect(() => problemType(bad)).toThrow(/lower-case words/);
  });
});

describe('sendProblem', () => {
  it('replaces what an Express handler prepared with the problem', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.setHeader('ETag', '"abc"');
      res.type('text/html');
      sendProblem(res, { ...PROBLEM, extra: 1 }, { 'Retry-After': 2.2, 'X-Why': 'load' });
    });
    running = await listen(app);
    const r = await request(running.url);
    expect(r.status).toBe(503);
    expect(r.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.etag).toBeUndefined();
    expect(r.headers['retry-after']).toBe('3');
    expect(r.headers['x-why']).toBe('load');
    expect(r.json).toEqual({ ...PROBLEM, extra: 1 });
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
  });

  it('works on a bare node:http server', async () => {
    const server = http.createServer((_req, res) => sendProblem(res, PROBLEM));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const r = await request(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      expect(r.status).toBe(503);
      expect(r.json).toEqual(PROBLEM);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('cuts a response whose headers are already out instead of appending a problem to it', async () => {
    const app = express();
    app.get('/', (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('partial output');
      sendProblem(res, PROBLEM);
    });
    running = await listen(app);
    await expect(request(running.url)).rejects.toThrow();
  });
});

describe('retryAfterSecs', () => {
  it('is always a finite whole number of seconds from 0 to a year', () => {
    expect(retryAfterSecs(1.01)).toBe(2);
    expect(retryAfterSecs(-5)).toBe(0);
    expect(retryAfterSecs(Number.POSITIVE_INFINITY)).toBe(31_536_000);
    expect(retryAfterSecs(1e308)).toBe(31_536_000);
    expect(retryAfterSecs(Number.NaN)).toBe(31_536_000);
    expect(retryAfterSecs('12')).toBe(12);
  });
});
