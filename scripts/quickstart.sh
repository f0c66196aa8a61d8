#!/usr/bin/env bash
# Sets up and runs the gateway on its embedded defaults: in-process store, no auth token,
# and the bundled mock upstream as its only provider, so it answers with no API key.
# Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
BUILD_DIR=build/release ./scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DAPIPROXY_BUILD_TESTS=OFF
bin=build/release/bin
port=${APIPROXY_PORT:-8000}
mock_port=${MOCK_PORT:-8090}

"$bin/apiproxy-mock-upstream" --host 127.0.0.1 --port "$mock_port" --name demo \
  --models gpt-4o-mini,gpt-4o,text-embedding-3-small >/dev/null &
mock_pid=$!
trap 'kill $mock_pid 2>/dev/null || true' EXIT

export APIPROXY_ENV_FILE=${APIPROXY_ENV_FILE:-/dev/null}   # embedded defaults, not ./.env
export LLM_PROVIDERS=demo
export LLM_PROVIDER_demo_NAME="Bundled mock upstream"
export LLM_PROVIDER_demo_BASE_URL="http://127.0.0.1:$mock_port"
export LLM_PROVIDER_demo_API_KEY=not-required
export LLM_PROVIDER_demo_REGION=local

cat <<MSG

  APIProxy is starting on http://localhost:$port with the mock upstream as provider 'demo'.
  Try, from another terminal:
    curl http://localhost:$port/v1/chat/completions -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}'
    curl -N http://localhost:$port/v1/chat/completions -d '{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
    curl http://localhost:$port/providers
    curl http://localhost:$port/providers/demo/models
    curl http://localhost:$port/providers/demo/health
    curl -X PUT http://localhost:$port/logical-models/gpt-4 -d '{"upstreams":[{"provider_id":"demo","model_id":"gpt-4o-mini","endpoint":"/v1/chat/completions","base_weight":1}]}'
    curl http://localhost:$port/logical-models/gpt-4/upstreams
    curl -X POST http://localhost:$port/routing/decide -d '{"logical_model":"gpt-4","conversation_id":"conv_123"}'

MSG
"$bin/apiproxy" serve --port "$port"
