# apiproxy_add_plugin(NAME SOURCES src...)
#
# Builds a plugin the APIProxy host can load: a MODULE library NAME.so, position
# independent, compiled with hidden visibility, linked with no undefined symbols left for
# the host to satisfy and a version script that exports apiproxy_plugin_entry and nothing
# else. NAME is also the CMake target, so link your own dependencies to it as usual.
#
# The same file serves two builds:
#  * out of tree (installed SDK, found with find_package(ApiProxySDK)): exactly the above;
#    where the .so goes and how it is installed is up to the plugin's project;
#  * in the APIProxy tree, where APIPROXY_PLUGIN_OUTPUT_DIR is set: a bundled plugin,
#    written to the gateway's plugin directory and installed with COMPONENT runtime.
#
# Cached so the function sees it from any directory that calls it (INTERNAL implies FORCE:
# it always points at the copy of this file that was included last).
set(_APIPROXY_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/apiproxy_plugin.map CACHE INTERNAL "")

function(apiproxy_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "apiproxy_add_plugin(${name}): no SOURCES given")
  endif()
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "apiproxy_add_plugin(${name}): unexpected arguments: ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE apiproxy::sdk)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    POSITION_INDEPENDENT_CODE ON)
  if(NOT APPLE)
    # Export the entry point and nothing else: libstdc++ marks namespace std visible, so
    # hidden visibility alone would still export template instances that another plugin
    # or the host could bind to. --no-undefined turns a missing library into a link error
    # here instead of a refusal when the host loads the plugin.
    target_link_options(${name} PRIVATE -Wl,--no-undefined
                        -Wl,--version-script=${_APIPROXY_PLUGIN_VERSION_SCRIPT})
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${_APIPROXY_PLUGIN_VERSION_SCRIPT})
  endif()
  if(DEFINED APIPROXY_PLUGIN_OUTPUT_DIR)
    # In the APIProxy tree: a bundled plugin, built next to the binary and installed.
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${APIPROXY_PLUGIN_OUTPUT_DIR})
    set_property(GLOBAL APPEND PROPERTY APIPROXY_BUNDLED_PLUGINS ${name})
    install(TARGETS ${name} LIBRARY DESTINATION ${APIPROXY_INSTALL_PLUGIN_DIR} COMPONENT runtime)
  endif()
endfunction()
