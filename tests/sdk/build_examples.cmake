# The SDK as a third party gets it, end to end (the `sdk_examples` ctest fixture):
#
#  1. installs the SDK component of this build to WORK_DIR/prefix, and checks that it
#     holds the SDK and nothing else (no gateway binary, no bundled plugin);
#  2. configures and builds sdk/examples/round_robin, header_auth_provider and
#     completions_bridge, and the `least_loaded` walkthrough of docs/plugins.md exactly as
#     the guide prints it, as separate projects that know only
#     -DCMAKE_PREFIX_PATH=WORK_DIR/prefix (completions_bridge also -DRapidJSON_DIR, the
#     RapidJSON package this build found), and checks that find_package(ApiProxySDK) found
#     that prefix and no other copy;
#  3. checks each example .so exports apiproxy_plugin_entry and nothing else;
#  4. fills WORK_DIR/plugins with the bundled plugins of this build plus the examples, for
#     the integration test (APIPROXY_PLUGIN_DIR).
#
# Variables: BUILD_DIR SOURCE_DIR WORK_DIR BUNDLED_PLUGIN_DIR GENERATOR MAKE_PROGRAM
#            CXX_COMPILER BUILD_TYPE NM RAPIDJSON_DIR
cmake_minimum_required(VERSION 3.20)  # IN_LIST, and the policies of the project itself
foreach(var BUILD_DIR SOURCE_DIR WORK_DIR BUNDLED_PLUGIN_DIR GENERATOR CXX_COMPILER NM RAPIDJSON_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "build_examples.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${ARGN}\n${out}${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

set(prefix ${WORK_DIR}/prefix)
set(plugin_dir ${WORK_DIR}/plugins)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

# 1. install ------------------------------------------------------------------------------
run("installing the sdk component" ${CMAKE_COMMAND} --install ${BUILD_DIR} --component sdk --prefix ${prefix})
file(GLOB_RECURSE installed RELATIVE ${prefix} ${prefix}/*)
foreach(f include/apiproxy/abi.h include/apiproxy/plugin.hpp include/apiproxy/strategy.hpp
          include/apiproxy/provider.hpp
          lib/cmake/ApiProxySDK/ApiProxySDKConfig.cmake
          lib/cmake/ApiProxySDK/ApiProxySDKConfigVersion.cmake
          lib/cmake/ApiProxySDK/ApiProxySDKTargets.cmake
          lib/cmake/ApiProxySDK/ApiProxyPlugin.cmake
          lib/cmake/ApiProxySDK/apiproxy_plugin.map)
  if(NOT f IN_LIST installed)
    message(FATAL_ERROR "the sdk component did not install ${f}; it installed:\n${installed}")
  endif()
endforeach()
foreach(f ${installed})
  if(NOT f MATCHES "^(include/apiproxy/|lib/cmake/ApiProxySDK/|share/doc/apiproxy-sdk/)")
    message(FATAL_ERROR "the sdk component installed ${f}, which is not part of the SDK "
                        "(an install() rule with the wrong COMPONENT?)")
  endif()
endforeach()
list(LENGTH installed n)
message(STATUS "sdk component: ${n} files under ${prefix}")

# 2. the examples, out of tree ------------------------------------------------------------
set(generator_args -G ${GENERATOR})
if(MAKE_PROGRAM)
  list(APPEND generator_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(BUILD_TYPE)
  list(APPEND generator_args -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
endif()

# The guide's walkthrough: the code block that follows `marker` in docs/plugins.md.
function(code_block_after marker fence out_file)
  file(READ ${SOURCE_DIR}/docs/plugins.md guide)
  string(FIND "${guide}" "${marker}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "docs/plugins.md has no '${marker}': update tests/sdk/build_examples.cmake")
  endif()
  string(SUBSTRING "${guide}" ${at} -1 rest)
  string(LENGTH "${fence}" fence_length)
  string(FIND "${rest}" "\n${fence}\n" open)
  math(EXPR open "${open} + 2 + ${fence_length}")
  string(SUBSTRING "${rest}" ${open} -1 rest)
  string(FIND "${rest}" "\n```\n" close)
  math(EXPR close "${close} + 1")
  string(SUBSTRING "${rest}" 0 ${close} code)
  file(WRITE ${out_file} "${code}")
endfunction()
set(walkthrough ${WORK_DIR}/least_loaded)
code_block_after("**2. `least_loaded/CMakeLists.txt`**" "```cmake" ${walkthrough}/CMakeLists.txt)
code_block_after("**3. `least_loaded/least_loaded.cpp`**" "```cpp" ${walkthrough}/least_loaded.cpp)

set(example_sos)
foreach(example ${SOURCE_DIR}/sdk/examples/round_robin:round_robin
                ${SOURCE_DIR}/sdk/examples/header_auth_provider:header_auth
                ${SOURCE_DIR}/sdk/examples/completions_bridge:completions_bridge
                ${walkthrough}:least_loaded)
  string(REPLACE ":" ";" parts ${example})
  list(GET parts 0 src)
  list(GET parts 1 target)
  get_filename_component(dir ${src} NAME)
  set(bin ${WORK_DIR}/build-${dir})
  # A third-party dependency is found where the parent build found it: the system paths
  # are closed below so that only the prefix can provide the SDK.
  set(dependency_args)
  if(target STREQUAL "completions_bridge")
    set(dependency_args -DRapidJSON_DIR=${RAPIDJSON_DIR})
  endif()
  run("configuring ${src}"
      ${CMAKE_COMMAND} -S ${src} -B ${bin} ${generator_args}
      -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
      "-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror"
      -DCMAKE_PREFIX_PATH=${prefix}
      ${dependency_args}
      # Only the prefix may satisfy find_package: not a package registry, not /usr.
      -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
      -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF
      -DCMAKE_FIND_USE_CMAKE_SYSTEM_PATH=OFF)
  file(STRINGS ${bin}/CMakeCache.txt found REGEX "^ApiProxySDK_DIR:")
  if(NOT found STREQUAL "ApiProxySDK_DIR:PATH=${prefix}/lib/cmake/ApiProxySDK")
    message(FATAL_ERROR "${src} found the SDK elsewhere: ${found}")
  endif()
  run("building ${src}" ${CMAKE_COMMAND} --build ${bin})
  set(so ${bin}/${target}.so)
  if(NOT EXISTS ${so})
    message(FATAL_ERROR "building ${src} produced no ${target}.so")
  endif()

  # 3. exactly one exported symbol ---------------------------------------------------------
  run("listing the symbols of ${target}.so" ${NM} -D --defined-only ${so})
  string(REGEX MATCHALL "[^\n]+" lines "${run_output}")
  set(exported)
  foreach(line ${lines})
    if(line MATCHES " [A-Za-z] ([^ ]+)$")
      list(APPEND exported ${CMAKE_MATCH_1})
    endif()
  endforeach()
  if(NOT exported STREQUAL "apiproxy_plugin_entry")
    message(FATAL_ERROR "${target}.so exports [${exported}], expected apiproxy_plugin_entry only")
  endif()
  list(APPEND example_sos ${so})
  message(STATUS "built ${so} (exports apiproxy_plugin_entry only)")
endforeach()

# 4. the plugin directory -----------------------------------------------------------------
file(GLOB bundled ${BUNDLED_PLUGIN_DIR}/*.so)
if(NOT bundled)
  message(FATAL_ERROR "no bundled plugins in ${BUNDLED_PLUGIN_DIR}: build the project first")
endif()
file(MAKE_DIRECTORY ${plugin_dir})
file(COPY ${bundled} ${example_sos} DESTINATION ${plugin_dir})
file(GLOB ready RELATIVE ${plugin_dir} ${plugin_dir}/*.so)
message(STATUS "plugin directory ${plugin_dir}: ${ready}")
