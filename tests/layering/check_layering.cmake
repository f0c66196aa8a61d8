# Checks the source tree's layering from its #include lines; fails on any violation.
#
#   cmake [-DROOT=<repository>] [-DEXCEPTIONS=<file>] [-DVERBOSE=ON] -P check_layering.cmake
#
# ROOT defaults to the repository this script is in. Every .h/.hpp/.c/.cpp (and the like)
# under ROOT/core, ROOT/server, ROOT/plugins and ROOT/sdk is read, and each
# `#include "..."` / `#include <...>` that names a file of the project is resolved the way
# the compiler would: next to the including file first ("support/x.hpp",
# "../common/x.hpp", which therefore cannot escape a rule), else as a repository-relative
# path ("core/store/store.hpp"); <apiproxy/...> and "apiproxy/..." are sdk/include. Other
# includes (<vector>, <boost/...>, "rapidjson/...") are not the project's and are ignored.
# Lines inside comments that do not start with `#` (// #include ...) are not includes.
#
# Rules (a violation prints `file:line: includes X (rule)`):
#   * core/ includes nothing from server/, plugins/ or tests/ (server -> core -> sdk)
#   * plugins/ include nothing from core/, server/ or tests/: only the SDK and their own
#   * sdk/ includes nothing from core/, server/, plugins/ or tests/: only its own headers
#   * server/ includes nothing from plugins/ or tests/
#   * inside server/, a lower layer never includes a higher one. The layers, lowest first,
#     are SERVER_LAYERS (default http;app;api;cli, the order the code has: api/ builds on
#     app/'s Worker and GatewayState, cli/ starts the app); a server/ folder not listed is
#     held only to the cycle rule
#   * no include cycle between folders: a folder is a second-level directory (core/store,
#     server/http, plugins/providers, sdk/include), or the top-level one for a file
#     directly in it (server/main.cpp). Each cycle is printed as a path, then every include
#     that makes an edge of it.
#
# EXCEPTIONS names a file of known, accepted exceptions, one per line:
#   <file> -> <folder>      # why
# An include from <file> of anything under <folder> is then neither a violation nor an edge
# of the folder graph (it is listed as allowed). An exception that matches nothing is
# reported as stale, without failing: remove it.

cmake_minimum_required(VERSION 3.20)

if(NOT DEFINED ROOT)
  get_filename_component(ROOT "${CMAKE_CURRENT_LIST_DIR}/../.." ABSOLUTE)
endif()
get_filename_component(ROOT "${ROOT}" ABSOLUTE)
if(NOT IS_DIRECTORY "${ROOT}")
  message(FATAL_ERROR "check_layering: ROOT ${ROOT} is not a directory")
endif()
if(NOT DEFINED SERVER_LAYERS)
  set(SERVER_LAYERS http app api cli)
endif()

set(scanned_tops core server plugins sdk)   # the folders whose files are checked
set(project_tops core server plugins sdk tests)  # what counts as a project include
set(source_globs)
foreach(top IN LISTS scanned_tops)
  foreach(ext h hh hpp hxx ipp inl c cc cpp cxx)
    list(APPEND source_globs "${ROOT}/${top}/*.${ext}")
  endforeach()
endforeach()
file(GLOB_RECURSE files LIST_DIRECTORIES false RELATIVE "${ROOT}" ${source_globs})
list(SORT files)

# --------------------------------------------------------------------- exceptions ----
set(exceptions)  # "file|folder"
if(DEFINED EXCEPTIONS AND NOT EXCEPTIONS STREQUAL "")
  if(NOT EXISTS "${EXCEPTIONS}")
    message(FATAL_ERROR "check_layering: no exceptions file ${EXCEPTIONS}")
  endif()
  file(STRINGS "${EXCEPTIONS}" exception_lines)
  foreach(l IN LISTS exception_lines)
    if(l MATCHES "^[ \t]*(#|$)")
      continue()
    endif()
    if(NOT l MATCHES "^[ \t]*([^ \t#]+)[ \t]*->[ \t]*([^ \t#]+)[ \t]*(#.*)?$")
      message(FATAL_ERROR "check_layering: ${EXCEPTIONS}: cannot read `${l}` "
                          "(expected `<file> -> <folder>  # why`)")
    endif()
    set(efile "${CMAKE_MATCH_1}")
    string(REGEX REPLACE "/+$" "" efolder "${CMAKE_MATCH_2}")
    list(APPEND exceptions "${efile}|${efolder}")
  endforeach()
endif()
set(used_exceptions)

# ------------------------------------------------------------------------ helpers ----

# The folder (graph node) of a repository-relative path.
function(folder_of path out)
  string(REPLACE "/" ";" parts "${path}")
  list(LENGTH parts n)
  list(GET parts 0 top)
  if(n GREATER 2)
    list(GET parts 1 second)
    set(${out} "${top}/${second}" PARENT_SCOPE)
  else()
    set(${out} "${top}" PARENT_SCOPE)
  endif()
