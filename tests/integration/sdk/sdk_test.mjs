// Checks that the official OpenAI and Anthropic Node client libraries work unchanged
// against `sluice-gateway --demo`: plain and streamed answers, model listing, the
// error classes the libraries derive from the gateway's status codes and error
// bodies, and the response cache as seen through the libraries' raw-response API.
//
// Usage: node sdk_test.mjs PATH/TO/sluice-gateway   (or SLUICE_GATEWAY=... node sdk_test.mjs)
// Exit status: 0 all checks passed, 1 a check failed (or the gateway misbehaved or
// the run took longer than 60 s), 2 usage error. The gateway is always stopped.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';

import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

const kOverallTimeoutMs = 60_000;
const kStartupTimeoutMs = 20_000;
const kStopTimeoutMs = 10_000;
const kRequestTimeoutMs = 15_000;
const kStderrLinesKept = 60;

const gatewayPath = process.argv[2] || process.env.SLUICE_GATEWAY;
if (!gatewayPath) {
    console.error('usage: node sdk_test.mjs PATH/TO/sluice-gateway   (or set SLUICE_GATEWAY)');
    process.exit(2);
}

let gateway = null; // the child process while it may be running
let stopping = false; // set once we sent SIGTERM ourselves
let gatewayExit = null; // { code, signal } once it exited
const stderrTail = [];
let currentCheck = '(starting the gateway)';

function printGatewayStderr() {
    if (stderrTail.length === 0)
        return;
    console.error(`--- last ${stderrTail.length} lines of the gateway's stderr ---`);
    for (const line of stderrTail)
        console.error(line);
    console.error('---');
}

// Last resort: never leave the gateway running, whatever path ends this process.
process.on('exit', () => {
    if (gateway && gatewayExit === null)
        gateway.kill('SIGKILL');
});

const overallTimer = setTimeout(() => {
    console.error(`FAIL: overall timeout of ${kOverallTimeoutMs / 1000} s reached during: ${currentCheck}`);
    printGatewayStderr();
    process.exit(1);
}, kOverallTimeoutMs);

// Starts the demo gateway on free ports and reads its URLs and client key from stdout.
function startGateway() {
    return new Promise((resolve, reject) => {
        const child = spawn(gatewayPath, ['--demo', '--port', '0', '--admin-port', '0'], {
            stdio: ['ignore', 'pipe', 'pipe'],
        });
        gateway = child;
        const found = {};
        let settled = false;
        const settle = (fn, value) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                fn(value);
            }
        };
        const timer = setTimeout(
            () => settle(reject, new Error(`the gateway printed no URLs within ${kStartupTimeoutMs / 1000} s`)),
            kStartupTimeoutMs);

        child.on('error', (error) => settle(reject, new Error(`cannot start ${gatewayPath}: ${error.message}`)));
        child.on('exit', (code, signal) => {
            gatewayExit = { code, signal };
            settle(reject, new Error(`the gateway exited during start-up (code ${code}, signal ${signal})`));
        });
        createInterface({ input: child.stderr }).on('line', (line) => {
            stderrTail.push(line);
            if (stderrTail.length > kStderrLinesKept)
                stderrTail.shift();
        });
        // Keep reading stdout after start-up too, so the gateway never blocks on a full pipe.
        createInterface({ input: child.stdout }).on('line', (line) => {
            const match = /^\s*(OpenAI base URL|Anthropic base URL|client API key|admin API):\s*(\S+)\s*$/.exec(line);
            if (match)
                found[match[1]] = match[2];
            if (found['OpenAI base URL'] && found['Anthropic base URL'] && found['client API key'])
                settle(resolve, {
                    openaiBaseURL: found['OpenAI base URL'],
                    anthropicBaseURL: found['Anthropic base URL'],
                    apiKey: found['client API key'],
                });
        });
    });
}

