# apiproxy_add_plugin(NAME SOURCES src...)
#
# Builds a plugin shared library the host can load: position independent, only the
# entry symbol exported, no undefined symbols left for the host to satisfy. The result
# is NAME.so; in the APIProxy build tree it lands in the gateway's plugin directory.
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
    target_link_options(${name} PRIVATE -Wl,--no-undefined)
  endif()
  if(DEFINED APIPROXY_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${APIPROXY_PLUGIN_OUTPUT_DIR})
  endif()
endfunction()