endfunction()

# What `#include <delim>path<delim>` in file `from` (repository-relative) refers to, as a
# repository-relative path; "" when it is not one of the project's files.
function(resolve_include from delim path out)
  set(${out} "" PARENT_SCOPE)
  get_filename_component(from_dir "${from}" DIRECTORY)
  set(target "")
  if(delim STREQUAL "\"" AND (path MATCHES "^\\.\\.?/" OR EXISTS "${ROOT}/${from_dir}/${path}"))
    # Next to the including file, as the compiler looks first for a quoted include.
    get_filename_component(abs "${ROOT}/${from_dir}/${path}" ABSOLUTE)
    file(RELATIVE_PATH target "${ROOT}" "${abs}")
    if(target MATCHES "^\\.\\./" OR IS_ABSOLUTE "${target}")
      return()  # outside the repository
    endif()
  else()
    set(target "${path}")
  endif()
  if(target MATCHES "^apiproxy/")
    set(target "sdk/include/${target}")
  endif()
  string(REGEX MATCH "^[^/]+" top "${target}")
  if(NOT target MATCHES "/" OR NOT top IN_LIST project_tops)
    return()
  endif()
  set(${out} "${target}" PARENT_SCOPE)
endfunction()

# The rule `from` breaks by including `target` (both repository-relative), or "".
function(rule_broken from target out)
  set(${out} "" PARENT_SCOPE)
  string(REGEX MATCH "^[^/]+" ft "${from}")
  string(REGEX MATCH "^[^/]+" tt "${target}")
  if(ft STREQUAL "core" AND tt MATCHES "^(server|plugins|tests)$")
    set(${out} "core must not include ${tt}/: the direction is server -> core -> sdk" PARENT_SCOPE)
  elseif(ft STREQUAL "plugins" AND tt MATCHES "^(core|server|tests)$")
    set(${out} "plugins must not include ${tt}/: they are built against the SDK only" PARENT_SCOPE)
  elseif(ft STREQUAL "sdk" AND tt MATCHES "^(core|server|plugins|tests)$")
    set(${out} "sdk must not include ${tt}/: the SDK includes only its own headers" PARENT_SCOPE)
  elseif(ft STREQUAL "server" AND tt MATCHES "^(plugins|tests)$")
    set(${out} "server must not include ${tt}/" PARENT_SCOPE)
  elseif(ft STREQUAL "server" AND tt STREQUAL "server")
    folder_of("${from}" ff)
    folder_of("${target}" tf)
    string(REGEX REPLACE "^server/?" "" fl "${ff}")
    string(REGEX REPLACE "^server/?" "" tl "${tf}")
    list(FIND SERVER_LAYERS "${fl}" fi)
    list(FIND SERVER_LAYERS "${tl}" ti)
    if(fi GREATER_EQUAL 0 AND ti GREATER fi)
      string(REPLACE ";" " < " order "${SERVER_LAYERS}")
      set(${out} "server/${fl} is below server/${tl}: server layers are ${order}" PARENT_SCOPE)
    endif()
  endif()
endfunction()

# ------------------------------------------------------------------------ scanning ----
set(violations 0)
set(n_includes 0)
set(nodes)
foreach(f IN LISTS files)
  folder_of("${f}" from_node)
  list(APPEND nodes "${from_node}")
  file(READ "${ROOT}/${f}" content)
  # A leading newline so that every include line, the first one too, starts with "\n".
  set(content "\n${content}")
  string(REGEX MATCHALL "\n[ \t]*#[ \t]*include[ \t]*(\"[^\"\n]*\"|<[^>\n]*>)" matches "${content}")
  set(pos 0)   # where the search for the next match starts
  set(line 0)  # newlines in content before pos (the leading one makes lines 1-based)
  foreach(m IN LISTS matches)
    string(SUBSTRING "${content}" ${pos} -1 rest)
    string(FIND "${rest}" "${m}" at)
    string(SUBSTRING "${rest}" 0 ${at} skipped)
    string(REGEX REPLACE "[^\n]" "" nl "${skipped}")
    string(LENGTH "${nl}" skipped_lines)
    math(EXPR line "${line} + ${skipped_lines} + 1")  # + the match's own leading newline
    string(LENGTH "${m}" mlen)
    math(EXPR pos "${pos} + ${at} + ${mlen}")

    string(REGEX MATCH "include[ \t]*([\"<])([^\">\n]*)" _ "${m}")
    set(delim "${CMAKE_MATCH_1}")
    set(written "${CMAKE_MATCH_2}")
    resolve_include("${f}" "${delim}" "${written}" target)
    if(target STREQUAL "")
      continue()
    endif()
    math(EXPR n_includes "${n_includes} + 1")
    folder_of("${target}" to_node)

    set(excepted FALSE)
    foreach(e IN LISTS exceptions)
      string(REPLACE "|" ";" ep "${e}")
      list(GET ep 0 efile)
      list(GET ep 1 efolder)
      string(FIND "${target}/" "${efolder}/" at_prefix)
      if(f STREQUAL efile AND at_prefix EQUAL 0)
        set(excepted TRUE)
        list(APPEND used_exceptions "${e}")
        message("${f}:${line}: includes ${written} (allowed by exception ${efile} -> ${efolder})")
      endif()
    endforeach()
    if(excepted)
      continue()
    endif()

    rule_broken("${f}" "${target}" why)
    if(NOT why STREQUAL "")
      message("${f}:${line}: includes ${written} (${why})")
      math(EXPR violations "${violations} + 1")
    endif()

    if(NOT to_node STREQUAL from_node)
      set(edge "${from_node}|${to_node}")
      if(NOT DEFINED "edge_files_${edge}")
        list(APPEND "succ_${from_node}" "${to_node}")
        list(APPEND nodes "${to_node}")
      endif()
      list(APPEND "edge_files_${edge}" "${f}:${line}: includes ${written}")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES nodes)