// SIGTERM (the gateway drains, then exits 0); SIGKILL if it takes too long.
async function stopGateway() {
    if (!gateway || gatewayExit !== null || gateway.pid === undefined) // never started, or gone already
        return gatewayExit;
    stopping = true;
    const exited = new Promise((resolve) => gateway.once('exit', (code, signal) => resolve({ code, signal })));
    const exitedWithin = async (ms) => {
        let timer;
        const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), ms); });
        const result = await Promise.race([exited, timedOut]);
        clearTimeout(timer);
        return result;
    };
    gateway.kill('SIGTERM');
    const result = await exitedWithin(kStopTimeoutMs);
    if (result === null) {
        gateway.kill('SIGKILL');
        await exitedWithin(kStopTimeoutMs);
        return { code: null, signal: 'SIGKILL', hung: true };
    }
    return result;
}

const results = [];

async function check(name, fn) {
    currentCheck = name;
    try {
        if (gatewayExit !== null)
            throw new Error(`the gateway is no longer running (code ${gatewayExit.code}, signal ${gatewayExit.signal})`);
        await fn();
        results.push({ name, ok: true });
        console.log(`ok     ${name}`);
    } catch (error) {
        results.push({ name, ok: false });
        console.log(`FAILED ${name}`);
        console.log(`       ${describe(error).split('\n').join('\n       ')}`);
    }
}

function describe(error) {
    if (error instanceof assert.AssertionError)
        return error.message;
    const parts = [`${error?.constructor?.name ?? 'Error'}: ${error?.message ?? String(error)}`];
    if (error?.status !== undefined)
        parts.push(`status ${error.status}`);
    if (error?.error !== undefined)
        parts.push(`body ${JSON.stringify(error.error)}`);
    if (error?.cause)
        parts.push(`cause ${error.cause?.message ?? String(error.cause)}`);
    return parts.join('; ');
}

// Awaits `promise`, which must reject with an instance of `errorClass` and HTTP `status`;
// returns the error for further checks.
async function expectApiError(promise, errorClass, status) {
    let error = null;
    try {
        const value = await promise;
        assert.fail(`expected ${errorClass.name} (${status}), but the call succeeded: ${JSON.stringify(value).slice(0, 300)}`);
    } catch (caught) {
        if (caught instanceof assert.AssertionError)
            throw caught;
        error = caught;
    }
    assert.ok(error instanceof errorClass,
              `expected ${errorClass.name} (${status}), got ${describe(error)}`);
    assert.equal(error.status, status, `status of ${errorClass.name}`);
    return error;
}

function isCount(value) {
    return Number.isInteger(value) && value >= 0;
}

// A fresh prompt per request (unless a test wants a repeat), so no answer comes from the cache by accident.
function prompt(what) {
    return `${what} ${randomUUID()}`;
}

