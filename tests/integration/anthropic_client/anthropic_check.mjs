// Drives the gateway's POST /v1/messages with the official `@anthropic-ai/sdk` package, as an
// application would, against two logical models: one served by an OpenAI-compatible upstream
// (the gateway translates) and one by an Anthropic upstream (passed through). Prints one JSON
// object with what it saw (anthropic_sdk_test.cpp checks it). Exits non-zero, with the error
// on stderr, when a call fails unexpectedly.
//
//   APIPROXY_ANTHROPIC_BASE_URL  http://127.0.0.1:PORT (the SDK adds /v1/messages)
//   APIPROXY_API_KEY             base64(APIPROXY_AUTH_TOKEN), sent as x-api-key
//   APIPROXY_TRANSLATED_MODEL    a logical model on an OpenAI-compatible provider
//   APIPROXY_NATIVE_MODEL        a logical model on the anthropic provider
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const sdkVersion = () => {
  const url = new URL('./node_modules/@anthropic-ai/sdk/package.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')).version;
};

const options = { baseURL: env('APIPROXY_ANTHROPIC_BASE_URL'), maxRetries: 0, timeout: 10_000 };
const client = new Anthropic({ ...options, apiKey: env('APIPROXY_API_KEY') });

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const weatherQuestion = { role: 'user', content: 'What is the weather in Paris today?' };

const textOf = (message) =>
  message.content
    .filter((b) => b.type === 'text')
    .map((b) => b.text)
    .join('');
const toolUseOf = (message) => {
  const block = message.content.find((b) => b.type === 'tool_use');
  return block ? { id: block.id, name: block.name, input: block.input } : null;
};

// messages.create, with the raw response for the gateway's headers.
async function plainCall(model) {
  const { data, response } = await client.messages
    .create({
      model,
      max_tokens: 256,
      system: 'Answer briefly.',
      messages: [{ role: 'user', content: `hello from the anthropic sdk to ${model}` }],
    })
    .withResponse();
  return {
    id: data.id,
    type: data.type,
    role: data.role,
    model: data.model,
    text: textOf(data),
    blocks: data.content.length,
    stop_reason: data.stop_reason,
    input_tokens: data.usage?.input_tokens ?? null,
    output_tokens: data.usage?.output_tokens ?? null,
    provider: response.headers.get('x-apiproxy-provider'),
  };
}

// messages.stream: the SDK's helper, which rebuilds the message from the events.
async function helperStream(model) {
  const stream = client.messages.stream({
    model,
    max_tokens: 256,
    messages: [{ role: 'user', content: `stream from the anthropic sdk to ${model}` }],
  });
  let text = '';
  let textEvents = 0;
  stream.on('text', (delta) => {
    text += delta;
    textEvents += 1;
  });
  const final = await stream.finalMessage();
  return {
    text,
    text_events: textEvents,
    final_text: textOf(final),
    stop_reason: final.stop_reason,
    output_tokens: final.usage?.output_tokens ?? null,
  };
}

// messages.create({stream: true}): the raw events, in order.
async function rawStream(model) {
  const stream = await client.messages.create({
    model,
    max_tokens: 256,
    stream: true,
    messages: [{ role: 'user', content: `raw stream to ${model}` }],
  });
  const types = [];
  let text = '';
  let stopReason = null;
  for await (const event of stream) {
    if (types[types.length - 1] !== event.type) types.push(event.type);
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
    if (event.type === 'message_delta') stopReason = event.delta.stop_reason;
  }
  return { types, text, stop_reason: stopReason };
}

// A tool round: the question with a tool, then its result handed back. An upstream that did
// not call the tool (an OpenAI-compatible mock never does) gets the assistant's tool_use
// written by this script, so the tool_result still makes the trip.
async function toolRound(model) {
  const first = await client.messages.create({
    model,
    max_tokens: 256,
    tools: [weatherTool],
    messages: [weatherQuestion],
  });
  const called = toolUseOf(first);
  const toolUse = called ?? { id: 'toolu_sdk_script_1', name: 'get_weather', input: { city: 'Paris' } };
  const assistant = called
    ? first.content
    : [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', ...toolUse }];
  const second = await client.messages.create({
    model,
    max_tokens: 256,
    tools: [weatherTool],
    messages: [
      weatherQuestion,
      { role: 'assistant', content: assistant },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'Sunny, 21 C' }] },
    ],
  });
  // The same question streamed: the SDK assembles the tool input from input_json_delta.
  const streamed = await client.messages
    .stream({ model, max_tokens: 256, tools: [weatherTool], messages: [weatherQuestion] })
    .finalMessage();
  return {
    first: { stop_reason: first.stop_reason, text: textOf(first), tool_use: called },
    second: { stop_reason: second.stop_reason, text: textOf(second) },
    streamed: { stop_reason: streamed.stop_reason, text: textOf(streamed), tool_use: toolUseOf(streamed) },
  };
}

async function exercise(model) {
  return {
    create: await plainCall(model),
    stream: await helperStream(model),
    raw_stream: await rawStream(model),
    tools: await toolRound(model),
  };
}

async function thrown(call) {
  try {
    await call();
    return { thrown: false };
  } catch (e) {
    return {
      thrown: true,
      class: e.constructor.name,
      status: e.status ?? null,
      type: e.error?.error?.type ?? null,
    };
  }
}

const out = { sdk_version: sdkVersion() };
out.translated = await exercise(env('APIPROXY_TRANSLATED_MODEL'));
out.native = await exercise(env('APIPROXY_NATIVE_MODEL'));
out.not_found = await thrown(() =>
  client.messages.create({ model: 'no-such-model', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
);
out.bad_key = await thrown(() =>
  new Anthropic({ ...options, apiKey: 'wrong' }).messages.create({
    model: env('APIPROXY_NATIVE_MODEL'),
    max_tokens: 8,
    messages: [{ role: 'user', content: 'x' }],
  }),
);

console.log(JSON.stringify(out));
