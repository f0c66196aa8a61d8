// The GCRA arithmetic moved to core/store/gcra.hpp: the store runs it (MemoryStore, the
// Redis script) and core/ratelimit builds on the store, so it lives on the store's side of
// that dependency. This header forwards there for code that still includes it here.
#pragma once

#include "core/store/gcra.hpp"
