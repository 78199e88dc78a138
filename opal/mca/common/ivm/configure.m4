# -*- shell-script -*-
# SPDX-License-Identifier: BSD-3-Clause
#
# ivm: Open MPI components for ranks in different VMs sharing a QEMU
# ivshmem device.
#
# This file is used unchanged in two build modes:
#
#  * in an Open MPI 4.1.x or 5.0.x source tree (the directory is overlaid into
#    <ompi>/opal/mca/common/ivm and Open MPI's own autogen.pl finds it);
#  * in the standalone ivm build, whose configure.ac m4_include()s it
#    (via the generated config/ivm_components.m4) after defining the m4
#    macro IVM_STANDALONE_BUILD.
#
# Everything that differs between the two modes is decided here and
# handed to the Makefile.am files as AC_SUBST variables, so that each
# Makefile.am exists once:
#
#   IVM_LIBOPEN_PAL  how to link libopen-pal
#                      in-tree:    $(OPAL_TOP_BUILDDIR)/opal/lib$(OPAL_LIB_PREFIX)open-pal.la
#                                  (4.1), .../opal/lib$(OPAL_LIB_NAME).la (5.0)
#                      standalone: -L<ompi libdir> -lopen-pal
#   IVM_LIBMPI       how to link libmpi (for ompi/mca/*/ivm components)
#                      in-tree:    $(OMPI_TOP_BUILDDIR)/ompi/lib$(OMPI_LIBMPI_NAME).la
#                      standalone: -L<ompi libdir> -lmpi
#   IVM_COMMON_LA    the libtool library of this common component
#                      (same expression in both modes)
#   IVM_CPPFLAGS     extra preprocessor flags for ivm components
#                      (currently empty in both modes; reserved)
#   libmca_opal_common_ivm_so_version
#                    -version-info of libmca_common_ivm, read from
#                    opal/mca/common/ivm/VERSION
#   IVM_PACKAGE_VERSION
#                    ivm's version (ivm_version in the VERSION file),
#                    also AC_DEFINEd, with IVM_{MAJOR,MINOR,RELEASE}_VERSION
#                    (opal_config.h in-tree, -D flags standalone)
#
# Components that link this library test $opal_common_ivm_built
# (set by MCA_opal_common_ivm_POST_CONFIG below; "1" when the common
# library will really be built) in their own configure.m4.

