# Compiles every public SDK header with one compiler and one language standard:
#   cmake -DCOMPILER=g++ -DLANG=CXX -DSTD=c++17 -DINCLUDE_DIR=sdk/include -DWORK_DIR=dir
#         -P check_headers.cmake
#
# CXX: each header alone (it must include what it uses), all of them together (twice, in
# both orders: include guards, no clashes), and two translation units that instantiate the
# C++ helpers' templates through the export macros, as a plugin does (templates that are
# never instantiated are barely checked).
# C: each C header (*.h) alone, and a use of its macros.
#
# Always -Wall -Wextra -Werror -pedantic: a plugin author's warning flags must not turn
# our headers into errors. Fails listing every unit that did not compile.
foreach(var COMPILER LANG STD INCLUDE_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_headers.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT COMPILER OR COMPILER MATCHES "-NOTFOUND$")
  message(FATAL_ERROR "compiler not found (${COMPILER}); it is installed by scripts/install-deps.sh")
endif()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
file(GLOB c_headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/apiproxy/*.h)
file(GLOB cxx_headers RELATIVE ${INCLUDE_DIR} ${INCLUDE_DIR}/apiproxy/*.hpp)
if(NOT c_headers OR NOT cxx_headers)
  message(FATAL_ERROR "no SDK headers under ${INCLUDE_DIR}/apiproxy")
endif()

set(units)  # file names, written below
function(add_unit name text)
  file(WRITE ${WORK_DIR}/${name} "${text}")
  set(units ${units} ${name} PARENT_SCOPE)
endfunction()

if(LANG STREQUAL "C")
  set(ext c)
  set(lang_flag -xc)
  foreach(h ${c_headers})
    string(MAKE_C_IDENTIFIER ${h} id)
    add_unit(alone_${id}.c "#include <${h}>\nint apx_check_${id};\n")
  endforeach()
  add_unit(use_abi.c [=[
#include <apiproxy/abi.h>
#include <apiproxy/abi.h>
/* The macros and types a C plugin uses. */
int apx_check_has_field(const apx_candidate* c);
int apx_check_has_field(const apx_candidate* c) {
  return APX_HAS_FIELD(apx_candidate, c, current_qps) && c->status != APX_HEALTH_DOWN;
}
const char* const apx_check_symbol = APX_ENTRY_SYMBOL;
const int apx_check_version = APX_ABI_MAJOR * 100 + APX_ABI_MINOR;
]=])
else()
  set(ext cpp)
  set(lang_flag -xc++)
  set(all "")
  set(all_reversed "")
  foreach(h ${c_headers} ${cxx_headers})
    string(MAKE_C_IDENTIFIER ${h} id)
    add_unit(alone_${id}.cpp "#include <${h}>\nint apx_check_${id};\n")
    string(APPEND all "#include <${h}>\n")
    string(PREPEND all_reversed "#include <${h}>\n")
  endforeach()
  add_unit(all_together.cpp "${all}${all_reversed}int apx_check_all;\n")
  add_unit(use_strategy.cpp [=[
#include <apiproxy/strategy.hpp>
namespace {
class Check final : public apx::Strategy {
 public:
  Check(const apx::Host& host, const apx::Settings& settings)
      : weight_(settings.get_double("WEIGHT", 1)) {
    host.info(settings.get("NAME", "check"));
  }
  void score(const apx::RouteContext& ctx, apx::Candidates c, double* out) override {
    for (size_t i = 0; i < c.size(); ++i)
      out[i] = ctx.stream() || apx::provider_id(c[i]).empty() ? 0 : weight_;
  }
 private:
  double weight_;
};
}  // namespace
APIPROXY_EXPORT_STRATEGY(Check, "check", "1.0.0", "header check")
]=])
  add_unit(use_provider.cpp [=[
#include <apiproxy/provider.hpp>
namespace {
class Check final : public apx::ProviderAdapter {
 public:
  Check(const apx::Host& host, const apx::ProviderConfig& config) : url_(config.base_url) {
    host.debug(config.settings.get("X"));
  }
  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    if (call.operation != APX_OP_CHAT_COMPLETIONS) throw apx::Unsupported("no");
    out.url(url_);
    out.header("X", "y");
  }
  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    apx::Model m;
    m.model_id = body;
    out.add(m);
  }
  apx_outcome classify_status(int status, std::string_view) override {
    return status == 529 ? APX_OUTCOME_RETRYABLE : APX_OUTCOME_HOST_RULE;
  }
 private:
  std::string url_;
};
}  // namespace
APIPROXY_EXPORT_PROVIDER(Check, "check", "1.0.0", "header check")
]=])
endif()

set(failed)
foreach(unit ${units})
  execute_process(
    COMMAND ${COMPILER} ${lang_flag} -std=${STD} -Wall -Wextra -Werror -pedantic
            -I${INCLUDE_DIR} -fsyntax-only ${WORK_DIR}/${unit}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(STATUS "ok      ${unit}")
  else()
    message(STATUS "FAILED  ${unit}\n${out}${err}")
    list(APPEND failed ${unit})
  endif()
endforeach()
list(LENGTH units n)
if(failed)
  message(FATAL_ERROR "${COMPILER} -std=${STD}: ${failed} did not compile cleanly")
endif()
message(STATUS "${COMPILER} -std=${STD}: all ${n} units compiled with -Wall -Wextra -Werror -pedantic")
