# apiproxy_include_root(<target> <folder> PUBLIC|PRIVATE|INTERFACE)
#
# Lets <target> (and, with PUBLIC or INTERFACE, whatever links it) include the files under
# <folder> by their repository-relative path, and nothing else of the repository.
#
# Sources include by repository-relative paths ("core/routing/router.hpp",
# "server/http/exchange.hpp"). Putting the repository root on the include path would let
# any target that sees it include any folder (core could include "server/..."), so
# instead each folder gets an include root of its own in the build tree that holds a
# single entry, a symbolic link to that folder:
#
#   <build>/include-roots/core/core -> <source>/core
#   <build>/include-roots/tests.unit.support/tests/unit/support -> <source>/tests/unit/support
#
# and that root is what goes on the target's include path. "core/routing/router.hpp"
# then resolves through the link to the source file (edits need no re-configure, no copy
# is ever stale), while "server/..." does not resolve at all for a target that was only
# given core. A quoted include is still looked up next to the including file first, as
# usual; a relative escape such as "../server/..." is not something the compiler can
# refuse, which is one of the things tests/layering/check_layering.cmake checks.
#
# The layering this gives (top-level CMakeLists.txt and the targets' own files):
#   apiproxy::sdk     sdk/include only (INTERFACE, also in the installed SDK package)
#   apiproxy_core     core/ + the SDK
#   apiproxy_server   server/ + core/ + the SDK (PUBLIC: tests and fuzzers link it)
#   plugins           the SDK only (apiproxy_add_plugin links nothing else)
#   tests             what they link, plus their own support folder where they need it
#
# The roots exist only in the build tree ($<BUILD_INTERFACE:...>): nothing that uses them
# is installed. Needs symbolic links (any Unix; Windows only with developer mode), which
# is all this project builds on.
set(APIPROXY_INCLUDE_ROOTS_DIR ${CMAKE_BINARY_DIR}/include-roots)

function(apiproxy_include_root target folder scope)
  if(NOT scope MATCHES "^(PUBLIC|PRIVATE|INTERFACE)$")
    message(FATAL_ERROR "apiproxy_include_root(${target} ${folder} ${scope}): "
                        "scope must be PUBLIC, PRIVATE or INTERFACE")
  endif()
  string(REGEX REPLACE "/+$" "" folder "${folder}")
  if(folder STREQUAL "" OR IS_ABSOLUTE "${folder}" OR folder MATCHES "(^|/)\\.\\.?(/|$)")
    message(FATAL_ERROR "apiproxy_include_root(${target} ${folder}): "
                        "give a folder relative to the repository root, e.g. core")
  endif()
  set(source ${PROJECT_SOURCE_DIR}/${folder})
  if(NOT IS_DIRECTORY ${source})
    message(FATAL_ERROR "apiproxy_include_root(${target} ${folder}): no folder ${source}")
  endif()

  string(REPLACE "/" "." root_name "${folder}")
  set(root ${APIPROXY_INCLUDE_ROOTS_DIR}/${root_name})
  set(link ${root}/${folder})
  # Made (or re-pointed, when the source tree moved) at configure time; cheap enough to
  # redo on every configure, and idempotent when several targets share a root.
  get_filename_component(link_parent ${link} DIRECTORY)
  file(MAKE_DIRECTORY ${link_parent})
  set(current "")
  if(IS_SYMLINK ${link})
    file(READ_SYMLINK ${link} current)
  elseif(EXISTS ${link})
    message(FATAL_ERROR "apiproxy_include_root: ${link} exists and is not a symbolic link; "
                        "remove it and re-run CMake")
  endif()
  if(NOT current STREQUAL source)
    file(CREATE_LINK ${source} ${link} SYMBOLIC RESULT result)
    if(NOT result STREQUAL "0")
      message(FATAL_ERROR "apiproxy_include_root: cannot create the symbolic link "
                          "${link} -> ${source}: ${result}")
    endif()
  endif()

  target_include_directories(${target} ${scope} $<BUILD_INTERFACE:${root}>)
endfunction()
