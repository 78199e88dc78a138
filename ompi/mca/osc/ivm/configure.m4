# -*- shell-script -*-
#
# Copyright (c) 2026 The ivm authors.  All rights reserved.
# $COPYRIGHT$
#
# Additional copyrights may follow
#
# $HEADER$
#
# SPDX-License-Identifier: BSD-3-Clause
#

# MCA_ompi_osc_ivm_CONFIG([action-if-can-compile], [action-if-cant-compile])
# Built whenever the ivm common library is.
#
# ompi/op/op.h (for ompi_op_reduce) includes
# ompi/mpi/fortran/base/fint_2_int.h, which Open MPI's installed devel
# headers may lack (Debian's libopenmpi-dev does); standalone builds then
# use coll/ivm's stand-in, in-tree builds always Open MPI's own.
AC_DEFUN([MCA_ompi_osc_ivm_CONFIG], [
    AC_CONFIG_FILES([ompi/mca/osc/ivm/Makefile])
    osc_ivm_compat=0
    m4_ifdef([IVM_STANDALONE_BUILD],
             [AS_IF([test ! -f "$ivm_ompi_pkgincludedir/ompi/mpi/fortran/base/fint_2_int.h"],
                    [osc_ivm_compat=1])])
    AM_CONDITIONAL([OSC_IVM_COMPAT_HEADERS], [test "$osc_ivm_compat" = 1])
    AS_IF([test "$opal_common_ivm_built" = "1"], [$1], [$2])
])dnl
