# apiproxy_add_plugin(NAME SOURCES src...)
#
# Builds a plugin shared library the host can load: position independent, only the
# entry symbol exported, no undefined symbols left for the host to satisfy. The result
# is NAME.so; in the APIProxy build tree it lands in the gateway's plugin directory.
# Cached so the function sees it from any directory that calls it.
set(_APIPROXY_PLUGIN_VERSION_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/apiproxy_plugin.map CACHE INTERNAL "")

function(apiproxy_add_plugin name)
  cmake_parse_arguments(ARG "" "" "SOURCES" ${ARGN})
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
    # or the host could bind to.
    target_link_options(${name} PRIVATE -Wl,--no-undefined
                        -Wl,--version-script=${_APIPROXY_PLUGIN_VERSION_SCRIPT})
    set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${_APIPROXY_PLUGIN_VERSION_SCRIPT})
  endif()
  if(DEFINED APIPROXY_PLUGIN_OUTPUT_DIR)
    # In the APIProxy tree: a bundled plugin, built next to the binary and installed.
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${APIPROXY_PLUGIN_OUTPUT_DIR})
    set_property(GLOBAL APPEND PROPERTY APIPROXY_BUNDLED_PLUGINS ${name})
    install(TARGETS ${name} LIBRARY DESTINATION ${APIPROXY_INSTALL_PLUGIN_DIR})
  endif()
endfunction()
