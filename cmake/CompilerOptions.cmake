# Warnings for every target of this project; sanitizers when asked.
add_compile_options(-Wall -Wextra)
add_compile_definitions(BOOST_ASIO_NO_DEPRECATED BOOST_BEAST_USE_STD_STRING_VIEW)

if(APIPROXY_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

# libFuzzer builds (tests/fuzz): clang only. Everything — core, server, plugins — gets
# coverage instrumentation for libFuzzer (fuzzer-no-link) plus ASan/UBSan, so that a
# fuzzer sees and checks the library code it drives; only the harness executables link
# libFuzzer itself (tests/fuzz/CMakeLists.txt). -O1 and line tables: quicker to build
# than -O2 -g, and still readable stack traces.
if(APIPROXY_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "APIPROXY_BUILD_FUZZERS needs clang (e.g. -DCMAKE_CXX_COMPILER=clang++ "
                        "-DCMAKE_C_COMPILER=clang), not ${CMAKE_CXX_COMPILER_ID}")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
                      -fsanitize-ignorelist=${PROJECT_SOURCE_DIR}/tests/fuzz/ubsan_ignorelist.txt
                      -fno-omit-frame-pointer -O1 -gline-tables-only)
  add_link_options(-fsanitize=address,undefined)
endif()

# The test programs' own code — GoogleTest bodies, the integration harness's HTTP client —
# is built without optimisation: it checks answers, it is not what is measured, and at -O2
# it was over half of a clean build (Beast's templates optimised once per test program).
# The code under test (core, server, plugins, the gateway binary, the mock upstream and the
# benchmarks) keeps the build type's flags.
function(apiproxy_test_code target)
  target_compile_options(${target} PRIVATE -O0)
endfunction()
