dnl -*- shell-script -*-
dnl SPDX-License-Identifier: BSD-3-Clause
dnl
dnl ivm standalone build: the small subset of Open MPI's configury that
dnl the components' configure.m4 / Makefile.am files rely on, plus the
dnl logic to find an installed Open MPI 4.1.x or 5.0.x with devel headers.
dnl
dnl Inside an Open MPI source tree none of this is used: Open MPI's own
dnl configure provides the real macros and variables.
dnl

dnl ---------------------------------------------------------------------
dnl Open MPI macros used by component configure.m4 files.
dnl ---------------------------------------------------------------------

# OPAL_SUMMARY_ADD(section, topic, unused, result)
# Standalone: remember the line and print it in the final summary.
AC_DEFUN([OPAL_SUMMARY_ADD], [
    ivm_summary_lines="$ivm_summary_lines
  $1: $2: $4"
])

# OPAL_VAR_SCOPE_PUSH / OPAL_VAR_SCOPE_POP: variable scoping helpers.
# Standalone: POP unsets the variables that PUSH named.
AC_DEFUN([OPAL_VAR_SCOPE_PUSH], [ivm_scope_vars="$1 $ivm_scope_vars"])
AC_DEFUN([OPAL_VAR_SCOPE_POP], [
    for ivm_scope_var in $ivm_scope_vars; do
        unset $ivm_scope_var
    done
    ivm_scope_vars=
    unset ivm_scope_var
])

dnl ---------------------------------------------------------------------
dnl Component driver (called from the generated config/ivm_components.m4)
dnl ---------------------------------------------------------------------

# IVM_CONFIG_COMPONENT(project, framework, component)
# Mimics Open MPI's MCA_CONFIGURE_M4_CONFIG_COMPONENT: honours
# --enable-mca-no-build=<framework>-<component>, calls the component's
# MCA_<project>_<framework>_<component>_CONFIG with
# [should_build=...] / [should_build=0] actions, then its POST_CONFIG
# (if any) with the final decision, and defines the
# MCA_BUILD_<project>_<framework>_<component>_DSO conditional (always
# true: standalone components are always DSOs).
AC_DEFUN([IVM_CONFIG_COMPONENT], [
    AC_MSG_NOTICE([=== MCA component $2:$3 ($1/mca/$2/$3)])
    should_build=1
    AS_CASE([",$ivm_no_build,"],
            [*",$2-$3,"*|*",$2,"*],
            [AC_MSG_NOTICE([$2:$3 disabled by --enable-mca-no-build])
             should_build=0])
    m4_ifdef([MCA_$1_$2_$3_CONFIG],
             [MCA_$1_$2_$3_CONFIG([should_build=$should_build], [should_build=0])],
             [m4_fatal([MCA_$1_$2_$3_CONFIG macro not found in $1/mca/$2/$3/configure.m4])])
    m4_ifdef([MCA_$1_$2_$3_POST_CONFIG], [MCA_$1_$2_$3_POST_CONFIG([$should_build])])
    AM_CONDITIONAL([MCA_BUILD_$1_$2_$3_DSO], [true])
    ivm_all_subdirs="$ivm_all_subdirs $1/mca/$2/$3"
    AS_IF([test "$should_build" = 1],
          [ivm_build_subdirs="$ivm_build_subdirs $1/mca/$2/$3"
           ivm_built_components="$ivm_built_components $2:$3"],
          [ivm_skipped_components="$ivm_skipped_components $2:$3"])
])

# IVM_CONFIG_COMPONENT_NO_M4(project, framework, component)
# For a component directory with a Makefile.am but no configure.m4
# (Open MPI calls these "no-configure" components): always built.
AC_DEFUN([IVM_CONFIG_COMPONENT_NO_M4], [
    AC_CONFIG_FILES([$1/mca/$2/$3/Makefile])
    AM_CONDITIONAL([MCA_BUILD_$1_$2_$3_DSO], [true])
    ivm_all_subdirs="$ivm_all_subdirs $1/mca/$2/$3"
    ivm_build_subdirs="$ivm_build_subdirs $1/mca/$2/$3"
    ivm_built_components="$ivm_built_components $2:$3"
])

