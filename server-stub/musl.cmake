# SPDX-License-Identifier: ISC
# musl for the cross-built stubs.
#
# A static binary linked against glibc is about 600 KiB; against musl the
# stub is 55-70 KiB, and the stub is uploaded on every start.  Debian ships
# musl-dev for the host architecture only (the foreign-architecture
# packages need multiarch, which a build machine should not have to set
# up), so for the other architectures we build musl's libc.a from Debian's
# own source tarball of the same musl version, with Debian's cross
# compilers.  That takes about 15 s per architecture.
#
#   CSHUTTLE_MUSL_TARBALL   a local copy of the tarball (default: download
#                           it from the Debian archive; the hash is checked
#                           either way)

include(ExternalProject)

set(CSHUTTLE_MUSL_VERSION 1.2.3)
set(CSHUTTLE_MUSL_URL
  "http://deb.debian.org/debian/pool/main/m/musl/musl_${CSHUTTLE_MUSL_VERSION}.orig.tar.gz")
set(CSHUTTLE_MUSL_SHA256 7d5b0b6062521e4627e099e4c9dc8248d32a30285e959b7eecaa780cf8cfd4a4)
set(CSHUTTLE_MUSL_TARBALL "" CACHE FILEPATH
  "musl ${CSHUTTLE_MUSL_VERSION} source tarball (default: download from the Debian archive)")

set(_musl_root ${CMAKE_BINARY_DIR}/musl)
set(_musl_src ${_musl_root}/src)
if(CSHUTTLE_MUSL_TARBALL)
  set(_musl_url ${CSHUTTLE_MUSL_TARBALL})
else()
  set(_musl_url ${CSHUTTLE_MUSL_URL})
endif()

# One download and extraction, shared by every architecture (musl builds
# out of tree).
macro(_cshuttle_musl_source)
  if(NOT TARGET musl-src)
    ExternalProject_Add(musl-src
      URL ${_musl_url}
      URL_HASH SHA256=${CSHUTTLE_MUSL_SHA256}
      DOWNLOAD_EXTRACT_TIMESTAMP TRUE
      DOWNLOAD_DIR ${_musl_root}/download
      SOURCE_DIR ${_musl_src}
      PREFIX ${_musl_root}/src-stamp
      CONFIGURE_COMMAND ""
      BUILD_COMMAND ""
      INSTALL_COMMAND ""
      LOG_DOWNLOAD ON)
  endif()
endmacro()

# cshuttle_musl(ARCH TRIPLET CFLAGS OUT_CC): build musl for ARCH with the
# cross compiler TRIPLET-gcc and CFLAGS (a list; they also go into the
# stub's own flags), and set OUT_CC to the musl-gcc wrapper for it.
# Target musl-ARCH is what to depend on.
function(cshuttle_musl arch triplet cflags out_cc)
  _cshuttle_musl_source()
  find_program(_cc_${arch} ${triplet}-gcc)
  if(NOT _cc_${arch})
    message(FATAL_ERROR "${triplet}-gcc not found: install gcc-${triplet} (see "
      "packaging/debian-build-deps.txt) or leave ${arch} out of CSHUTTLE_STUB_ARCHES")
  endif()
  set(prefix ${_musl_root}/${arch})
  string(REPLACE ";" " " cflags_str "-Os ${cflags}")
  ExternalProject_Add(musl-${arch}
    DEPENDS musl-src
    DOWNLOAD_COMMAND ""
    SOURCE_DIR ${_musl_src}
    BINARY_DIR ${_musl_root}/build-${arch}
    PREFIX ${_musl_root}/stamp-${arch}
    INSTALL_DIR ${prefix}
    CONFIGURE_COMMAND ${_musl_src}/configure --target=${triplet}
      CROSS_COMPILE=${triplet}- CC=${_cc_${arch}} --disable-shared --enable-wrapper=gcc
      --prefix=${prefix} --syslibdir=${prefix}/lib "CFLAGS=${cflags_str}"
    BUILD_BYPRODUCTS ${prefix}/bin/musl-gcc ${prefix}/lib/libc.a
    LOG_CONFIGURE ON LOG_BUILD ON LOG_INSTALL ON LOG_OUTPUT_ON_FAILURE ON)
  set(${out_cc} ${prefix}/bin/musl-gcc PARENT_SCOPE)
endfunction()
