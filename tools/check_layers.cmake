# The layer rule, checked on every build: agent <- fakes <- harness <- reports <- cli. A file may
# include its own layer and the layers below it, never one above. Tests follow the layer they
# test (tests/fakes may include agent/, fakes/, tests/agent/ and tests/fakes/); fuzz/ and bench/
# drive the harness and sit beside cli/ at the top.
#
#   cmake -DROOT=<source dir> -P tools/check_layers.cmake
#
# Prints every offending include as file:line and fails if there is one.
cmake_minimum_required(VERSION 3.22)

if(NOT DEFINED ROOT)
  message(FATAL_ERROR "usage: cmake -DROOT=<source dir> -P check_layers.cmake")
endif()

set(LAYERS agent fakes harness reports cli)

# The rank of a top-level folder, or -1 for one outside the layers (tests/, fuzz/, ...).
function(layer_rank folder out)
  list(FIND LAYERS "${folder}" rank)
  set(${out} ${rank} PARENT_SCOPE)
endfunction()

# The highest layer a file at `rel` (path from ROOT) may include, and whether it may include tests/.
function(allowed_rank rel out_rank out_tests)
  string(REPLACE "/" ";" parts "${rel}")
  list(GET parts 0 top)
  set(tests FALSE)
  if(top STREQUAL "tests")
    list(GET parts 1 top)
    set(tests TRUE)
  endif()
  if(top STREQUAL "fuzz" OR top STREQUAL "bench")
    set(top cli)
  endif()
  layer_rank("${top}" rank)
  set(${out_rank} ${rank} PARENT_SCOPE)
  set(${out_tests} ${tests} PARENT_SCOPE)
endfunction()

file(GLOB_RECURSE sources RELATIVE "${ROOT}"
  "${ROOT}/agent/*" "${ROOT}/fakes/*" "${ROOT}/harness/*" "${ROOT}/reports/*" "${ROOT}/cli/*"
  "${ROOT}/tests/*" "${ROOT}/fuzz/*" "${ROOT}/bench/*")
list(FILTER sources INCLUDE REGEX "\\.(h|cc|inc|in)$")

set(violations 0)
foreach(rel ${sources})
  allowed_rank("${rel}" max_rank may_include_tests)
  if(max_rank EQUAL -1)
    continue()
  endif()
  file(STRINGS "${ROOT}/${rel}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
  # file(STRINGS) gives no line numbers; find them by reading the whole file once.
  file(STRINGS "${ROOT}/${rel}" all_lines)
  foreach(line ${lines})
    string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*\"([^\"]*)\".*$" "\\1" target "${line}")
    string(REPLACE "/" ";" target_parts "${target}")
    list(GET target_parts 0 target_top)
    set(bad "")
    if(target_top STREQUAL "tests")
      list(LENGTH target_parts n)
      if(NOT may_include_tests)
        set(bad "a test header from a library")
      elseif(n GREATER 1)
        list(GET target_parts 1 tested)
        layer_rank("${tested}" tested_rank)
        if(tested_rank GREATER max_rank)
          set(bad "tests of a higher layer")
        endif()
      endif()
    else()
      layer_rank("${target_top}" target_rank)
      if(target_rank GREATER max_rank)
        set(bad "layer '${target_top}' is above this file's layer")
      endif()
    endif()
    if(bad)
      list(FIND all_lines "${line}" index)
      math(EXPR line_no "${index} + 1")
      message(NOTICE "${rel}:${line_no}: includes \"${target}\": ${bad}")
      math(EXPR violations "${violations} + 1")
    endif()
  endforeach()
endforeach()

if(violations GREATER 0)
  message(FATAL_ERROR "${violations} include(s) break the layer rule (agent <- fakes <- harness <- reports <- cli)")
endif()