dnl ---------------------------------------------------------------------
dnl Finding Open MPI
dnl ---------------------------------------------------------------------

# IVM_FIND_OMPI
# Sets ivm_ompi_{prefix,bindir,libdir,pkglibdir,pkgdatadir,incdir,
# pkgincludedir,version,major,minor,series} and IVM_OMPI_CPPFLAGS,
# checks the version (4.1.x or 5.0.x; a later 5.x or 6.x only warns,
# untested) and that the devel headers (with PMIx's, for 5.x) and
# libopen-pal are usable.
AC_DEFUN([IVM_FIND_OMPI], [
    AC_ARG_WITH([ompi],
        [AS_HELP_STRING([--with-ompi=DIR],
            [installation prefix of the Open MPI 4.1.x or 5.0.x to build
             against (DIR/bin/ompi_info or DIR/bin/mpicc must exist; its
             devel headers must be installed).  Default: the Open MPI
             whose ompi_info (or mpicc) is first on PATH.])])

    AS_IF([test "$with_ompi" = no],
          [AC_MSG_ERROR([the ivm components cannot be built without Open MPI])])

    ivm_ompi_info=
    ivm_ompi_mpicc=
    AS_CASE(["$with_ompi"],
        [""|yes],
            [AC_PATH_PROG([IVM_OMPI_INFO], [ompi_info])
             AC_PATH_PROG([IVM_OMPI_MPICC], [mpicc])
             ivm_ompi_info=$IVM_OMPI_INFO
             ivm_ompi_mpicc=$IVM_OMPI_MPICC],
        [AC_MSG_CHECKING([for ompi_info in $with_ompi/bin])
         AS_IF([test -x "$with_ompi/bin/ompi_info"],
               [ivm_ompi_info="$with_ompi/bin/ompi_info"
                AC_MSG_RESULT([yes])],
               [AC_MSG_RESULT([no])])
         AC_MSG_CHECKING([for mpicc in $with_ompi/bin])
         AS_IF([test -x "$with_ompi/bin/mpicc"],
               [ivm_ompi_mpicc="$with_ompi/bin/mpicc"
                AC_MSG_RESULT([yes])],
               [AC_MSG_RESULT([no])])])

    AS_IF([test -z "$ivm_ompi_info" && test -z "$ivm_ompi_mpicc"],
          [AC_MSG_ERROR([cannot find Open MPI: neither ompi_info nor mpicc found.
Install Open MPI 4.1.x with its development files (Debian 12: apt-get
install openmpi-bin libopenmpi-dev) or 5.0.x (contrib/ivm-ompi5 builds
one into /opt/openmpi-5.0), put its bin directory on PATH, or use
--with-ompi=DIR.])])

    AS_IF([test -n "$ivm_ompi_info"],
        [# Preferred: ask ompi_info (exact, also for relocated installs)
         ivm_ompi_path() {
             "$ivm_ompi_info" --parsable --path "$[]1" 2>/dev/null | sed -n "s/^path:$[]1://p" | sed -n 1p
         }
         ivm_ompi_prefix=`ivm_ompi_path prefix`
         ivm_ompi_bindir=`ivm_ompi_path bindir`
         ivm_ompi_libdir=`ivm_ompi_path libdir`
         ivm_ompi_pkglibdir=`ivm_ompi_path pkglibdir`
         ivm_ompi_pkgdatadir=`ivm_ompi_path pkgdatadir`
         ivm_ompi_incdir=`ivm_ompi_path incdir`
         ivm_ompi_pkgincludedir=`ivm_ompi_path pkgincludedir`
         ivm_ompi_version=`"$ivm_ompi_info" -V 2>/dev/null | sed -n 's/^Open MPI v//p' | sed -n 1p`],
        [# Fallback: mpicc --showme (pkglibdir/pkgdatadir are guessed)
         ivm_ompi_incdir=
         ivm_ompi_pkgincludedir=
         for ivm_d in `"$ivm_ompi_mpicc" --showme:incdirs`; do
             test -z "$ivm_ompi_incdir" && test -f "$ivm_d/mpi.h" && ivm_ompi_incdir=$ivm_d
             test -z "$ivm_ompi_pkgincludedir" && test -f "$ivm_d/opal_config.h" && ivm_ompi_pkgincludedir=$ivm_d
         done
         ivm_ompi_libdir=`"$ivm_ompi_mpicc" --showme:libdirs | awk '{print $[]1}'`
         # mpicc is usually a symlink to opal_wrapper in Open MPI's bindir
         ivm_d=`readlink -f "$ivm_ompi_mpicc" 2>/dev/null`
         test -n "$ivm_d" || ivm_d=$ivm_ompi_mpicc
         ivm_ompi_bindir=`dirname "$ivm_d"`
         ivm_ompi_prefix=`cd "$ivm_ompi_bindir/.." && pwd`
         ivm_ompi_pkglibdir=$ivm_ompi_libdir/openmpi
         for ivm_d in "$ivm_ompi_libdir"/openmpi*; do
             AS_IF([test -f "$ivm_d/mca_btl_self.so"], [ivm_ompi_pkglibdir=$ivm_d; break])
         done
         ivm_ompi_pkgdatadir=$ivm_ompi_prefix/share/openmpi
         ivm_ompi_version=`"$ivm_ompi_mpicc" --showme:version 2>&1 | sed -n 's/.*Open MPI \([[0-9.]]*[[^ ]]*\).*/\1/p'`
         unset ivm_d])

    AS_IF([test -z "$ivm_ompi_pkgincludedir" && test -n "$ivm_ompi_incdir" && test -f "$ivm_ompi_incdir/openmpi/opal_config.h"],
          [ivm_ompi_pkgincludedir=$ivm_ompi_incdir/openmpi])

    AC_MSG_CHECKING([Open MPI installation prefix])
    AC_MSG_RESULT([$ivm_ompi_prefix])
    AC_MSG_CHECKING([Open MPI libdir])
    AC_MSG_RESULT([$ivm_ompi_libdir])
    AC_MSG_CHECKING([Open MPI component directory (pkglibdir)])
    AC_MSG_RESULT([$ivm_ompi_pkglibdir])
    AC_MSG_CHECKING([Open MPI help file directory (pkgdatadir)])
    AC_MSG_RESULT([$ivm_ompi_pkgdatadir])
    AC_MSG_CHECKING([Open MPI internal header directory])
    AC_MSG_RESULT([$ivm_ompi_pkgincludedir])

    # --- devel headers -------------------------------------------------
    AS_IF([test -z "$ivm_ompi_pkgincludedir" || test ! -f "$ivm_ompi_pkgincludedir/opal_config.h" || test ! -f "$ivm_ompi_pkgincludedir/opal/mca/btl/btl.h"],
          [AC_MSG_ERROR([Open MPI's internal (devel) headers were not found
(no opal_config.h / opal/mca/btl/btl.h under '$ivm_ompi_pkgincludedir').
Debian: apt-get install libopenmpi-dev; from source: configure Open MPI
with --with-devel-headers (contrib/ivm-ompi5 does).])])

    IVM_OMPI_CPPFLAGS="-I$ivm_ompi_incdir -I$ivm_ompi_pkgincludedir"
    ivm_save_CPPFLAGS=$CPPFLAGS
    CPPFLAGS="$CPPFLAGS $IVM_OMPI_CPPFLAGS"

    # --- version -------------------------------------------------------
    AC_COMPUTE_INT([ivm_ompi_major], [OPAL_MAJOR_VERSION], [#include "opal_config.h"],
                   [AC_MSG_ERROR([cannot read OPAL_MAJOR_VERSION from opal_config.h (see config.log)])])
    AC_COMPUTE_INT([ivm_ompi_minor], [OPAL_MINOR_VERSION], [#include "opal_config.h"],
                   [AC_MSG_ERROR([cannot read OPAL_MINOR_VERSION from opal_config.h])])
    AC_COMPUTE_INT([ivm_ompi_release], [OPAL_RELEASE_VERSION], [#include "opal_config.h"],
                   [ivm_ompi_release=0])
    ivm_ompi_hdr_version=$ivm_ompi_major.$ivm_ompi_minor.$ivm_ompi_release
    AC_MSG_CHECKING([Open MPI version (headers)])
    AC_MSG_RESULT([$ivm_ompi_hdr_version])
    AS_IF([test -n "$ivm_ompi_version" && test "$ivm_ompi_version" != "$ivm_ompi_hdr_version"],
          [AC_MSG_WARN([ompi_info/mpicc report Open MPI $ivm_ompi_version but the headers are $ivm_ompi_hdr_version])])
    ivm_ompi_version=$ivm_ompi_hdr_version
    # The series the sources know (common_ivm_ompi_version.h,
    # coll_ivm_version.h, btl_ivm_compat.h); a later one gets 5.0's branch,
    # which is only a guess, hence the warning.
    ivm_ompi_series=$ivm_ompi_major.$ivm_ompi_minor
    AS_CASE([$ivm_ompi_series],
            [4.1|5.0], [],
            [AS_IF([test "$ivm_ompi_major" -ge 5],
                   [AC_MSG_WARN([Open MPI $ivm_ompi_version is untested: ivm supports 4.1.x and 5.0.x])],
                   [AC_MSG_ERROR([Open MPI $ivm_ompi_version is too old: ivm needs 4.1.x or 5.0.x])])])

    # Open MPI 5 calls PMIx directly from its internal headers
    # (opal/util/proc.h, opal/mca/pmix/pmix-internal.h), so <pmix.h> must
    # be found too.  A bundled PMIx installs it next to mpi.h; an external
    # one (Debian's packages) lives in its own directory, which pkg-config
    # knows.
    AS_IF([test "$ivm_ompi_major" -ge 5],
        [AC_MSG_CHECKING([for pmix.h with $IVM_OMPI_CPPFLAGS])
         AC_PREPROC_IFELSE([AC_LANG_SOURCE([[#include <pmix.h>]])],
            [AC_MSG_RESULT([yes])],
            [AC_MSG_RESULT([no])
             ivm_pmix_cflags=`pkg-config --cflags-only-I pmix 2>/dev/null`
             AC_MSG_CHECKING([for pmix.h with pkg-config's $ivm_pmix_cflags])
             CPPFLAGS="$CPPFLAGS $ivm_pmix_cflags"
             AC_PREPROC_IFELSE([AC_LANG_SOURCE([[#include <pmix.h>]])],
                [AC_MSG_RESULT([yes])
                 IVM_OMPI_CPPFLAGS="$IVM_OMPI_CPPFLAGS $ivm_pmix_cflags"],
                [AC_MSG_RESULT([no])
                 AC_MSG_ERROR([Open MPI $ivm_ompi_version's internal headers need <pmix.h>, which
was found neither next to mpi.h nor through pkg-config (install PMIx's
development files, or add its include directory to CPPFLAGS)])])])])

    # --- can we compile a component and link libopen-pal? ---------------
    AC_MSG_CHECKING([whether Open MPI component headers compile])
    AC_COMPILE_IFELSE([AC_LANG_PROGRAM([[
#include "opal_config.h"
#include "opal/mca/btl/btl.h"
#include "opal/mca/mpool/mpool.h"
#include "opal/util/show_help.h"
#include "opal/mca/base/mca_base_var.h"
#if OPAL_MAJOR_VERSION >= 5
#include "opal/mca/pmix/pmix-internal.h"
#else
#include "opal/mca/pmix/pmix.h"
#endif
]], [[return (int) sizeof(mca_btl_base_component_t);]])],
        [AC_MSG_RESULT([yes])],
        [AC_MSG_RESULT([no])
         AC_MSG_ERROR([cannot compile against Open MPI's internal headers with
$IVM_OMPI_CPPFLAGS (see config.log)])])

    # Open MPI's headers inline 128-bit compare-and-swap (opal_lifo.h, under
    # every free list) when its own build found it, which on x86-64 needs
    # -mcx16: Open MPI adds that to its own CFLAGS only, and without it GCC
    # calls __sync_val_compare_and_swap_16, which no library provides.  The
    # DSO would load anyway (lazy binding) and die the first time a thread-
    # safe free list is used.
    AC_COMPUTE_INT([ivm_ompi_sync_cas128], [OPAL_HAVE_SYNC_BUILTIN_CSWAP_INT128+0],
                   [#include "opal_config.h"], [ivm_ompi_sync_cas128=0])
    AC_COMPUTE_INT([ivm_ompi_gcc_cas128], [OPAL_HAVE_GCC_BUILTIN_CSWAP_INT128+0],
                   [#include "opal_config.h"], [ivm_ompi_gcc_cas128=0])
    AS_IF([test "$ivm_ompi_sync_cas128" = 1 || test "$ivm_ompi_gcc_cas128" = 1],
        [AC_MSG_CHECKING([whether 128-bit compare-and-swap links without extra flags])
         AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[
__int128 x = 0, y = 1;
return (int) __sync_val_compare_and_swap(&x, (__int128) 0, y);]])],
            [AC_MSG_RESULT([yes])],
            [AC_MSG_RESULT([no])
             AC_MSG_CHECKING([whether it does with -mcx16])
             ivm_save_CFLAGS=$CFLAGS
             CFLAGS="$CFLAGS -mcx16"
             AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[
__int128 x = 0, y = 1;
return (int) __sync_val_compare_and_swap(&x, (__int128) 0, y);]])],
                [AC_MSG_RESULT([yes])],
                [AC_MSG_RESULT([no])
                 CFLAGS=$ivm_save_CFLAGS
                 AC_MSG_ERROR([Open MPI $ivm_ompi_version uses 128-bit atomics that this compiler cannot
build inline (see config.log)])])])])

    ivm_save_LIBS=$LIBS
    LIBS="-L$ivm_ompi_libdir -lopen-pal $LIBS"
    AC_MSG_CHECKING([whether libopen-pal can be linked from $ivm_ompi_libdir])
    AC_LINK_IFELSE([AC_LANG_PROGRAM([[
#include "opal_config.h"
#include "opal/util/show_help.h"
]], [[return opal_show_help_add_dir("/nonexistent");]])],
        [AC_MSG_RESULT([yes])],
        [AC_MSG_RESULT([no])
         AC_MSG_ERROR([cannot link -lopen-pal from $ivm_ompi_libdir (see config.log)])])
    LIBS=$ivm_save_LIBS
    CPPFLAGS=$ivm_save_CPPFLAGS
    AC_SUBST([IVM_OMPI_CPPFLAGS])
    # for make distcheck's configure (Makefile.am)
    IVM_OMPI_PREFIX=$ivm_ompi_prefix
    AC_SUBST([IVM_OMPI_PREFIX])
])

dnl ---------------------------------------------------------------------
dnl Installation directories
dnl ---------------------------------------------------------------------

# IVM_SETUP_INSTALL_DIRS
# No --prefix (or --prefix equal to Open MPI's): install into Open
# MPI's own directories.  Other --prefix P: P/lib/openmpi,
# P/lib, P/share/openmpi, P/bin; Open MPI then needs mca_component_path.
AC_DEFUN([IVM_SETUP_INSTALL_DIRS], [
    AC_MSG_CHECKING([where to install the ivm components])
    AS_IF([test "x$prefix" = xNONE || test "x$prefix" = "x$ivm_ompi_prefix"],
        [ivm_install_mode=ompi
         prefix=$ivm_ompi_prefix
         AS_IF([test "x$libdir" = 'x${exec_prefix}/lib'], [libdir=$ivm_ompi_libdir])
         AS_IF([test "x$bindir" = 'x${exec_prefix}/bin'], [bindir=$ivm_ompi_bindir])
         opallibdir=$ivm_ompi_pkglibdir
         opaldatadir=$ivm_ompi_pkgdatadir
         AC_MSG_RESULT([into Open MPI's own directories])],
        [ivm_install_mode=prefix
         opallibdir='${libdir}/openmpi'
         opaldatadir='${datadir}/openmpi'
         AC_MSG_RESULT([under $prefix])])
    ompilibdir=$opallibdir
    ortelibdir=$opallibdir
    ompidatadir=$opaldatadir
    ortedatadir=$opaldatadir
    opalincludedir='${includedir}/openmpi'
    ompiincludedir=$opalincludedir
    AC_SUBST([opallibdir])
    AC_SUBST([ompilibdir])
    AC_SUBST([ortelibdir])
    AC_SUBST([opaldatadir])
    AC_SUBST([ompidatadir])
    AC_SUBST([ortedatadir])
    AC_SUBST([opalincludedir])
    AC_SUBST([ompiincludedir])
])

# IVM_SETUP_OMPI_VARIABLES
# The Open MPI build variables the component Makefile.am's use.
AC_DEFUN([IVM_SETUP_OMPI_VARIABLES], [
    ivm_top_builddir=`pwd`
    ivm_top_srcdir=`cd "$srcdir" && pwd`
    OPAL_TOP_BUILDDIR=$ivm_top_builddir
    OPAL_TOP_SRCDIR=$ivm_top_srcdir
    OMPI_TOP_BUILDDIR=$ivm_top_builddir
    OMPI_TOP_SRCDIR=$ivm_top_srcdir
    AC_SUBST([OPAL_TOP_BUILDDIR])
    AC_SUBST([OPAL_TOP_SRCDIR])
    AC_SUBST([OMPI_TOP_BUILDDIR])
    AC_SUBST([OMPI_TOP_SRCDIR])
    OMPI_LIBMPI_NAME=mpi
    AC_SUBST([OMPI_LIBMPI_NAME])
    # Headers are only installed in-tree with --with-devel-headers.
    AM_CONDITIONAL([WANT_INSTALL_HEADERS], [false])

    AC_ARG_ENABLE([mca-no-build],
        [AS_HELP_STRING([--enable-mca-no-build=LIST],
            [comma-separated list of <framework>-<component> pairs
             (e.g. btl-ivm) not to build])])
    AS_CASE(["$enable_mca_no_build"],
            [""|no], [ivm_no_build=],
            [yes], [AC_MSG_ERROR([--enable-mca-no-build needs a list])],
            [ivm_no_build=$enable_mca_no_build])
])

# IVM_PRINT_SUMMARY
AC_DEFUN([IVM_PRINT_SUMMARY], [
    ivm_x_prefix=$prefix
    ivm_x_libdir=`eval eval eval echo "$libdir"`
    ivm_x_bindir=`eval eval eval echo "$bindir"`
    ivm_x_opallibdir=`eval eval eval eval echo "$opallibdir"`
    ivm_x_opaldatadir=`eval eval eval eval echo "$opaldatadir"`
    cat <<EOF

ivm $PACKAGE_VERSION configuration (standalone build)
-----------------------------------------------------
Open MPI:              $ivm_ompi_version ($ivm_ompi_prefix)
Components to build:  $ivm_built_components
EOF
    AS_CASE([$ivm_ompi_series], [4.1|5.0], [],
            [echo "WARNING: Open MPI $ivm_ompi_version is untested (ivm supports 4.1.x and 5.0.x)"])
    AS_IF([test -n "$ivm_skipped_components"],
          [echo "Components skipped:   $ivm_skipped_components"])
    AS_IF([test -n "$ivm_summary_lines"], [echo "Component notes:$ivm_summary_lines"])
    cat <<EOF
Install locations:
  MCA components:      $ivm_x_opallibdir
  libmca_common_ivm:   $ivm_x_libdir
  help files:          $ivm_x_opaldatadir
  ivmctl:              $ivm_x_bindir
EOF
    AS_IF([test "$ivm_install_mode" = prefix],
          [cat <<EOF

NOTE: --prefix=$prefix is not Open MPI's prefix ($ivm_ompi_prefix).
Open MPI will only load the ivm components when its component search
path includes $ivm_x_opallibdir, e.g.

  export OMPI_MCA_mca_component_path=$ivm_x_opallibdir:$ivm_ompi_pkglibdir

(or "mca_component_path = $ivm_x_opallibdir:$ivm_ompi_pkglibdir" in
\$HOME/.openmpi/mca-params.conf).  Open MPI looks for help files only
in $ivm_ompi_pkgdatadir; libmca_common_ivm registers
$ivm_x_opaldatadir with opal_show_help_add_dir() itself (see doc/build.md).
EOF
           ])
    echo
])