list(SORT nodes)

# ---------------------------------------------------------------- folder cycles ----
# Few folders (tens): the reachability of each by breadth-first search is plenty fast.
foreach(n IN LISTS nodes)
  set(seen)
  set(queue ${succ_${n}})
  while(NOT "${queue}" STREQUAL "")
    list(POP_FRONT queue x)
    if(NOT x IN_LIST seen)
      list(APPEND seen "${x}")
      list(APPEND queue ${succ_${x}})
    endif()
  endwhile()
  set("reach_${n}" ${seen})
endforeach()

set(cycles 0)
set(done)
foreach(n IN LISTS nodes)
  if(n IN_LIST done OR NOT n IN_LIST "reach_${n}")
    continue()
  endif()
  # n's strongly connected component: every folder it reaches that reaches it back.
  set(scc "${n}")
  foreach(m IN LISTS "reach_${n}")
    if(NOT m STREQUAL n AND n IN_LIST "reach_${m}")
      list(APPEND scc "${m}")
    endif()
  endforeach()
  list(SORT scc)
  list(APPEND done ${scc})
  math(EXPR cycles "${cycles} + 1")

  # One cycle through n, shortest first (breadth-first inside the component), for the
  # headline; then every include that makes an edge inside the component.
  set(parent_${n} "")
  set(queue "${n}")
  set(visited "${n}")
  set(path "")
  while(NOT "${queue}" STREQUAL "" AND "${path}" STREQUAL "")
    list(POP_FRONT queue x)
    foreach(y IN LISTS "succ_${x}")
      if(NOT y IN_LIST scc)
        continue()
      endif()
      if(y STREQUAL n)
        set(path "${n}")
        set(z "${x}")
        while(NOT z STREQUAL n)
          list(PREPEND path "${z}")
          set(z "${parent_${z}}")
        endwhile()
        list(PREPEND path "${n}")
        break()
      endif()
      if(NOT y IN_LIST visited)
        list(APPEND visited "${y}")
        set("parent_${y}" "${x}")
        list(APPEND queue "${y}")
      endif()
    endforeach()
  endwhile()
  string(REPLACE ";" " -> " path_text "${path}")
  string(REPLACE ";" ", " scc_text "${scc}")
  message("include cycle between folders: ${path_text}")
  foreach(a IN LISTS scc)
    foreach(b IN LISTS "succ_${a}")
      if(b IN_LIST scc)
        foreach(evidence IN LISTS "edge_files_${a}|${b}")
          message("${evidence} (include cycle between folders ${scc_text}: this is ${a} -> ${b})")
          math(EXPR violations "${violations} + 1")
        endforeach()
      endif()
    endforeach()
  endforeach()
endforeach()

# ---------------------------------------------------------------------- summary ----
foreach(e IN LISTS exceptions)
  if(NOT e IN_LIST used_exceptions)
    string(REPLACE "|" " -> " et "${e}")
    message("check_layering: stale exception `${et}` (${EXCEPTIONS}): nothing needs it any more, remove it")
  endif()
endforeach()

if(VERBOSE)
  message("folder graph (folder -> the folders it includes):")
  foreach(n IN LISTS nodes)
    if(DEFINED "succ_${n}")
      set(s ${succ_${n}})
      list(SORT s)
      string(REPLACE ";" ", " st "${s}")
      message("  ${n} -> ${st}")
    endif()
  endforeach()
endif()

list(LENGTH files n_files)
list(LENGTH nodes n_nodes)
if(violations GREATER 0)
  message(FATAL_ERROR "check_layering: ${violations} violation(s) in ${ROOT} "
                      "(${cycles} folder cycle(s)); see the lines above")
endif()
message(STATUS "check_layering: ${n_files} files, ${n_includes} project includes, "
               "${n_nodes} folders: no forbidden include, no folder cycle")
