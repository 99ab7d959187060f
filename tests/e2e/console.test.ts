import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManagedProcess, lastUserText, startScriptedModel, systemIncludes, type ScriptedModel } from '@handoff/testing';
import { redisUrl, uniquePrefix } from '../support/env.js';
import { REPO_ROOT, startHandoff } from '../support/processes.js';
import { openLane } from '../support/queues.js';

const KEY = 'console-key-4f9a';
const NETWORK = 'tests/e2e/networks/console.ts';
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(REPO_ROOT, '.vitest-artifacts', 'console');
/** The README's screenshot: written when missing, or refreshed with HANDOFF_UPDATE_DOCS=1. */
const DOCS_SCREENSHOT = join(REPO_ROOT, 'docs', 'console.png');
const ANSWER = 'Otters are semiaquatic mammals. Sea otters hold hands while they sleep so that they do not drift apart, and they keep a favourite stone in a pouch of skin.';

/**
 * The web console, end to end: a gateway and a worker as separate processes, and the console page
 * in a real headless Chromium (Debian's chromium package, driven by playwright-core) talking to the
 * gateway's authenticated API — key prompt, network graph, a conversation with two handoffs drawn
 * on the graph while its answer streams in, its timeline and context, a cancellation through the
 * UI's cancel button, a virtualized list of many conversations, and a dead letter replayed from
 * the dead-letter view.
 */