async function openAIChecks(endpoints) {
    const options = { baseURL: endpoints.openaiBaseURL, maxRetries: 0, timeout: kRequestTimeoutMs,
                      organization: null, project: null };
    const client = new OpenAI({ ...options, apiKey: endpoints.apiKey });
    const model = 'gpt-4o-mini';

    await check('openai: chat.completions.create (non-stream)', async () => {
        const completion = await client.chat.completions.create({
            model, max_tokens: 64, messages: [{ role: 'user', content: prompt('Say hello.') }],
        });
        assert.equal(completion.object, 'chat.completion');
        assert.equal(typeof completion.id, 'string');
        assert.ok(completion.choices.length >= 1, 'at least one choice');
        const message = completion.choices[0].message;
        assert.equal(message.role, 'assistant');
        assert.equal(typeof message.content, 'string', 'message.content is a string');
        assert.ok(message.content.length > 0, 'message.content is not empty');
        assert.equal(typeof completion.choices[0].finish_reason, 'string', 'finish_reason');
        const usage = completion.usage;
        assert.ok(usage, 'usage present');
        assert.ok(isCount(usage.prompt_tokens) && usage.prompt_tokens > 0, `usage.prompt_tokens = ${usage.prompt_tokens}`);
        assert.ok(isCount(usage.completion_tokens) && usage.completion_tokens > 0,
                  `usage.completion_tokens = ${usage.completion_tokens}`);
        assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens, 'total = prompt + completion');
    });

    await check('openai: chat.completions.create (stream, no usage requested)', async () => {
        const stream = await client.chat.completions.create({
            model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: prompt('Count to five.') }],
        });
        let text = '';
        let chunks = 0;
        let finishReason = null;
        for await (const chunk of stream) {
            ++chunks;
            assert.equal(chunk.object, 'chat.completion.chunk');
            // Clients commonly read chunk.choices[0] unguarded: without include_usage every
            // chunk must carry a choice, and none carries usage.
            assert.ok(chunk.choices.length >= 1, `chunk ${chunks} has no choices: ${JSON.stringify(chunk)}`);
            assert.ok(chunk.usage == null, `chunk ${chunks} has usage although none was requested: ${JSON.stringify(chunk)}`);
            text += chunk.choices[0].delta?.content ?? '';
            finishReason = chunk.choices[0].finish_reason ?? finishReason;
        }
        assert.ok(chunks >= 2, `expected several chunks, got ${chunks}`);
        assert.ok(text.length > 0, 'streamed text is not empty');
        assert.equal(typeof finishReason, 'string', 'some chunk carries finish_reason');
    });

    await check('openai: chat.completions.create (stream, stream_options.include_usage)', async () => {
        const stream = await client.chat.completions.create({
            model, max_tokens: 64, stream: true, stream_options: { include_usage: true },
            messages: [{ role: 'user', content: prompt('Name three colours.') }],
        });
        const chunks = [];
        for await (const chunk of stream)
            chunks.push(chunk);
        assert.ok(chunks.length >= 2, `expected several chunks, got ${chunks.length}`);
        const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
        assert.ok(text.length > 0, 'streamed text is not empty');
        const last = chunks.at(-1);
        assert.ok(last.usage, `the last chunk has usage: ${JSON.stringify(last)}`);
        assert.ok(isCount(last.usage.prompt_tokens) && last.usage.prompt_tokens > 0, 'last chunk usage.prompt_tokens');
        assert.ok(isCount(last.usage.completion_tokens) && last.usage.completion_tokens > 0,
                  'last chunk usage.completion_tokens');
        assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + last.usage.completion_tokens,
                     'last chunk total = prompt + completion');
        assert.deepEqual(last.choices, [], 'the usage chunk has an empty choices array');
        for (const [i, chunk] of chunks.slice(0, -1).entries())
            assert.ok(chunk.usage == null, `chunk ${i + 1} before the last has usage: ${JSON.stringify(chunk)}`);
    });

    await check('openai: chat.completions.stream helper, finalChatCompletion()', async () => {
        const runner = client.chat.completions.stream({
            model, max_tokens: 64, messages: [{ role: 'user', content: prompt('Tell me a fact.') }],
        });
        let deltas = '';
        runner.on('content', (delta) => { deltas += delta; });
        const final = await runner.finalChatCompletion();
        const content = final.choices[0]?.message?.content;
        assert.equal(typeof content, 'string', 'accumulated content is a string');
        assert.ok(content.length > 0, 'accumulated content is not empty');
        assert.equal(content, deltas, 'accumulated content equals the content deltas');
    });

    await check('openai: models.list contains gpt-4o-mini', async () => {
        const ids = [];
        for await (const entry of client.models.list())
            ids.push(entry.id);
        assert.ok(ids.includes('gpt-4o-mini'), `model ids: ${JSON.stringify(ids)}`);
    });

    await check('openai: second identical request is a cache hit (x-sluice-cache)', async () => {
        const body = { model, max_tokens: 64, temperature: 0, messages: [{ role: 'user', content: prompt('Cache me.') }] };
        const first = await client.chat.completions.create(body).withResponse();
        assert.equal(first.response.headers.get('x-sluice-cache'), 'MISS', 'first request');
        const second = await client.chat.completions.create(body).withResponse();
        assert.equal(second.response.headers.get('x-sluice-cache'), 'HIT', 'second request');
        assert.equal(second.data.choices[0].message.content, first.data.choices[0].message.content,
                     'the cached answer has the same content');
        const raw = await client.chat.completions.create(body).asResponse();
        assert.equal(raw.status, 200);
        assert.equal(raw.headers.get('x-sluice-cache'), 'HIT', 'third request (asResponse)');
        await raw.body?.cancel();
    });

    await check('openai: unknown model raises NotFoundError (404)', async () => {
        const error = await expectApiError(
            client.chat.completions.create({ model: 'no-such-model-xyz', messages: [{ role: 'user', content: 'hi' }] }),
            OpenAI.NotFoundError, 404);
        assert.equal(typeof error.error?.message, 'string', `OpenAI error body: ${JSON.stringify(error.error)}`);
    });

    await check('openai: temperature 5 raises BadRequestError (400)', async () => {
        const error = await expectApiError(
            client.chat.completions.create({ model, temperature: 5, messages: [{ role: 'user', content: 'hi' }] }),
            OpenAI.BadRequestError, 400);
        assert.equal(typeof error.error?.message, 'string', `OpenAI error body: ${JSON.stringify(error.error)}`);
    });

    await check('openai: wrong API key raises AuthenticationError (401)', async () => {
        const wrong = new OpenAI({ ...options, apiKey: 'sk-sluice-wrong-key' });
        const error = await expectApiError(
            wrong.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
            OpenAI.AuthenticationError, 401);
        assert.equal(typeof error.error?.message, 'string', `OpenAI error body: ${JSON.stringify(error.error)}`);
    });
}

