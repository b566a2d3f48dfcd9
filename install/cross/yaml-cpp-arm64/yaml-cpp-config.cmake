# SPDX-License-Identifier: Apache-2.0
# yaml-cpp for the arm64 cross build: the runtime library of libyaml-cpp0.7:arm64 (Multi-Arch:
# same) with the headers of the amd64 libyaml-cpp-dev (architecture-independent). The -dev
# package itself is not Multi-Arch, so its arm64 build cannot be installed next to the amd64
# one, which the native build needs.
set(_bridle_yaml_lib /usr/lib/aarch64-linux-gnu/libyaml-cpp.so.0.7)
if(NOT EXISTS ${_bridle_yaml_lib})
  set(yaml-cpp_FOUND FALSE)
  set(yaml-cpp_NOT_FOUND_MESSAGE "${_bridle_yaml_lib} is missing: run install/deps-arm64.sh")
  return()
endif()
if(NOT TARGET yaml-cpp)
  add_library(yaml-cpp SHARED IMPORTED)
  set_target_properties(yaml-cpp PROPERTIES
      IMPORTED_LOCATION ${_bridle_yaml_lib}
      IMPORTED_SONAME libyaml-cpp.so.0.7)
endif()
set(yaml-cpp_FOUND TRUE)
set(YAML_CPP_LIBRARIES yaml-cpp)
