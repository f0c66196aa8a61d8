# The layering check must be able to fail: runs check_layering.cmake on the fixture trees
# in fixtures/ (see fixtures/README.md) and checks what it says.
#
#   cmake -DCHECKER=<check_layering.cmake> -DFIXTURES=<fixtures dir> -P selftest.cmake

cmake_minimum_required(VERSION 3.20)
foreach(v CHECKER FIXTURES)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "selftest: -D${v}=... is required")
  endif()
endforeach()

set(failures 0)
macro(fail what)
  message("selftest: FAILED: ${what}")
  math(EXPR failures "${failures} + 1")
endmacro()

# Runs the checker; sets rc and out (stdout and stderr together).
function(run_checker root)
  execute_process(COMMAND ${CMAKE_COMMAND} -DROOT=${root} ${ARGN} -P ${CHECKER}
                  RESULT_VARIABLE result OUTPUT_VARIABLE o ERROR_VARIABLE e)
  set(rc "${result}" PARENT_SCOPE)
  set(out "${o}${e}" PARENT_SCOPE)
  message("---- check_layering on ${root} ${ARGN}: exit ${result}\n${o}${e}----")
endfunction()

# Every `file:line: includes X (...)` line the checker printed, as a list.
function(reported_lines text outvar)
  string(REGEX MATCHALL "[^\n]+:[0-9]+: includes [^\n]*" lines "${text}")
  set(${outvar} "${lines}" PARENT_SCOPE)
endfunction()

# ------------------------------------------------------------------- bad/ ----
run_checker(${FIXTURES}/bad)
if(rc EQUAL 0)
  fail("the checker passed on fixtures/bad, which breaks every rule")
endif()
# Each violation, at its file and line, and for the right reason (a prefix of the line).
set(expected
  "core/alpha/a.hpp:7: includes server/http/h.hpp (core must not include server/"
  "plugins/strategies/p/p.cpp:4: includes ../../../core/alpha/a.hpp (plugins must not include core/"
  "plugins/strategies/p/p.cpp:5: includes server/http/h.hpp (plugins must not include server/"
  "sdk/include/apiproxy/s.h:5: includes core/beta/b.hpp (sdk must not include core/"
  "server/http/h.hpp:5: includes server/api/x.hpp (server/http is below server/api"
  "core/alpha/a.hpp:6: includes core/beta/b.hpp (include cycle between folders core/alpha, core/beta"
  "core/beta/b.cpp:7: includes core/alpha/a.hpp (include cycle between folders core/alpha, core/beta")
foreach(line IN LISTS expected)
  string(FIND "${out}" "\n${line}" at)
  if(at LESS 0)
    string(FIND "${out}" "${line}" at)  # the very first line has no newline before it
  endif()
  if(at LESS 0)
    fail("fixtures/bad: not reported: ${line}")
  endif()
endforeach()
string(FIND "${out}" "include cycle between folders: core/alpha -> core/beta -> core/alpha" at)
if(at LESS 0)
  fail("fixtures/bad: the cycle core/alpha -> core/beta -> core/alpha is not named")
endif()
# And nothing else: not the commented-out includes, not the plugin's own ../common/.
reported_lines("${out}" reported)
list(LENGTH reported n_reported)
list(LENGTH expected n_expected)
if(NOT n_reported EQUAL n_expected)
  fail("fixtures/bad: ${n_reported} include lines reported, expected ${n_expected}")
endif()

# ----------------------------------------------------------------- cycle/ ----
# A cycle alone, with no forbidden include, fails the check.
run_checker(${FIXTURES}/cycle)
if(rc EQUAL 0)
  fail("the checker passed on fixtures/cycle, a tree with a folder cycle")
endif()
foreach(line
    "include cycle between folders: core/left -> core/right -> core/left"
    "core/left/left.hpp:4: includes core/right/right.hpp (include cycle"
    "core/right/right.cpp:2: includes core/left/left.hpp (include cycle")
  string(FIND "${out}" "${line}" at)
  if(at LESS 0)
    fail("fixtures/cycle: not reported: ${line}")
  endif()
endforeach()

# ------------------------------------------------------------------ good/ ----
run_checker(${FIXTURES}/good -DEXCEPTIONS=${FIXTURES}/good/exceptions.txt)
if(NOT rc EQUAL 0)
  fail("the checker failed on fixtures/good with its exceptions")
endif()
string(FIND "${out}" "server/app/wire.cpp:2: includes server/api/x.hpp (allowed by exception" at)
if(at LESS 0)
  fail("fixtures/good: the allowed include is not listed as allowed")
endif()
string(FIND "${out}" "stale exception `core/b/b.cpp -> server`" at)
if(at LESS 0)
  fail("fixtures/good: the stale exception is not reported")
endif()

# Without the exception, its include is a layer violation that closes a cycle.
run_checker(${FIXTURES}/good)
if(rc EQUAL 0)
  fail("the checker passed on fixtures/good without its exceptions")
endif()
foreach(line
    "server/app/wire.cpp:2: includes server/api/x.hpp (server/app is below server/api"
    "include cycle between folders: server/api -> server/app -> server/api")
  string(FIND "${out}" "${line}" at)
  if(at LESS 0)
    fail("fixtures/good without exceptions: not reported: ${line}")
  endif()
endforeach()

if(failures GREATER 0)
  message(FATAL_ERROR "selftest: ${failures} check(s) failed")
endif()
message(STATUS "selftest: check_layering fails on every planted violation and cycle, "
               "and passes on a clean tree")
