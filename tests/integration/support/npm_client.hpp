// An official npm client package (`openai`, `@anthropic-ai/sdk`) driven by a node script,
// as a real application would use it. The package is installed with npm once into a
// directory next to the test program (inside the build tree), serialised between test
// processes by a file lock; the scripts are copied there from the source tree on every
// run so an edited script is picked up without reinstalling.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "process.hpp"

namespace it {

struct NpmClient {
  std::filesystem::path source_dir;   // package.json and the scripts, in the source tree
  std::filesystem::path install_dir;  // where node_modules goes
  std::string package;                // what `npm install` fetches, e.g. "openai@4"
  std::string module;                 // its directory under node_modules, e.g. "openai"
  std::vector<std::string> scripts;   // file names in source_dir, copied to install_dir
};

// <directory of this test program>/<name>.
std::filesystem::path beside_test_program(const std::string& name);

// Copies the scripts and installs the package unless it is there already. Returns "" when
// the client is ready, else why not; `skip` tells whether that is a reason to skip (no
// node/npm, or npm could not reach a registry) rather than a failure.
std::string prepare_npm_client(const NpmClient& client, bool& skip);

// Runs `node script` with exactly `env` and returns the JSON object printed on its last
// stdout line ({} when none). A non-zero exit fails the current test, with the output.
rapidjson::Document run_node_script(const std::filesystem::path& script, const EnvMap& env,
                                    std::chrono::milliseconds timeout = std::chrono::seconds(45));

}  // namespace it
