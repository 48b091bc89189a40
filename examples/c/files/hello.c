/* Compiled once per target and optimisation mode so that Zig builds musl's
   libc, its start files and compiler_rt into the cache that zig-runtime keeps. */
#include <stdio.h>
int main(void) { puts("hello"); return 0; }