describe('web console', () => {
  const prefix = uniquePrefix('console');
  let model: ScriptedModel;
  let processes: ManagedProcess[] = [];
  let base = '';
  let context: BrowserContext | undefined;
  let page: Page;
  let profile = '';
  let redis: Redis;
  /** The conversation with two handoffs. */
  let otters = '';
  const api = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...(init.headers as Record<string, string>) } });
  const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`The console test needs Chromium at ${CHROMIUM} and does not skip without it: install it with "apt-get update && apt-get install -y chromium" (infra/setup.sh does).`);
    }
    await mkdir(ARTIFACTS, { recursive: true });
    model = await startScriptedModel({
      rules: [
        { when: (req) => (lastUserText(req) ?? '').includes('wait forever'), reply: { content: 'never', hang: true } },
        { when: (req) => systemIncludes('You are Intake.')(req) && (lastUserText(req) ?? '').startsWith('quick'), reply: { content: 'Quick answer.' } },
        { when: systemIncludes('You are Intake.'), reply: { toolCalls: [{ name: 'transfer_to_Research', arguments: { reason: 'needs facts' } }] } },
        { when: systemIncludes('You are Writer.'), reply: { content: ANSWER, chunkDelayMs: 60 } },
        { when: (req) => systemIncludes('You are Research.')(req) && (lastUserText(req) ?? '').includes('archive'), reply: (req) => (req.body.messages.at(-1)?.role === 'tool' ? { content: 'The notes are archived.' } : { toolCalls: [{ name: 'archive', arguments: { topic: 'otters' } }] }) },
        { when: (req) => systemIncludes('You are Research.')(req) && req.body.messages.some((m) => m.role === 'tool'), reply: { toolCalls: [{ name: 'transfer_to_Writer', arguments: { reason: 'facts found' } }] } },
        { when: systemIncludes('You are Research.'), reply: { toolCalls: [{ name: 'lookup', arguments: { topic: 'otters' } }] } },
      ],
      chunkSize: 4,
    });
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    processes = await Promise.all([
      startHandoff('gateway', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--api-keys', KEY], env),
      startHandoff('worker', ['worker', '--network', NETWORK, '--concurrency', '16'], env),
    ]);
    const line = processes[0]!.lines.find((l) => l.includes('"msg":"http listening"'))!;
    base = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    redis = new Redis(redisUrl());
    profile = await mkdtemp(join(tmpdir(), 'handoff-console-chromium-'));
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, viewport: { width: 1360, height: 860 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (error) => console.error('console page error:', error));
  }, 90_000);

  afterAll(async () => {
    await context?.close().catch(() => undefined);
    if (profile) await rm(profile, { recursive: true, force: true });
    redis?.disconnect();
    await Promise.all(processes.map((p) => p.stop()));
    await model?.close();
  });

  it('serves the page without auth, asks for the key, and draws the network with live workers', async () => {
    expect((await fetch(`${base}/console/console.js`)).status).toBe(200);
    expect((await fetch(`${base}/v1/conversations`)).status).toBe(401);
    const agents = (await (await api('/v1/agents')).json()) as { agents: { name: string; handoffTargets: string[]; handoffRouters: string[]; fallbacks: string[] }[]; routerAgents: object };
    expect(agents.agents.map((a) => [a.name, a.handoffTargets])).toEqual([['Intake', ['Research']], ['Research', ['Writer']], ['Writer', ['Intake']]]);
    expect(agents.agents.every((a) => a.handoffRouters.length === 0 && a.fallbacks.length === 0)).toBe(true);
    expect(agents.routerAgents).toEqual({});

    // Before a key is entered, one call learns that the gateway wants one; the other pollers wait.
    const withoutKey: string[] = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/') && request.headers().authorization === undefined) withoutKey.push(new URL(request.url()).pathname);
    });
    await page.goto(`${base}/console`);
    expect(page.url()).toBe(`${base}/console/`);
    await page.locator('#key-dialog').waitFor({ state: 'visible', timeout: 10_000 });
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // past every poller's first interval
    expect(withoutKey).toHaveLength(1);
    await page.fill('#api-key', 'wrong-key');
    await page.click('#api-key-save');
    await page.locator('#key-error').filter({ hasText: 'not accepted' }).waitFor({ timeout: 10_000 });
    await page.fill('#api-key', KEY);
    await page.click('#api-key-save');
    await page.locator('#key-dialog').waitFor({ state: 'hidden' });

    for (const agent of ['Intake', 'Research', 'Writer']) await page.locator(`#graph g.node[data-agent="${agent}"]`).waitFor({ timeout: 10_000 });
    for (const [from, to] of [['Intake', 'Research'], ['Research', 'Writer'], ['Writer', 'Intake']]) {
      expect(await page.locator(`#graph path.edge[data-from="${from}"][data-to="${to}"]`).count()).toBe(1);
    }
    await page.locator('#graph g.node[data-agent="Writer"] .stats', { hasText: '1 worker ·' }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#graph g.node.no-workers').count()).toBe(0);
    expect(await page.locator('#network-name').textContent()).toBe('console');
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(key: string): string | null } }).sessionStorage.getItem('handoff.console.apiKey'))).toBe(KEY);
  });

  it('starts a conversation, draws its path on the graph as it moves, streams the answer, shows tools, context and timeline', async () => {
    await page.selectOption('#start-agent', 'Intake');
    await page.fill('#start-input', 'Tell me about otters');
    await page.click('#start-button');
    await page.locator('#detail-id', { hasText: /^c_/ }).waitFor({ timeout: 10_000 });
    const id = (await page.locator('#detail-id').textContent())!;

    // While Writer streams: the path so far is highlighted, Writer is the current agent, and the text grows.
    await page.locator('#graph g.node.current[data-agent="Writer"]').waitFor({ timeout: 15_000 });
    const writerText = page.locator('#tab-transcript .hop[data-agent="Writer"] .text');
    await writerText.filter({ hasText: /\S/ }).waitFor({ timeout: 10_000 });
    const partial = (await writerText.textContent()) ?? '';
    expect(partial.length).toBeGreaterThan(0);
    expect(partial.length).toBeLessThan(ANSWER.length);
    expect(ANSWER.startsWith(partial)).toBe(true);
    expect(await page.locator('#graph path.edge.on-path[data-from="Intake"][data-to="Research"]').count()).toBe(1);
    expect(await page.locator('#graph path.edge.on-path[data-from="Research"][data-to="Writer"]').count()).toBe(1);
    await shot('01-streaming');

    await page.locator('#detail-status[data-status="completed"]').waitFor({ timeout: 15_000 });
    expect(await writerText.textContent()).toBe(ANSWER);
    for (const agent of ['Intake', 'Research', 'Writer']) expect(await page.locator(`#graph g.node.on-path[data-agent="${agent}"]`).count()).toBe(1);
    expect(await page.locator('#graph path.edge.on-path').count()).toBe(2);
    expect(await page.locator('#graph path.edge.on-path[data-from="Writer"]').count()).toBe(0);
    expect(await page.locator('#graph g.node.current').count()).toBe(0);
    expect(await page.locator('#detail-path').textContent()).toBe('Intake → Research → Writer');
    // The user's opening message, the tool call and its result, the handoffs, and the list row.
    expect(await page.locator('#tab-transcript .item.user .text').first().textContent()).toBe('Tell me about otters');
    await page.locator('#tab-transcript .hop[data-agent="Research"] .tool', { hasText: 'lookup({"topic":"otters"})' }).waitFor();
    expect(await page.locator('#tab-transcript .hop[data-agent="Research"] .tool', { hasText: 'lookup(' }).locator('.res').textContent()).toContain('Notes about otters');
    expect(await page.locator('#tab-transcript .hop[data-agent="Research"] .tool', { hasText: 'transfer_to_Writer(' }).count()).toBe(1);
    expect(await page.locator('#tab-transcript .note.handoff', { hasText: 'Intake → Research: needs facts' }).count()).toBe(1);
    await page.locator(`#conv-list .vrow[data-id="${id}"][data-status="completed"]`).waitFor({ timeout: 10_000 });
    await shot('02-completed');
    otters = id;

    await page.click('#detail-tabs button[data-tab="context"]');
    await page.locator('#context-json', { hasText: 'topic' }).waitFor();
    expect(JSON.parse((await page.locator('#context-json').textContent())!)).toMatchObject({ topic: 'otters' });

    await page.click('#detail-tabs button[data-tab="timeline"]');
    await page.locator('#tab-timeline .timeline-row').first().waitFor();
    expect(await page.locator('#tab-timeline .timeline-row').count()).toBe(3);
    expect(await page.locator('#tab-timeline .timeline-row .t-model').count()).toBe(3);
    expect(await page.locator('#tab-timeline .timeline-row .t-tool').count()).toBeGreaterThanOrEqual(1);
    const rows = await page.locator('#tab-timeline table tr').allTextContents();
    expect(rows.slice(1).map((row) => row.replace(/^\d+/, ''))).toEqual([expect.stringMatching(/^Intake/), expect.stringMatching(/^Research/), expect.stringMatching(/^Writer/)]);
    await shot('03-timeline');
    await page.click('#detail-tabs button[data-tab="transcript"]');

    // The same conversation through the list API.
    const listed = (await (await api('/v1/conversations?limit=50')).json()) as { conversations: { conversationId: string; status: string; path: string[]; currentAgent: string }[] };
    expect(listed.conversations.find((c) => c.conversationId === id)).toMatchObject({ status: 'completed', path: ['Intake', 'Research', 'Writer'], currentAgent: 'Writer' });
  });

  it('cancels a running conversation with the cancel button, and shows it cancelled', async () => {
    const before = model.requests.length;
    await page.fill('#start-input', 'please wait forever');
    await page.click('#start-button');
    await page.locator('#detail-status[data-status="running"]').waitFor({ timeout: 10_000 });
    const id = (await page.locator('#detail-id').textContent())!;
    await page.locator('#graph g.node.current[data-agent="Intake"]').waitFor({ timeout: 10_000 });
    await expect.poll(() => model.requests.slice(before).some((r) => lastUserText(r) === 'please wait forever'), { timeout: 10_000 }).toBe(true);
    expect(await page.locator('#graph path.edge.on-path').count()).toBe(0);

    await page.click('#cancel-conversation');
    await page.locator('#detail-status[data-status="cancelled"]').waitFor({ timeout: 15_000 });
    expect(await page.locator('#cancel-conversation').isDisabled()).toBe(true);
    await page.locator(`#conv-list .vrow[data-id="${id}"][data-status="cancelled"]`).waitFor({ timeout: 10_000 });
    expect(await page.locator('#decision-count').textContent()).toBe('1');
    await page.click('#detail-tabs button[data-tab="decisions"]');
    expect(await page.locator('#decision-list li').first().textContent()).toContain('cancelled from the console');
    await shot('04-cancelled');
    await page.click('#detail-tabs button[data-tab="transcript"]');
    const status = (await (await api(`/v1/conversations/${id}`)).json()) as { status: string };
    expect(status.status).toBe('cancelled');
  });

  it('approves a tool call with the approve button, and shows its result with the call', async () => {
    await page.selectOption('#start-agent', 'Research');
    await page.fill('#start-input', 'please archive the otter notes');
    await page.click('#start-button');
    await page.locator('#detail-status[data-status="awaiting_user"]').waitFor({ timeout: 15_000 });
    await page.locator('#approval-form').waitFor({ state: 'visible' });
    const call = page.locator('#tab-transcript .hop[data-agent="Research"] .tool', { hasText: 'archive({"topic":"otters"})' });
    await call.waitFor({ timeout: 10_000 });
    await page.click('#approve-button');
    await page.locator('#detail-status[data-status="completed"]').waitFor({ timeout: 15_000 });
    // The result was produced by the next hop; it is shown with its call, in the hop that made it.
    await expect.poll(async () => (await call.locator('.res').textContent()) ?? '', { timeout: 10_000 }).toContain('Archived the notes about otters.');
    await page.selectOption('#start-agent', 'Intake');
  });

  it('keeps the conversation list virtualized with many conversations', async () => {
    const ids = await Promise.all(
      Array.from({ length: 80 }, async (_, i) => {
        const response = await api('/v1/conversations', { method: 'POST', body: JSON.stringify({ agent: 'Intake', input: `quick ${i}` }) });
        return ((await response.json()) as { conversationId: string }).conversationId;
      }),
    );
    expect(new Set(ids).size).toBe(80);
    await expect.poll(async () => Number(/^(\d+) shown/.exec((await page.locator('#conv-count').textContent()) ?? '')?.[1] ?? 0), { timeout: 20_000 }).toBeGreaterThanOrEqual(82);
    const rendered = await page.locator('#conv-list .vrow').count();
    expect(rendered).toBeGreaterThan(3);
    expect(rendered).toBeLessThan(40);
    // Scrolling to the end renders the oldest rows instead.
    await page.locator('#conv-list').evaluate((list) => (list.scrollTop = list.scrollHeight));
    await expect.poll(async () => page.locator('#conv-list .vrow').allTextContents().then((rows) => rows.some((row) => row.includes('Tell me about') || row.includes('Intake → Research → Writer'))), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('#conv-list .vrow').count()).toBeLessThan(40);
    const page1 = (await (await api('/v1/conversations?limit=50')).json()) as { conversations: unknown[] };
    expect(page1.conversations).toHaveLength(50);

    // Re-open the conversation with two handoffs by id: the README's picture.
    await page.locator('#conv-list').evaluate((list) => (list.scrollTop = 0));
    await page.fill('#open-id', otters);
    await page.click('#open-button');
    await page.locator('#detail-id', { hasText: otters }).waitFor();
    await page.locator('#tab-transcript .hop[data-agent="Writer"] .text', { hasText: ANSWER }).waitFor({ timeout: 10_000 });
    expect(await page.locator('#graph path.edge.on-path').count()).toBe(2);
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: 10_000 });
    await shot('06-overview');
    if (!existsSync(DOCS_SCREENSHOT) || process.env.HANDOFF_UPDATE_DOCS === '1') {
      await mkdir(join(REPO_ROOT, 'docs'), { recursive: true });
      await copyFile(join(ARTIFACTS, '06-overview.png'), DOCS_SCREENSHOT);
    }
  });

  it('works without a key on a gateway run with --no-auth, and shares the conversation list with the other gateway', async () => {
    const env = { REDIS_URL: redisUrl(), HANDOFF_PREFIX: prefix, OPENAI_BASE_URL: model.url, OPENAI_API_KEY: 'test' };
    const open = await startHandoff('gateway-no-auth', ['gateway', '--network', NETWORK, '--http-port', '0', '--http-host', '127.0.0.1', '--no-auth'], env);
    processes.push(open);
    const line = open.lines.find((l) => l.includes('"msg":"http listening"'))!;
    const openBase = `http://127.0.0.1:${(JSON.parse(line) as { port: number }).port}`;
    const second = await context!.newPage();
    try {
      await second.goto(`${openBase}/console/`);
      await second.locator('#graph g.node[data-agent="Intake"]').waitFor({ timeout: 10_000 });
      await second.locator('#conv-list .vrow').first().waitFor({ timeout: 10_000 });
      await second.fill('#conv-filter', otters);
      await second.locator(`#conv-list .vrow[data-id="${otters}"][data-status="completed"]`).waitFor({ timeout: 10_000 });
      expect(await second.locator('#conv-list .vrow').count()).toBe(1);
      expect(await second.locator('#key-dialog').isHidden()).toBe(true);
      expect(await second.locator('#forget-key').isHidden()).toBe(true);
    } finally {
      await second.close();
    }
  });

  it('lists dead letters and replays one from the dead-letter view', async () => {
    await openLane('Intake', redis, prefix).push('poison-1', JSON.stringify({ not: 'an envelope' }));
    type Letters = { deadLetters: { id: string; sourceQueue: string; deadAt: number; error: { code: string } }[]; total: number };
    const letters = async () => (await (await api('/v1/dead-letters')).json()) as Letters;
    await expect.poll(async () => (await letters()).total, { timeout: 10_000 }).toBe(1);
    const [letter] = (await letters()).deadLetters;
    expect(letter).toMatchObject({ sourceQueue: 'agent.Intake', error: { code: 'VALIDATION_FAILED' } });

    await page.click('#views button[data-view="dead-letters"]');
    const row = page.locator(`#dl-list .vrow[data-id="${letter!.id}"]`);
    await row.waitFor({ timeout: 10_000 });
    expect(await row.textContent()).toContain('agent.Intake / poison-1');
    await shot('05-dead-letters');
    await row.locator('button', { hasText: 'Replay' }).click();
    await page.locator('#toast', { hasText: `Replayed ${letter!.id}` }).waitFor({ timeout: 10_000 });
    // The payload went back to its queue, failed again, and is a new dead letter.
    await expect.poll(async () => (await letters()).deadLetters[0]?.deadAt ?? 0, { timeout: 10_000 }).toBeGreaterThan(letter!.deadAt);
    expect((await api('/v1/dead-letters/nope/replay', { method: 'POST' })).status).toBe(404);
  });
});
