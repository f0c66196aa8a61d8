# Debian packages, built with CPack from any configured build tree:
#
#   cmake --build build --target package        # or: cd build && cpack -G DEB
#
# gives two packages (Debian file names, version from project()):
#   apiproxy_<version>-1_<arch>.deb        the gateway: /usr/bin/apiproxy, the bundled
#                                          plugins (/usr/lib/apiproxy/plugins), the systemd
#                                          unit and /etc/apiproxy/apiproxy.env (a conffile)
#   apiproxy-sdk-dev_<version>-1_all.deb   the plugin SDK: /usr/include/apiproxy and the CMake
#                                          package /usr/lib/cmake/ApiProxySDK
#
# Install components, and who declares them:
#   runtime  the binary (server/CMakeLists.txt) and the plugins (apiproxy_add_plugin)
#   service  the systemd unit, the configuration file and docs: this file. Only for the
#            package: EXCLUDE_FROM_ALL keeps a plain `cmake --install` (or the Docker
#            image's `--component runtime`) from writing to /etc or /lib/systemd.
#   sdk      headers and CMake package (sdk/CMakeLists.txt)
# runtime + service form the package `apiproxy`; sdk is `apiproxy-sdk-dev`.
#
# Included at the end of the top-level CMakeLists.txt. packaging/test-deb.sh installs both
# packages and checks them.

set(APIPROXY_PACKAGE_MAINTAINER "APIProxy maintainers <maintainers@apiproxy.invalid>"
    CACHE STRING "Maintainer field of the .deb packages")
set(APIPROXY_PACKAGE_HOMEPAGE "https://apiproxy.invalid/"
    CACHE STRING "Homepage field of the .deb packages")
set(APIPROXY_PACKAGE_RELEASE "1" CACHE STRING "Debian revision of the .deb packages")

set(_pkg_dir ${CMAKE_CURRENT_LIST_DIR})
set(_pkg_out ${CMAKE_BINARY_DIR}/packaging)

# --- /etc/apiproxy/apiproxy.env, generated from .env.example ---------------------------
# The same variables and comments, so the two never drift apart. Two changes: a header
# saying where the file is and who may read it, and REDIS_URL pointing at a Redis on this
# host instead of the Compose service name `redis` (which does not resolve outside Compose).
set(_env_example ${PROJECT_SOURCE_DIR}/.env.example)
set_property(DIRECTORY ${PROJECT_SOURCE_DIR} APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${_env_example})
file(READ ${_env_example} _env_text)
string(REGEX REPLACE "\nREDIS_URL=redis://redis:6379/0\n" "\n# REDIS_URL=redis://redis:6379/0\n"
       _env_text "${_env_text}")
string(REGEX REPLACE "\n# REDIS_URL=redis://localhost:6379/0\n" "\nREDIS_URL=redis://localhost:6379/0\n"
       _env_text "${_env_text}")
if(NOT _env_text MATCHES "\nREDIS_URL=redis://localhost:6379/0\n" OR _env_text MATCHES "\nREDIS_URL=redis://redis:")
  # Not fatal (a comment edit in .env.example must not break everyone's build), but the
  # package would be wrong: packaging/test-deb.sh fails on it.
  message(WARNING "packaging: could not switch REDIS_URL to localhost in the packaged apiproxy.env; "
                  "update packaging/Packaging.cmake to match .env.example")
endif()
file(WRITE ${_pkg_out}/apiproxy.env.tmp
"# /etc/apiproxy/apiproxy.env — configuration of the apiproxy service (package apiproxy).
# Generated from the project's .env.example; the systemd unit passes it to the gateway as
# APIPROXY_ENV_FILE. It holds API keys: keep it mode 0640, owner root, group apiproxy.
# dpkg keeps your edits on upgrade. After editing: systemctl restart apiproxy
# (systemctl reload apiproxy only re-scans the plugin directory).
#
${_env_text}")
# Rewrite only on change, so an unchanged file does not make `package` re-run everything.
configure_file(${_pkg_out}/apiproxy.env.tmp ${_pkg_out}/apiproxy.env COPYONLY)

# --- component "service": files that only make sense in the system package ------------
# Absolute destinations: Debian's paths, whatever the install prefix. 0640 so that the file
# in the package is never world-readable; postinst gives group apiproxy read access.
install(FILES ${_pkg_out}/apiproxy.env DESTINATION /etc/apiproxy
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${_pkg_dir}/apiproxy.service DESTINATION /lib/systemd/system
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/apiproxy
        COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${_pkg_dir}/README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/apiproxy
        RENAME README.packaging.md COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/.env.example DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/apiproxy
        RENAME env.example COMPONENT service EXCLUDE_FROM_ALL)

# --- CPack ------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME apiproxy)
set(CPACK_PACKAGE_VENDOR "APIProxy")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT ${APIPROXY_PACKAGE_MAINTAINER})
set(CPACK_PACKAGE_HOMEPAGE_URL ${APIPROXY_PACKAGE_HOMEPAGE})
# The package installs under /usr whatever CMAKE_INSTALL_PREFIX the tree was configured
# with (/usr/local by default): relative destinations land in /usr/bin, /usr/lib/apiproxy/
# plugins, ... The binary finds its plugins at ../lib/apiproxy/plugins beside itself.
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

