// Drives the gateway with the official `openai` npm package, as an application would, and
// prints one JSON object with what it saw (openai_sdk_test.cpp checks it). Exits non-zero,
// with the error on stderr, when a call fails unexpectedly.
//
//   APIPROXY_BASE_URL   http://127.0.0.1:PORT/v1
//   APIPROXY_API_KEY    base64(APIPROXY_AUTH_TOKEN)
//   APIPROXY_MODEL      the (logical) chat model
//   APIPROXY_EMBEDDING  the embedding model
import OpenAI from 'openai';
import { VERSION } from 'openai/version';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};

const client = new OpenAI({
  baseURL: env('APIPROXY_BASE_URL'),
  apiKey: env('APIPROXY_API_KEY'),
  maxRetries: 0,
  timeout: 10_000,
});
const model = env('APIPROXY_MODEL');
const out = { sdk_version: VERSION };

// Non-streamed chat, with the raw response for the gateway's headers.
{
  const { data, response } = await client.chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hello from the sdk' }] })
    .withResponse();
  out.chat = {
    id: data.id,
    object: data.object,
    model: data.model,
    content: data.choices[0].message.content,
    finish_reason: data.choices[0].finish_reason,
    total_tokens: data.usage?.total_tokens ?? null,
    provider: response.headers.get('x-apiproxy-provider'),
  };
}

// Streamed chat: async iteration over the SSE chunks.
{
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'stream from the sdk' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  let chunks = 0;
  let usage = null;
  let finish = null;
  for await (const chunk of stream) {
    chunks += 1;
    const choice = chunk.choices[0];
    if (choice?.delta?.content) content += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  out.stream = { content, chunks, finish_reason: finish, total_tokens: usage?.total_tokens ?? null };
}

// models.list(), paged by the SDK.
{
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  out.models = ids;
}

// Embeddings (the SDK asks for base64 and decodes it).
{
  const e = await client.embeddings.create({ model: env('APIPROXY_EMBEDDING'), input: 'embed from the sdk' });
  out.embedding = { count: e.data.length, dims: e.data[0].embedding.length, model: e.model };
}

// An unknown model surfaces as the SDK's NotFoundError with OpenAI's error fields.
try {
  await client.chat.completions.create({ model: 'no-such-model', messages: [{ role: 'user', content: 'x' }] });
  out.not_found = { thrown: false };
} catch (e) {
  out.not_found = {
    thrown: true,
    class: e.constructor.name,
    status: e.status ?? null,
    code: e.code ?? null,
    type: e.type ?? null,
    param: e.param ?? null,
  };
}

// A wrong key is an AuthenticationError.
try {
  const bad = new OpenAI({ baseURL: env('APIPROXY_BASE_URL'), apiKey: 'wrong', maxRetries: 0, timeout: 10_000 });
  await bad.models.list();
  out.bad_key = { thrown: false };
} catch (e) {
  out.bad_key = { thrown: true, class: e.constructor.name, status: e.status ?? null };
}

console.log(JSON.stringify(out));