# MCA_opal_common_ivm_CONFIG([action-if-can-compile],
#                            [action-if-cant-compile])
# ----------------------------------------------------
AC_DEFUN([MCA_opal_common_ivm_CONFIG], [
    AC_CONFIG_FILES([opal/mca/common/ivm/Makefile])
    AC_REQUIRE([AC_CANONICAL_HOST])

    opal_common_ivm_happy=yes

    # ivshmem is a Linux PCI device: the library maps its BAR through
    # sysfs, so only Linux hosts/guests are supported.
    AS_CASE([$host_os],
            [linux*], [],
            [AC_MSG_WARN([common:ivm needs Linux (host_os is $host_os)])
             opal_common_ivm_happy=no])
    AS_IF([test "$opal_common_ivm_happy" = yes],
          [AC_CHECK_HEADERS([sys/mman.h], [], [opal_common_ivm_happy=no])])

    # -version-info of the shared library (one place: the VERSION file)
    AC_MSG_CHECKING([libtool version of libmca_common_ivm])
    libmca_opal_common_ivm_so_version=`sed -n 's/^libmca_opal_common_ivm_so_version=//p' "$srcdir/opal/mca/common/ivm/VERSION" 2>/dev/null`
    AS_IF([test -z "$libmca_opal_common_ivm_so_version"],
          [libmca_opal_common_ivm_so_version=0:0:0])
    AC_MSG_RESULT([$libmca_opal_common_ivm_so_version])
    AC_SUBST([libmca_opal_common_ivm_so_version])

    # ivm's own version (the same VERSION file): the components report it
    # as their MCA component version (ompi_info), ivmctl --version prints
    # it, and the standalone configure.ac names its tarball after it.
    AC_MSG_CHECKING([ivm version])
    IVM_PACKAGE_VERSION=`sed -n 's/^ivm_version=//p' "$srcdir/opal/mca/common/ivm/VERSION" 2>/dev/null`
    AS_IF([echo "$IVM_PACKAGE_VERSION" | grep -Eq '^[[0-9]]+\.[[0-9]]+\.[[0-9]]+$'], [],
          [AC_MSG_ERROR([no ivm_version=MAJOR.MINOR.RELEASE in $srcdir/opal/mca/common/ivm/VERSION])])
    AC_MSG_RESULT([$IVM_PACKAGE_VERSION])
    AC_DEFINE_UNQUOTED([IVM_PACKAGE_VERSION], ["$IVM_PACKAGE_VERSION"],
                       [Version of ivm (opal/mca/common/ivm/VERSION)])
    AC_DEFINE_UNQUOTED([IVM_MAJOR_VERSION], [`echo $IVM_PACKAGE_VERSION | cut -d. -f1`],
                       [Major version of ivm])
    AC_DEFINE_UNQUOTED([IVM_MINOR_VERSION], [`echo $IVM_PACKAGE_VERSION | cut -d. -f2`],
                       [Minor version of ivm])
    AC_DEFINE_UNQUOTED([IVM_RELEASE_VERSION], [`echo $IVM_PACKAGE_VERSION | cut -d. -f3`],
                       [Release version of ivm])
    AC_SUBST([IVM_PACKAGE_VERSION])

    # Mode-dependent link lines (see the header of this file).
    # In a source tree the name of libopen-pal is the one version
    # difference of the build system: 4.1 names it lib$(OPAL_LIB_PREFIX)open-pal
    # (OPAL_LIB_PREFIX, usually empty, also prefixes the common libraries),
    # 5.0 names it lib$(OPAL_LIB_NAME) and has no prefix for the others.
    # IVM_LIB_PREFIX carries the prefix of libmca_common_ivm in all modes.
    m4_ifdef([IVM_STANDALONE_BUILD],
        [IVM_LIBOPEN_PAL="-L$ivm_ompi_libdir -lopen-pal"
         IVM_LIBMPI="-L$ivm_ompi_libdir -lmpi"
         IVM_LIB_PREFIX=],
        [AS_IF([test -n "$OPAL_LIB_NAME"],
               [IVM_LIBOPEN_PAL='$(OPAL_TOP_BUILDDIR)/opal/lib$(OPAL_LIB_NAME).la'
                IVM_LIB_PREFIX=],
               [IVM_LIBOPEN_PAL='$(OPAL_TOP_BUILDDIR)/opal/lib$(OPAL_LIB_PREFIX)open-pal.la'
                IVM_LIB_PREFIX=$OPAL_LIB_PREFIX])
         IVM_LIBMPI='$(OMPI_TOP_BUILDDIR)/ompi/lib$(OMPI_LIBMPI_NAME).la'])
    IVM_COMMON_LA='$(OPAL_TOP_BUILDDIR)/opal/mca/common/ivm/lib$(IVM_LIB_PREFIX)mca_common_ivm.la'
    AC_SUBST([IVM_LIB_PREFIX])
    AC_SUBST([IVM_LIBOPEN_PAL])
    AC_SUBST([IVM_LIBMPI])
    AC_SUBST([IVM_COMMON_LA])
    AC_SUBST([IVM_CPPFLAGS])

    OPAL_SUMMARY_ADD([[Transports]], [[ivshmem between VMs (ivm)]], [$1], [$opal_common_ivm_happy])

    AS_IF([test "$opal_common_ivm_happy" = yes], [$1], [$2])
])dnl

# MCA_opal_common_ivm_POST_CONFIG(should_build)
# ---------------------------------------------
# Called by Open MPI's MCA configury (and by the standalone driver)
# after the CONFIG macro with the final build decision, which also
# accounts for --enable-mca-no-build=common-ivm.
AC_DEFUN([MCA_opal_common_ivm_POST_CONFIG], [
    opal_common_ivm_built=$1
])dnl