async function anthropicChecks(endpoints) {
    const options = { baseURL: endpoints.anthropicBaseURL, maxRetries: 0, timeout: kRequestTimeoutMs, authToken: null };
    const client = new Anthropic({ ...options, apiKey: endpoints.apiKey });
    const model = 'claude-3-5-haiku-latest';

    await check('anthropic: messages.create (non-stream)', async () => {
        const message = await client.messages.create({
            model, max_tokens: 64, messages: [{ role: 'user', content: prompt('Say hello.') }],
        });
        assert.equal(message.type, 'message');
        assert.equal(message.role, 'assistant');
        assert.ok(Array.isArray(message.content) && message.content.length >= 1, 'content is a non-empty array');
        assert.equal(message.content[0].type, 'text');
        assert.equal(typeof message.content[0].text, 'string');
        assert.ok(message.content[0].text.length > 0, 'content[0].text is not empty');
        assert.equal(typeof message.stop_reason, 'string', 'stop_reason');
        assert.ok(isCount(message.usage?.input_tokens) && message.usage.input_tokens > 0,
                  `usage.input_tokens = ${message.usage?.input_tokens}`);
        assert.ok(isCount(message.usage?.output_tokens) && message.usage.output_tokens > 0,
                  `usage.output_tokens = ${message.usage?.output_tokens}`);
    });

    await check('anthropic: messages.stream (events + finalMessage())', async () => {
        const stream = client.messages.stream({
            model, max_tokens: 64, messages: [{ role: 'user', content: prompt('Count to five.') }],
        });
        const types = [];
        let text = '';
        for await (const event of stream) {
            types.push(event.type);
            if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
                text += event.delta.text;
        }
        const final = await stream.finalMessage();
        assert.equal(types[0], 'message_start', `event types: ${types.join(',')}`);
        assert.equal(types.at(-1), 'message_stop', `event types: ${types.join(',')}`);
        assert.ok(types.includes('content_block_start') && types.includes('content_block_stop')
                  && types.includes('message_delta'), `event types: ${types.join(',')}`);
        assert.ok(text.length > 0, 'streamed text is not empty');
        assert.equal(final.content[0]?.type, 'text');
        assert.equal(final.content[0].text, text, 'finalMessage text equals the text deltas');
        assert.equal(typeof final.stop_reason, 'string', 'finalMessage stop_reason');
        assert.ok(isCount(final.usage?.output_tokens) && final.usage.output_tokens > 0,
                  `finalMessage usage.output_tokens = ${final.usage?.output_tokens}`);
    });

    await check('anthropic: messages.create (stream: true, raw events)', async () => {
        const stream = await client.messages.create({
            model, max_tokens: 64, stream: true, messages: [{ role: 'user', content: prompt('Name a river.') }],
        });
        const types = [];
        let text = '';
        for await (const event of stream) {
            types.push(event.type);
            if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
                text += event.delta.text;
        }
        assert.equal(types[0], 'message_start', `event types: ${types.join(',')}`);
        assert.equal(types.at(-1), 'message_stop', `event types: ${types.join(',')}`);
        assert.ok(text.length > 0, 'streamed text is not empty');
    });

    await check('anthropic: missing max_tokens raises BadRequestError (400)', async () => {
        const error = await expectApiError(
            client.messages.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
            Anthropic.BadRequestError, 400);
        assert.equal(error.error?.type, 'error', `Anthropic error body: ${JSON.stringify(error.error)}`);
        assert.equal(error.error?.error?.type, 'invalid_request_error', `Anthropic error body: ${JSON.stringify(error.error)}`);
    });

    await check('anthropic: wrong API key raises AuthenticationError (401)', async () => {
        const wrong = new Anthropic({ ...options, apiKey: 'sk-sluice-wrong-key' });
        const error = await expectApiError(
            wrong.messages.create({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
            Anthropic.AuthenticationError, 401);
        assert.equal(error.error?.error?.type, 'authentication_error', `Anthropic error body: ${JSON.stringify(error.error)}`);
    });
}

async function main() {
    let endpoints;
    try {
        endpoints = await startGateway();
    } catch (error) {
        console.error(`FAIL: ${error.message}`);
        printGatewayStderr();
        await stopGateway();
        return 1;
    }
    console.log(`gateway: OpenAI ${endpoints.openaiBaseURL}, Anthropic ${endpoints.anthropicBaseURL}`);
    gateway.on('exit', (code, signal) => {
        gatewayExit = { code, signal };
        if (!stopping)
            console.error(`gateway exited unexpectedly (code ${code}, signal ${signal}) during: ${currentCheck}`);
    });

    await openAIChecks(endpoints);
    await anthropicChecks(endpoints);

    currentCheck = '(stopping the gateway)';
    const unexpectedExit = gatewayExit !== null;
    const exit = await stopGateway();
    const cleanStop = !unexpectedExit && exit && !exit.hung && exit.code === 0;
    if (!cleanStop)
        console.log(`FAILED gateway stops cleanly on SIGTERM (exit ${JSON.stringify(exit)}${unexpectedExit ? ', exited before SIGTERM' : ''})`);

    const failed = results.filter((r) => !r.ok);
    console.log(`${results.length - failed.length}/${results.length} checks passed`);
    if (failed.length > 0 || !cleanStop) {
        printGatewayStderr();
        console.error(`FAIL: ${failed.map((r) => r.name).concat(cleanStop ? [] : ['gateway stop']).join('; ')}`);
        return 1;
    }
    return 0;
}

main().then(
    (status) => {
        clearTimeout(overallTimer);
        process.exit(status);
    },
    async (error) => {
        console.error(`FAIL: unexpected error during ${currentCheck}: ${error?.stack ?? error}`);
        printGatewayStderr();
        await stopGateway();
        process.exit(1);
    });
