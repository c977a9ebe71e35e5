# SPDX-License-Identifier: ISC
# Join the stub's sources into one C file (see stub_source in
# client/stubs.h): what the client uploads when no prebuilt stub fits the
# remote and the remote has a C compiler.  Headers first, in dependency
# order; the project's own #include lines are dropped, #line markers keep
# a compiler's messages pointing at the real files.
# Inputs: FILES ("a|b|..."), OUT.
string(REPLACE "|" ";" files "${FILES}")
set(body "/* cshuttle stub, one file: cc -x c -O2 -w -o stub THIS-FILE */\n#define _GNU_SOURCE 1\n")
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  file(READ ${f} text)
  # Drop the project's own includes; everything else stays byte for byte.
  string(REGEX REPLACE "(^|\n)#include \"[a-z_]+\\.h\"" "\\1/* (include dropped) */" text "${text}")
  string(APPEND body "#line 1 \"${name}\"\n${text}")
endforeach()
file(WRITE ${OUT}.tmp "${body}")
file(RENAME ${OUT}.tmp ${OUT})