# One package per component group; sdk has no group, so it gets its own.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ONE_PER_GROUP)
set(CPACK_COMPONENTS_ALL runtime service sdk)

set(CPACK_DEBIAN_PACKAGE_MAINTAINER ${APIPROXY_PACKAGE_MAINTAINER})
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${APIPROXY_PACKAGE_HOMEPAGE})
set(CPACK_DEBIAN_PACKAGE_RELEASE ${APIPROXY_PACKAGE_RELEASE})
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)   # name_version-release_arch.deb

# Package `apiproxy` (group apiproxy = runtime + service).
set(CPACK_DEBIAN_APIPROXY_PACKAGE_NAME apiproxy)
set(CPACK_DEBIAN_APIPROXY_PACKAGE_SECTION net)
set(CPACK_DEBIAN_APIPROXY_DESCRIPTION
"multi-provider, OpenAI-compatible LLM gateway
APIProxy exposes the OpenAI HTTP API on one endpoint and routes each request
to one of several upstream providers (OpenAI, Azure OpenAI, OpenAI-compatible
local servers or any provider adapter plugin) with a pluggable routing
strategy, sticky conversations, failover and rate limits. Instances share
state through Redis.
.
This package contains the gateway, its bundled strategy and provider plugins
and a systemd service configured through /etc/apiproxy/apiproxy.env.")
# Shared-library dependencies come from dpkg-shlibdeps; these are the rest: useradd
# (postinst), the CA certificates every HTTPS upstream is verified against, and the Redis
# the default configuration points at (a recommendation: REDIS_URL may be remote).
set(CPACK_DEBIAN_APIPROXY_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_APIPROXY_PACKAGE_DEPENDS "passwd, ca-certificates")
set(CPACK_DEBIAN_APIPROXY_PACKAGE_RECOMMENDS "redis-server")
set(CPACK_DEBIAN_APIPROXY_PACKAGE_CONTROL_EXTRA
    ${_pkg_dir}/debian/conffiles ${_pkg_dir}/debian/postinst
    ${_pkg_dir}/debian/prerm ${_pkg_dir}/debian/postrm)
# Maintainer scripts 0755 and conffiles 0644 in the control archive, whatever the checkout's modes.
set(CPACK_DEBIAN_APIPROXY_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# Package `apiproxy-sdk-dev` (component sdk): headers and CMake files, nothing compiled.
set(CPACK_DEBIAN_SDK_PACKAGE_NAME apiproxy-sdk-dev)
set(CPACK_DEBIAN_SDK_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_SDK_PACKAGE_ARCHITECTURE all)
set(CPACK_DEBIAN_SDK_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_SDK_PACKAGE_SUGGESTS "cmake (>= 3.20), g++ | clang")
set(CPACK_DEBIAN_SDK_DESCRIPTION
"SDK for APIProxy plugins (headers and CMake package)
Write routing strategies and provider adapters for the APIProxy LLM gateway
as ordinary C++ classes: a C ABI header, header-only C++ helpers, and the
CMake package ApiProxySDK with apiproxy_add_plugin() to build a plugin
the gateway loads from its plugin directory.")

include(CPack)
cpack_add_component_group(apiproxy)
cpack_add_component(runtime DISPLAY_NAME "Gateway and bundled plugins" GROUP apiproxy)
cpack_add_component(service DISPLAY_NAME "systemd service and configuration" GROUP apiproxy)
cpack_add_component(sdk DISPLAY_NAME "Plugin SDK")
