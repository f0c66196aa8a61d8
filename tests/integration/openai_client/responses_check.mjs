// The official `openai` package against the gateway's other routes of issue 13: the Responses
// API (client.responses.create, plain and streamed) to a provider that serves it natively and
// to one the gateway translates for, and chat completions served by an Anthropic upstream.
// Prints one JSON object with what it saw (anthropic_sdk_test.cpp checks it). Exits non-zero,
// with the error on stderr, when a call fails unexpectedly.
//
//   APIPROXY_BASE_URL           http://127.0.0.1:PORT/v1
//   APIPROXY_API_KEY            base64(APIPROXY_AUTH_TOKEN)
//   APIPROXY_NATIVE_MODEL       a logical model whose provider serves /v1/responses
//   APIPROXY_TRANSLATED_MODEL   a logical model whose provider speaks only chat completions
//   APIPROXY_CLAUDE_MODEL       a logical model on the anthropic provider
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

// A Response's text, read from its items (not from the SDK's output_text convenience).
const itemsText = (response) =>
  response.output
    .filter((item) => item.type === 'message')
    .flatMap((item) => item.content)
    .filter((part) => part.type === 'output_text')
    .map((part) => part.text)
    .join('');

async function plainResponse(model) {
  const { data, response } = await client.responses
    .create({ model, input: `hello responses via ${model}`, instructions: 'be brief' })
    .withResponse();
  return {
    id: data.id,
    object: data.object,
    status: data.status,
    output_text: data.output_text ?? null,
    items_text: itemsText(data),
    instructions: data.instructions ?? null,
    input_tokens: data.usage?.input_tokens ?? null,
    output_tokens: data.usage?.output_tokens ?? null,
    provider: response.headers.get('x-apiproxy-provider'),
  };
}

// create({stream: true}): the raw named events in order.
async function streamedResponse(model) {
  const stream = await client.responses.create({ model, input: `stream responses via ${model}`, stream: true });
  const types = [];
  let text = '';
  let lastSequence = -1;
  let increasing = true;
  let completed = null;
  for await (const event of stream) {
    types.push(event.type);
    if (!(event.sequence_number > lastSequence)) increasing = false;
    lastSequence = event.sequence_number;
    if (event.type === 'response.output_text.delta') text += event.delta;
    if (event.type === 'response.completed') completed = event.response;
  }
  return {
    first: types[0] ?? null,
    last: types[types.length - 1] ?? null,
    events: types.length,
    deltas: types.filter((t) => t === 'response.output_text.delta').length,
    sequence_increasing: increasing,
    text,
    completed_status: completed?.status ?? null,
    completed_text: completed ? itemsText(completed) : null,
  };
}

// responses.stream: the SDK's helper, which checks the events against the response it builds
// (its final response has no output_text convenience in openai 4.x: read the items).
async function helperResponse(model) {
  const final = await client.responses.stream({ model, input: `helper stream via ${model}` }).finalResponse();
  return { status: final.status, items_text: itemsText(final) };
}

async function responses(model) {
  return {
    plain: await plainResponse(model),
    stream: await streamedResponse(model),
    helper: await helperResponse(model),
  };
}

async function claudeChat(model) {
  const { data, response } = await client.chat.completions
    .create({ model, messages: [{ role: 'user', content: 'hello claude from the openai sdk' }] })
    .withResponse();
  const plain = {
    object: data.object,
    content: data.choices[0].message.content,
    finish_reason: data.choices[0].finish_reason,
    prompt_tokens: data.usage?.prompt_tokens ?? null,
    completion_tokens: data.usage?.completion_tokens ?? null,
    total_tokens: data.usage?.total_tokens ?? null,
    provider: response.headers.get('x-apiproxy-provider'),
  };

  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'stream claude through the openai sdk' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let content = '';
  let chunks = 0;
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    chunks += 1;
    const choice = chunk.choices[0];
    if (choice?.delta?.content) content += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }

  const tool = await client.chat.completions.create({
    model,
    messages: [{ role: 'user', content: 'What is the weather in Paris?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ],
  });
  const call = tool.choices[0].message.tool_calls?.[0];
  return {
    plain,
    stream: { content, chunks, finish_reason: finish, total_tokens: usage?.total_tokens ?? null },
    tool: {
      finish_reason: tool.choices[0].finish_reason,
      name: call?.function?.name ?? null,
      arguments: call ? JSON.parse(call.function.arguments) : null,
    },
  };
}

const out = { sdk_version: VERSION };
out.native = await responses(env('APIPROXY_NATIVE_MODEL'));
out.translated = await responses(env('APIPROXY_TRANSLATED_MODEL'));
out.claude_chat = await claudeChat(env('APIPROXY_CLAUDE_MODEL'));

console.log(JSON.stringify(out));
