# -*- shell-script -*-
#
# Copyright (c) 2026 The ivm authors.  All rights reserved.
# $COPYRIGHT$
#
# Additional copyrights may follow
#
# $HEADER$
# SPDX-License-Identifier: BSD-3-Clause
#

# MCA_opal_btl_ivm_CONFIG([action-if-can-compile], [action-if-cant-compile])
# Built whenever the ivm common library is.
AC_DEFUN([MCA_opal_btl_ivm_CONFIG], [
    AC_CONFIG_FILES([opal/mca/btl/ivm/Makefile])
    AS_IF([test "$opal_common_ivm_built" = "1"], [$1], [$2])
])dnl
